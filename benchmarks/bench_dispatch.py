"""Dispatch overhead: a compiled graph of 10,000 small-tensor ops against the same NumPy
calls written out by hand (as one straight-line Python function).

Prints the median of per-round ratios (rotated order) with the p10-p90 spread (target <= 1.2).

With ``--fused`` it also times the same graph compiled with Numba fusion (``fusion="force"``,
the kernels compiled before timing; the compile time is printed), and JAX jit when JAX is
installed, and prints nanoseconds per op (the issue's target: at most 50 ns/op fused on
shape (8,)).

With ``--native`` (implies ``--fused``) the fused graph is timed twice: on Numba's
dispatchers (built with ``SYMGRAPH_NATIVE_KERNELS=off``) and on the native kernels a warm
disk cache gives a new process (``runtime/fused_native.py``, loaded here from the copies the
Numba build just wrote), to show what calling kernels without Numba costs per call.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_dispatch.py [--ops 10000] [--size 8]
        [--rounds 30] [--fused] [--native] [--no-jax]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import symgraph as sg  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rounds import run_rounds  # noqa: E402

# (symgraph builder, NumPy function name) for the ops the chain cycles through
_CYCLE = [(lambda a, b: a + b, "add"), (lambda a, b: sg.tanh(a), "tanh"),
          (lambda a, b: a * b, "multiply"), (lambda a, b: a - b, "subtract"),
          (lambda a, b: sg.exp(-a), None)]


def jax_chain(n_ops: int):
    """The same chain under jax.jit (float64), or None when JAX is not installed."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    steps = [(lambda a, b: a + b, 1), (lambda a, b: jnp.tanh(a), 1), (lambda a, b: a * b, 1),
             (lambda a, b: a - b, 1), (lambda a, b: jnp.exp(-a), 2)]

    def chain(x, y):
        a, count, k = x, 0, 0
        while count < n_ops:
            fn, cost = steps[k % len(steps)]
            a = fn(a, y)
            count += cost
            k += 1
        return a
    return jax.jit(chain)


def build(n_ops: int, size: int, fusion: str = "off"):
    """The compiled graph and the hand-written function computing the same chain."""
    x, y = sg.var("x", (size,)), sg.var("y", (size,))
    lines = ["def hand(x, y):", "    a = x"]
    a = x
    count = 0
    k = 0
    while count < n_ops:
        make, name = _CYCLE[k % len(_CYCLE)]
        k += 1
        if name is None:                  # two ops: negative, then exp
            a = make(a, y)
            lines.append("    a = np.exp(np.negative(a))")
            count += 2
        else:
            a = make(a, y)
            args = "a" if name == "tanh" else "a, y"
            lines.append(f"    a = np.{name}({args})")
            count += 1
    lines.append("    return a")
    namespace = {"np": np}
    exec("\n".join(lines), namespace)  # noqa: S102 - our own text
    return sg.function([x, y], a, fusion=fusion), namespace["hand"], count


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ops", type=int, default=10_000)
    ap.add_argument("--size", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--fused", action="store_true")
    ap.add_argument("--native", action="store_true")
    ap.add_argument("--no-jax", action="store_true", help="skip JAX (minutes to compile 10k ops)")
    args = ap.parse_args()
    args.fused = args.fused or args.native
    f, hand, count = build(args.ops, args.size)
    rng = np.random.default_rng(0)
    xv, yv = rng.uniform(-1, 1, args.size), rng.uniform(-1, 1, args.size)
    np.testing.assert_allclose(f(xv, yv), hand(xv, yv), rtol=1e-10)
    contenders = {"symgraph": lambda: f(xv, yv), "numpy": lambda: hand(xv, yv)}
    if args.fused:
        start = time.perf_counter()
        if args.native:     # the Numba dispatchers, even when native copies are on disk
            os.environ["SYMGRAPH_NATIVE_KERNELS"] = "off"
        fz, _, _ = build(args.ops, args.size, fusion="force")
        os.environ.pop("SYMGRAPH_NATIVE_KERNELS", None)
        fused_compile = time.perf_counter() - start
        np.testing.assert_allclose(fz(xv, yv), hand(xv, yv), rtol=1e-9)
        contenders["symgraph fused"] = lambda: fz(xv, yv)
        if args.native:
            fn, _, _ = build(args.ops, args.size, fusion="force")
            if fn._tiers.origin != "native cache":   # this build wrote them: load them now
                fn, _, _ = build(args.ops, args.size, fusion="force")
            assert fn._tiers.origin == "native cache", fn.report()
            np.testing.assert_allclose(fn(xv, yv), hand(xv, yv), rtol=1e-9)
            contenders["symgraph native"] = lambda: fn(xv, yv)
        jf = None if args.no_jax else jax_chain(args.ops)
        if jf is not None:
            import jax
            jx, jy = jax.numpy.asarray(xv), jax.numpy.asarray(yv)
            np.testing.assert_allclose(np.asarray(jf(jx, jy)), hand(xv, yv), rtol=1e-9)
            contenders["jax jit"] = lambda: jf(jx, jy).block_until_ready()
    res = run_rounds(contenders, args.rounds)
    print(f"dispatch {count} ops of shape ({args.size},): symgraph "
          f"{res.median('symgraph') * 1e3:.2f} ms, hand-written NumPy "
          f"{res.median('numpy') * 1e3:.2f} ms, median ratio "
          f"{res.ratio('symgraph', 'numpy')} ({args.rounds} rounds, rotated); compiled graph "
          f"{len(f.graph)} nodes, compile {f.compile_time:.2f} s")
    if args.fused:
        print(f"  fused kernels compiled in {fused_compile:.2f} s; {fz.report().splitlines()[-2]}")
        if args.native:
            line = [t for t in fn.report().splitlines() if t.startswith("fusion")][0]
            print(f"  native: {line}")
            print(f"  native / Numba dispatchers, per call: "
                  f"{res.ratio('symgraph native', 'symgraph fused')}")
        for name in contenders:
            print(f"  {name:<16} {res.median(name) / count * 1e9:8.1f} ns/op   ratio to numpy "
                  f"{res.ratio(name, 'numpy')}")


if __name__ == "__main__":
    main()
