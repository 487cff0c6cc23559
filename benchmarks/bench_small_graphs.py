"""Whole small graphs as one fused kernel: per-call time of scalar and small-vector
functions differentiated to high order, on the NumPy tier, fused (``fusion="force"``) and
under JAX jit (float64, when JAX is installed).

The cases:

- ``tanh8 d6``: the 6th derivative of tanh applied 8 times to a scalar (768 steps after
  the passes, all 0-d), the graph ``graph_growth.py`` counts;
- ``wave d6``: the 6th derivative of sin(x) exp(-x^2) / (1 + x^2) (scalar);
- ``tanh8 d6 (3,)``: the same tower elementwise on a 3-vector;
- ``vector3 grad+hvp``: f(x) = exp(-|x|^2) sin(sum x) / (1 + |x|^2) on a 3-vector, its
  gradient and a Hessian-vector product (sums, and their gradients' broadcasts);
- ``rosenbrock3 hvp``: the Hessian-vector product of the Rosenbrock function of a
  3-vector (slices ``x[1:]``, ``x[:-1]`` and their gradients, which do not fuse: partly
  fused only).

Each contender runs in rotated order each round (``rounds.py``); the figures are medians of
per-round ratios with their p10-p90 spread. The fused kernels compile before timing (the
time is printed; ``--cache`` names the kernel cache folder, a fresh one by default).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_small_graphs.py [--rounds 15]
        [--only tanh8,wave] [--no-jax]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from typing import Any, Callable, Optional

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import symgraph as sg  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rounds import run_rounds  # noqa: E402


# --- the cases: (symgraph inputs and outputs, the same in JAX, the arguments) ------------
def _tower(x: Any, tanh: Callable) -> Any:
    for _ in range(8):
        x = tanh(x)
    return x


def _wave(x: Any, m: Any) -> Any:
    return m.sin(x) * m.exp(-x * x) / (1.0 + x * x)


def _vector3(x: Any, m: Any) -> Any:
    r = m.sum(x * x)
    return m.exp(-r) * m.sin(m.sum(x)) / (1.0 + r)


def _rosenbrock(x: Any, m: Any) -> Any:
    return m.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def case_tanh8() -> tuple:
    w = sg.var("w", ())
    return [w], [sg.nth_derivative(_tower(w, sg.tanh), w, 6)], (np.float64(0.3),)


def case_wave() -> tuple:
    x = sg.var("x", ())
    return [x], [sg.nth_derivative(_wave(x, sg), x, 6)], (np.float64(0.7),)


def case_tanh8_vector() -> tuple:
    w = sg.var("w", (3,))
    return [w], [sg.nth_derivative(_tower(w, sg.tanh), w, 6)], (np.array([0.3, -0.2, 0.5]),)


def _grad_hvp(fn: Callable) -> Callable:
    def make() -> tuple:
        x, v = sg.var("x", (3,)), sg.var("v", (3,))
        f = fn(x, sg)
        g = sg.grad(f, x)
        return [x, v], [f, g, sg.grad(sg.sum(g * v), x)], (np.array([0.5, 1.2, -0.3]),
                                                          np.array([1.0, 0.5, 0.25]))
    return make


def jax_versions() -> Optional[dict]:
    """The same functions under jax.jit in float64, or None without JAX."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)

    def nth(fn: Callable, n: int) -> Callable:
        for _ in range(n):
            fn = jax.grad(fn)
        return fn

    def elementwise_nth(fn: Callable, n: int) -> Callable:
        # fn is elementwise: the gradient of the sum of its k-th derivative is the next
        for _ in range(n):
            fn = jax.grad(lambda w, fn=fn: jnp.sum(fn(w)))
        return fn

    def grad_hvp(fn: Callable) -> Callable:
        def f(x: Any) -> Any:
            return fn(x, jnp)
        g = jax.grad(f)

        def all3(x: Any, v: Any) -> tuple:
            gx, hv = jax.jvp(g, (x,), (v,))
            return f(x), gx, hv
        return all3
    return {"tanh8 d6": jax.jit(nth(lambda w: _tower(w, jnp.tanh), 6)),
            "wave d6": jax.jit(nth(lambda x: _wave(x, jnp), 6)),
            "tanh8 d6 (3,)": jax.jit(elementwise_nth(lambda w: _tower(w, jnp.tanh), 6)),
            "vector3 grad+hvp": jax.jit(grad_hvp(_vector3)),
            "rosenbrock3 hvp": jax.jit(grad_hvp(_rosenbrock))}


CASES = {"tanh8 d6": case_tanh8, "wave d6": case_wave, "tanh8 d6 (3,)": case_tanh8_vector,
         "vector3 grad+hvp": _grad_hvp(_vector3), "rosenbrock3 hvp": _grad_hvp(_rosenbrock)}


def _fused_ops(f: Any) -> str:
    tiers = f._tiers
    if tiers is None or not tiers.groups:
        return "no group"
    steps = len(f._schedule.steps)
    return (f"{len(tiers.groups)} groups of {sum(g.ops for g in tiers.groups)} of "
            f"{steps} steps")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--only", default="", help="comma-separated prefixes of case names")
    ap.add_argument("--no-jax", action="store_true")
    ap.add_argument("--cache", default="", help="kernel cache folder (default: a fresh one)")
    args = ap.parse_args()
    os.environ["SYMGRAPH_CACHE_DIR"] = args.cache or tempfile.mkdtemp(prefix="sg-small-")
    jaxed = None if args.no_jax else jax_versions()
    wanted = [c.strip() for c in args.only.split(",") if c.strip()]
    print(f"small graphs: per-call time, {args.rounds} rounds in rotated order; ratios are "
          f"medians of per-round ratios (p10-p90)")
    for name, make in CASES.items():
        if wanted and not any(name.startswith(w) for w in wanted):
            continue
        inputs, outputs, values = make()
        ref = sg.function(inputs, outputs, fusion="off")
        start = time.perf_counter()
        fz = sg.function(inputs, outputs, fusion="force")
        compile_s = time.perf_counter() - start
        want = ref(*values)
        for got, w in zip(fz(*values), want):
            np.testing.assert_allclose(got, w, rtol=1e-10)
        contenders = {"numpy tier": lambda: ref(*values), "fused": lambda: fz(*values)}
        if jaxed is not None:
            import jax
            jf = jaxed[name]
            jargs = [jax.numpy.asarray(v) for v in values]
            got = jf(*jargs)
            got = got if isinstance(got, tuple) else (got,)
            for g, w in zip(got, want):
                np.testing.assert_allclose(np.asarray(g), w, rtol=1e-9)
            contenders["jax jit"] = lambda: jax.block_until_ready(jf(*jargs))
        # A contender taking more than 50 ms a call (JAX on the elementwise tower: XLA's
        # fusion recomputes shared values, 1.4 MB of HLO) is timed alone, 3 calls: in the
        # rounds it would leave one call a timing to the others.
        once = {c: _once(fn, ()) for c, fn in contenders.items()}
        alone = {c: statistics.median(_once(contenders[c], ()) for _ in range(3))
                 for c, t in once.items() if t > 0.05}
        contenders = {c: fn for c, fn in contenders.items() if c not in alone}
        reps = max(1, int(0.02 / max(max(once[c] for c in contenders), 1e-7)))
        res = run_rounds(contenders, args.rounds, reps=reps, warmup=3)
        print(f"{name}: {_fused_ops(fz)}, fused compile {compile_s:.2f} s")
        for c, t in alone.items():
            print(f"  {c:<12} {t * 1e6:9.0f} us   (timed alone, median of 3 calls: "
                  f"{t / res.median('numpy tier'):.0f}x the numpy tier's median)")
        for c in contenders:
            line = f"  {c:<12} {res.median(c) * 1e6:9.1f} us"
            if c != "numpy tier":
                line += f"   /numpy tier {res.ratio(c, 'numpy tier')}"
            if c == "fused" and "jax jit" in contenders:
                line += f"   /jax jit {res.ratio('fused', 'jax jit')}"
            print(line)


def _once(f: Callable, values: tuple) -> float:
    f(*values)
    start = time.perf_counter()
    f(*values)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
