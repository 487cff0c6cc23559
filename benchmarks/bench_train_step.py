"""Training step of the 784-256-256-10 tanh MLP (batch 128, naive softmax cross-entropy,
SGD updates): compiled symgraph step / hand-written NumPy step, float32 and float64.

Both run in one process, in rotated order round by round; the ratio of each round's times
is collected and the median printed with its p10-p90 spread (target <= 1.00).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_train_step.py [--rounds 30] [--reps 5]
        [--fusion off|force]
"""
from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from mlp_common import LR, batch, compiled_step, initial_params, jax_for, jax_loss, numpy_step  # noqa: E402
from rounds import run_rounds  # noqa: E402


def jax_step(values: list, dtype: str):
    """The same step under jax.jit (SGD, params threaded through), or None without JAX."""
    found = jax_for(dtype)
    if found is None:
        return None
    jax, jnp = found

    @jax.jit
    def step(ps, x, labels):
        value, grads = jax.value_and_grad(jax_loss)(ps, x, labels)
        return [p - LR * g for p, g in zip(ps, grads)], value

    state = [[jnp.asarray(v) for v in values]]

    def run(x, labels):
        state[0], value = step(state[0], x, labels)
        return value.block_until_ready()
    return run


def blas_floor(values: list, x, labels):
    """The six matrix products of the NumPy step alone (same shapes, same transposed
    views, same output buffers as the hand-written step would allocate): no implementation
    of this step can take less time than these at NumPy's BLAS."""
    W1, b1, W2, b2, W3, b3 = [v.copy() for v in values]
    a1 = np.tanh(x @ W1 + b1)
    a2 = np.tanh(a1 @ W2 + b2)
    p = a2 @ W3 + b3
    d2, d1 = p @ W3.T, a1.copy()

    def run():
        x @ W1
        a1 @ W2
        a2 @ W3
        p @ W3.T
        d2 @ W2.T
        x.T @ d1
        a1.T @ d2
        a2.T @ p
    return run


def measure(dtype: str, rounds: int, reps: int, **options) -> dict:
    """Median time ratio of the compiled step (built with ``options``) to the NumPy step."""
    start = initial_params(dtype)
    x, labels = batch(dtype)
    step = compiled_step(start, dtype, **options)
    hand = [p.copy() for p in start]
    # Same loss from both on the first step: they compute the same thing.
    a, b = float(step(x, labels)), numpy_step(hand, x, labels)
    assert abs(a - b) <= 1e-4 * abs(b), (a, b)
    contenders = {"symgraph": lambda: step(x, labels),
                   "numpy": lambda: numpy_step(hand, x, labels),
                   "blas floor": blas_floor(start, x, labels)}
    jstep = jax_step(start, dtype)
    if jstep is not None:
        jx, jl = x, labels
        assert abs(float(jstep(jx, jl)) - b) <= 1e-3 * abs(b)
        contenders["jax"] = lambda: jstep(jx, jl)
    res = run_rounds(contenders, rounds, reps)
    ops = sum(1 for n in step.graph if n.inputs)
    return {"dtype": dtype, "symgraph_ms": res.median("symgraph") * 1e3,
            "numpy_ms": res.median("numpy") * 1e3, "ratio": res.ratio("symgraph", "numpy"),
            "nodes": (len(step.user_graph), len(step.graph), ops),
            "floor": res.ratio("blas floor", "numpy"),
            "jax": res.ratio("jax", "numpy") if jstep is not None else None}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--dtype", action="append", default=None)
    ap.add_argument("--fusion", default="off", help="off (NumPy tier), force (fused kernels)")
    args = ap.parse_args()
    for dtype in args.dtype or ["float32", "float64"]:
        r = measure(dtype, args.rounds, args.reps, fusion=args.fusion)
        before, after, ops = r["nodes"]
        print(f"train_step {dtype} (fusion {args.fusion}): symgraph {r['symgraph_ms']:.3f} ms, numpy "
              f"{r['numpy_ms']:.3f} ms, median ratio {r['ratio']} "
              f"({args.rounds} rounds x {args.reps}); nodes {before} -> {after} "
              f"({ops} op nodes)")
        print(f"  blas floor (the matrix products alone) / numpy {r['floor']}")
        if r["jax"] is not None:
            print(f"  jax jit / numpy {r['jax']}")


if __name__ == "__main__":
    main()
