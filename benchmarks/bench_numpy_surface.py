"""The NumPy surface against NumPy by hand: einsum chains and linear-algebra gradients.

Two groups of ratios, each symgraph's compiled function over a NumPy reference timed in
the same process, contenders in rotated order each round, medians of per-round ratios:

- einsum chains with three or more operands: ``sg.function`` of ``sg.einsum`` (pairwise
  nodes along ``np.einsum_path``, chosen once at build time) against
  ``np.einsum(..., optimize=True)`` called by hand (target: ratio <= 1.0), and, for
  reference, against ``np.einsum`` with the path precomputed once (``optimize=path``);
- gradients of ``linalg.solve`` and ``linalg.cholesky`` (value and gradient in one call)
  against the hand-written NumPy formula (target: ratio <= 1.3).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_numpy_surface.py [--rounds 15]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Callable

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import symgraph as sg  # noqa: E402

EINSUM_TARGET = 1.0
GRAD_TARGET = 1.3

CHAINS = [
    ("matrix chain", "ij,jk,kl->il", [(64, 256), (256, 256), (256, 8)]),
    ("batched chain", "bij,bjk,bkl->bil", [(32, 32, 64), (32, 64, 64), (32, 64, 8)]),
    ("attention, no softmax", "bhqd,bhkd,bhkv->bhqv", [(4, 4, 64, 32), (4, 4, 64, 32), (4, 4, 64, 32)]),
    ("tensor transform", "ea,fb,abcd,gc,hd->efgh", [(12, 12)] * 2 + [(12, 12, 12, 12)] + [(12, 12)] * 2),
    ("bilinear form", "i,ij,j->", [(300,), (300, 300), (300,)]),
]


def time_once(fn: Callable[[], object], reps: int) -> float:
    start = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - start) / reps


def reps_for(fn: Callable[[], object], budget: float = 0.02) -> int:
    fn()
    t = time_once(fn, 3)
    return max(1, int(budget / max(t, 1e-7)))


def race(contenders: dict[str, Callable[[], object]], reference: str, rounds: int) -> dict:
    """Median over rounds of (time of each contender / time of the reference), contenders in
    rotated order each round."""
    names = list(contenders)
    reps = {n: reps_for(f) for n, f in contenders.items()}
    ratios: dict[str, list[float]] = {n: [] for n in names if n != reference}
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        spent = {n: time_once(contenders[n], reps[n]) for n in order}
        for n in names:
            times[n].append(spent[n])
        for n in ratios:
            ratios[n].append(spent[n] / spent[reference])
    return {"ratio": {n: statistics.median(v) for n, v in ratios.items()},
            "time": {n: statistics.median(v) for n, v in times.items()}}


def einsum_chains(rounds: int, rng: np.random.Generator) -> list[tuple]:
    rows = []
    for label, spec, shapes in CHAINS:
        arrays = [rng.standard_normal(s) for s in shapes]
        xs = [sg.var(f"x{k}", s) for k, s in enumerate(shapes)]
        f = sg.function(xs, sg.einsum(spec, *xs))
        path = np.einsum_path(spec, *arrays, optimize="optimal")[0]
        np.testing.assert_allclose(f(*arrays), np.einsum(spec, *arrays, optimize=True),
                                   rtol=1e-9, atol=1e-9)
        result = race({
            "numpy optimize=True": lambda: np.einsum(spec, *arrays, optimize=True),
            "symgraph": lambda: f(*arrays),
            "numpy precomputed path": lambda: np.einsum(spec, *arrays, optimize=path),
        }, "numpy optimize=True", rounds)
        rows.append((label, spec, result))
    return rows


def _solve_jobs(n: int, k: int, rng: np.random.Generator):
    a = rng.standard_normal((n, n)) + n ** 0.5 * np.eye(n)
    b, w = rng.standard_normal((n, k)), rng.standard_normal((n, k))
    A, B = sg.var("A", (n, n)), sg.var("B", (n, k))
    loss = sg.sum(sg.linalg.solve(A, B) * w)
    f = sg.function([A, B], [loss, *sg.grad(loss, [A, B])])

    def by_hand():
        # X = A^-1 B; B_bar = A^-T W; A_bar = -B_bar X^T
        x = np.linalg.solve(a, b)
        gb = np.linalg.solve(a.T, w)
        return np.sum(x * w), -gb @ x.T, gb

    for got, want in zip(f(a, b), by_hand()):
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-8)
    return {"numpy by hand": by_hand, "symgraph": lambda: f(a, b)}


def _cholesky_jobs(n: int, rng: np.random.Generator):
    m = rng.standard_normal((n, n))
    a = m @ m.T + n * np.eye(n)
    w = rng.standard_normal((n, n))
    A = sg.var("A", (n, n))
    loss = sg.sum(sg.linalg.cholesky(A) * w)
    f = sg.function([A], [loss, sg.grad(loss, A)])
    phi = np.tril(np.ones((n, n))) - 0.5 * np.eye(n)

    def by_hand():
        # S = L^-T Phi(L^T W) L^-1; A_bar = (S + S^T) on the lower triangle, diagonal halved
        L = np.linalg.cholesky(a)
        li = np.linalg.inv(L)
        s = li.T @ (phi * (L.T @ w)) @ li
        return np.sum(L * w), (s + s.T) * phi

    for got, want in zip(f(a), by_hand()):
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-8)
    return {"numpy by hand": by_hand, "symgraph": lambda: f(a)}


def gradients(rounds: int, rng: np.random.Generator) -> list[tuple]:
    rows = []
    for n, k in [(32, 4), (128, 16), (400, 32)]:
        rows.append((f"solve grad n={n} k={k}", race(_solve_jobs(n, k, rng), "numpy by hand", rounds)))
    for n in [32, 128, 400]:
        rows.append((f"cholesky grad n={n}", race(_cholesky_jobs(n, rng), "numpy by hand", rounds)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"einsum chains: symgraph / np.einsum(optimize=True) by hand (target <= {EINSUM_TARGET})")
    for label, spec, result in einsum_chains(args.rounds, rng):
        r = result["ratio"]
        t = result["time"]["numpy optimize=True"]
        mark = "ok" if r["symgraph"] <= EINSUM_TARGET else "MISSED"
        print(f"  {label:24s} {spec:26s} {r['symgraph']:5.2f}  {mark}   "
              f"(precomputed-path NumPy {r['numpy precomputed path']:4.2f}; reference {t * 1e6:8.1f} us)")
    print(f"linalg gradients: symgraph value+grad / NumPy formula by hand (target <= {GRAD_TARGET})")
    for label, result in gradients(args.rounds, rng):
        r = result["ratio"]["symgraph"]
        t = result["time"]["numpy by hand"]
        mark = "ok" if r <= GRAD_TARGET else "MISSED"
        print(f"  {label:26s} {r:5.2f}  {mark}   (reference {t * 1e6:8.1f} us)")


if __name__ == "__main__":
    main()
