"""Cost of derivatives relative to each other on the 784-256-256-10 tanh MLP.

Batch 128, softmax cross-entropy, float32 by default. Times, in one process and
interleaved round by round: the loss; the loss and its gradient; a Hessian-vector product
by each method (loss, gradient and H v from scratch); and ``H.matvec(v)`` of the linearised
operator (``sg.linearize_hvp``), whose forward pass and gradient ran once in ``H.at``.
Prints the median of the per-round ratios against the issue's targets:

    grad / loss <= 2.4     hvp / grad <= 1.3     linearised hvp / grad <= 0.95

It also prints the multiply-adds of the matrix products each compiled graph runs, and the
ratios they alone imply: time follows them closely here (the products are ~80% of every
job), so they are floors no rewrite of the same arithmetic goes below. ``--steps`` times
every step of each compiled program on its own and prints where the time goes.

When JAX is installed it times the same four jobs in JAX (jit) in the same rounds and
prints JAX's own ratios and symgraph's time over JAX's. XLA runs its products on every core
whatever its flags say, so pin the process to one core for a like-for-like comparison:

    OPENBLAS_NUM_THREADS=1 taskset -c 0 python benchmarks/bench_derivatives.py [--dtype float32]
        [--rounds 30] [--steps]
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from typing import Callable

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import symgraph as sg  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rounds import run_rounds  # noqa: E402

SIZES = (784, 256, 256, 10)
BATCH = 128
TARGETS = {"grad/loss": 2.4, "hvp/grad": 1.3, "linearised/grad": 0.95}


def build(dtype: str, rng: np.random.Generator):
    x = sg.var("x", (BATCH, SIZES[0]), dtype)
    labels = sg.var("labels", (BATCH,), "int64")
    params = []
    for k, (fan_in, fan_out) in enumerate(zip(SIZES[:-1], SIZES[1:]), start=1):
        W = (rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)).astype(dtype)
        params += [sg.param(W, name=f"W{k}"), sg.param(np.zeros(fan_out, dtype), name=f"b{k}")]
    h = x
    for k in range(3):
        h = h @ params[2 * k] + params[2 * k + 1]
        if k < 2:
            h = sg.tanh(h)
    loss = -sg.mean(sg.log_softmax(h)[sg.arange(BATCH), labels])
    return x, labels, params, loss


def matmul_macs(graph: sg.Graph) -> int:
    """Multiply-adds of the matrix products in a compiled graph (2-D operands)."""
    total = 0
    for n in graph.nodes:
        if n.op == "matmul":
            a, b = n.inputs
            total += math.prod(a.shape) * (b.shape[-1] if b.ndim > 1 else 1)
    return total


def step_profile(f: sg.Function, args: list, reps: int = 20) -> dict[str, float]:
    """Seconds per call spent in each op, running the compiled schedule one step at a time
    (no in-place writes, so elementwise steps look a little dearer than in ``f`` itself)."""
    sched = f._schedule
    values: dict[int, object] = {}
    for k, n in enumerate(sched.nodes):
        if n.op == "param":
            values[k] = n.payload.value
        elif n.op == "const":
            values[k] = n.payload
    for v, a in zip(f.inputs, args):
        if v.id in sched.slot:
            values[sched.slot[v.id]] = a
    spent: dict[str, float] = {}
    for _ in range(reps):
        for step in sched.steps:
            ins = [values[i] for i in step.args]
            start = time.perf_counter()
            values[step.out] = step.kernel(*ins)
            spent[step.node.op] = spent.get(step.node.op, 0.0) + time.perf_counter() - start
    return {op: t / reps for op, t in sorted(spent.items(), key=lambda kv: -kv[1])}


def jax_jobs(values: list[np.ndarray], X: np.ndarray, Y: np.ndarray,
             V: list[np.ndarray]) -> dict[str, Callable[[], object]]:
    """The same loss, grad, HVP and linearised HVP in JAX (jit, one thread), or {} when JAX
    is not installed; an optional reference in absolute time, never required."""
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                       "intra_op_parallelism_threads=1")
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return {}
    if any(v.dtype == np.float64 for v in values):
        # JAX computes in float32 unless told otherwise, whatever the arrays' dtype.
        jax.config.update("jax_enable_x64", True)

    def loss(ps, x, y):
        h = x
        for k in range(3):
            h = h @ ps[2 * k] + ps[2 * k + 1]
            if k < 2:
                h = jnp.tanh(h)
        return -jnp.mean(jax.nn.log_softmax(h)[jnp.arange(x.shape[0]), y])

    ps = [jnp.asarray(v) for v in values]
    x, y, v = jnp.asarray(X), jnp.asarray(Y), [jnp.asarray(t) for t in V]
    f_loss = jax.jit(loss)
    f_grad = jax.jit(jax.value_and_grad(loss))
    f_hvp = jax.jit(lambda ps, x, y, v: jax.jvp(lambda q: jax.grad(loss)(q, x, y), (ps,), (v,))[1])
    _, lin = jax.linearize(lambda q: jax.grad(loss)(q, x, y), ps)
    f_lin = jax.jit(lin)
    block = jax.block_until_ready
    return {"jax loss": lambda: block(f_loss(ps, x, y)),
            "jax grad": lambda: block(f_grad(ps, x, y)),
            "jax hvp": lambda: block(f_hvp(ps, x, y, v)),
            "jax linearised hvp": lambda: block(f_lin(v))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--steps", action="store_true", help="print time per op of each program")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    x, labels, params, loss = build(args.dtype, rng)
    X = rng.standard_normal((BATCH, SIZES[0])).astype(args.dtype)
    Y = rng.integers(0, SIZES[-1], BATCH)
    vs = [sg.var(f"v{k}", p.shape, p.dtype) for k, p in enumerate(params)]
    V = [rng.standard_normal(p.shape).astype(args.dtype) for p in params]

    f_loss = sg.function([x, labels], loss)
    f_grad = sg.function([x, labels], [loss, *sg.grad(loss, params)])
    f_hvp = {m: sg.function([x, labels, *vs], sg.hvp(loss, params, vs, method=m))
             for m in sg.HVP_METHODS}
    H = sg.linearize_hvp(loss, params, inputs=[x, labels]).at(X, Y)
    # The methods compute the same thing (float32 rounding apart).
    ref = f_hvp["forward_over_reverse"](X, Y, *V)
    for got in [f_hvp["reverse_over_reverse"](X, Y, *V), H.matvec(V)]:
        for a, b in zip(got, ref):
            assert np.allclose(a, b, rtol=1e-3, atol=1e-4 * float(np.abs(b).max() + 1))

    jobs: dict[str, Callable[[], object]] = {
        "loss": lambda: f_loss(X, Y),
        "grad": lambda: f_grad(X, Y),
        "hvp forward_over_reverse": lambda: f_hvp["forward_over_reverse"](X, Y, *V),
        "hvp reverse_over_reverse": lambda: f_hvp["reverse_over_reverse"](X, Y, *V),
        "linearised hvp": lambda: H.matvec(V),
    }
    jobs.update(jax_jobs([p.value for p in params], X, Y, V))
    if "jax grad" in jobs:   # both compute in the same dtype
        import jax
        assert jax.block_until_ready(jobs["jax grad"]())[0].dtype == np.dtype(args.dtype)
    res = run_rounds(jobs, rounds=args.rounds, reps=args.reps)
    pairs = {
        "grad/loss": ("grad", "loss"),
        "hvp(fwd-over-rev)/grad": ("hvp forward_over_reverse", "grad"),
        "hvp(rev-over-rev)/grad": ("hvp reverse_over_reverse", "grad"),
        f"hvp(default={sg.DEFAULT_HVP_METHOD})/grad": (f"hvp {sg.DEFAULT_HVP_METHOD}", "grad"),
        "linearised/grad": ("linearised hvp", "grad"),
    }
    if "jax grad" in jobs:
        pairs.update({
            "jax grad/loss": ("jax grad", "jax loss"),
            "jax hvp/grad": ("jax hvp", "jax grad"),
            "jax linearised/grad": ("jax linearised hvp", "jax grad"),
            "symgraph/jax grad": ("grad", "jax grad"),
            "symgraph/jax hvp": (f"hvp {sg.DEFAULT_HVP_METHOD}", "jax hvp"),
            "symgraph/jax linearised": ("linearised hvp", "jax linearised hvp"),
        })
    times = res.times
    print(f"bench_derivatives {args.dtype}, MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, "
          f"{args.rounds} rounds x {args.reps}, OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS')}")
    for k, ts in times.items():
        print(f"  {k:<28} {statistics.median(ts) * 1e3:8.3f} ms (median)")
    print("  median of per-round ratios (contenders in rotated order each round):")
    for k, (a, b) in pairs.items():
        target = TARGETS.get("hvp/grad" if k.startswith("hvp(default") else k)
        note = f"  target <= {target}" if target else ""
        print(f"  {k:<40} {res.ratio(a, b)}{note}")
    print(f"  graph sizes: loss {len(f_loss.graph)}, grad {len(f_grad.graph)}, "
          + ", ".join(f"hvp {m} {len(f.graph)}" for m, f in f_hvp.items())
          + f", linearised: at {len(H._primal.graph)} + matvec {len(H._tangent.graph)}")
    macs = {"grad": matmul_macs(f_grad.graph), "loss": matmul_macs(f_loss.graph),
            "linearised": matmul_macs(H._tangent.graph),
            **{m: matmul_macs(f.graph) for m, f in f_hvp.items()}}
    counts = {"grad": f_grad.graph.count("matmul"), "loss": f_loss.graph.count("matmul"),
              "linearised": H._tangent.graph.count("matmul"),
              **{m: f.graph.count("matmul") for m, f in f_hvp.items()}}
    print("  matrix products (count, million multiply-adds, ratio to grad):")
    for k, m in macs.items():
        print(f"    {k:<26} {counts[k]:3d} {m / 1e6:8.1f} M  {m / macs['grad']:6.3f}")
    if args.steps:
        programs = {"grad": (f_grad, [X, Y]), "hvp": (f_hvp[sg.DEFAULT_HVP_METHOD], [X, Y, *V]),
                    "linearised": (H._tangent, [*V, *H._residuals])}
        for k, (f, fargs) in programs.items():
            spent = step_profile(f, fargs)
            total = sum(spent.values())
            parts = ", ".join(f"{op} {t * 1e3:.3f}" for op, t in list(spent.items())[:8])
            print(f"  steps {k:<10} {total * 1e3:.3f} ms: {parts} (ms)")


if __name__ == "__main__":
    main()
