"""Training step of the 784-256-256-10 tanh MLP with Adam (batch 128): the compiled
symgraph step (``sg.optim.Adam``) / the same step written by hand in NumPy (in-place
moment updates), float32 and float64; JAX jit in the same rounds when installed.

Adam's update reads and writes three arrays per parameter with about ten elementwise
ops; NumPy makes one pass over memory per op, a fused kernel one pass in all.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_adam_step.py [--rounds 15] [--reps 5]
        [--fusion off|force] [--dtype float32]
"""
from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import symgraph as sg  # noqa: E402
from mlp_common import BATCH, SIZES, batch, initial_params, jax_for, jax_loss, numpy_grads  # noqa: E402
from rounds import run_rounds  # noqa: E402

LR, B1, B2, EPS = 1e-3, 0.9, 0.999, 1e-8
NAMES = ["W1", "b1", "W2", "b2", "W3", "b3"]


def compiled_step(values: list, dtype: str, fusion: str) -> sg.Function:
    x = sg.var("x", (BATCH, SIZES[0]), dtype)
    labels = sg.var("labels", (BATCH,), "int64")
    params = [sg.param(v.copy(), name=n) for v, n in zip(values, NAMES)]
    h = x
    for k in range(0, len(params), 2):
        h = h @ params[k] + params[k + 1]
        if k + 2 < len(params):
            h = sg.tanh(h)
    loss = sg.mean(sg.nn.softmax_cross_entropy(h, labels))
    updates = sg.optim.Adam(LR, B1, B2, EPS).updates(loss, params)
    return sg.function([x, labels], loss, updates=updates, fusion=fusion)


def numpy_step(values: list, dtype: str):
    """What an expert writes by hand: the MLP's gradients, then Adam in place."""
    params = [v.copy() for v in values]
    moments = [np.zeros_like(p) for p in params]
    squares = [np.zeros_like(p) for p in params]
    step = [0]
    b1, b2, one = np.dtype(dtype).type(B1), np.dtype(dtype).type(B2), np.dtype(dtype).type(1)

    def run(x, labels) -> float:
        loss, grads = numpy_grads(params, x, labels)
        step[0] += 1
        t = step[0]
        c1 = np.dtype(dtype).type(1.0 / (1.0 - B1 ** t))
        c2 = np.dtype(dtype).type(1.0 / (1.0 - B2 ** t))
        for w, g, m, v in zip(params, grads, moments, squares):
            m *= b1
            m += (one - b1) * g
            v *= b2
            g *= g
            g *= one - b2
            v += g
            denom = np.sqrt(v * c2)
            denom += EPS
            upd = m * c1
            upd /= denom
            upd *= LR
            w -= upd
        return loss
    return run


def jax_step(values: list, dtype: str):
    found = jax_for(dtype)
    if found is None:
        return None
    jax, jnp = found

    @jax.jit
    def step(state, x, labels):
        ps, ms, vs, t = state
        value, grads = jax.value_and_grad(jax_loss)(ps, x, labels)
        t = t + 1
        ms = [B1 * m + (1 - B1) * g for m, g in zip(ms, grads)]
        vs = [B2 * v + (1 - B2) * g * g for v, g in zip(vs, grads)]
        c1, c2 = 1 / (1 - B1 ** t), 1 / (1 - B2 ** t)
        ps = [p - LR * (m * c1) / (jnp.sqrt(v * c2) + EPS) for p, m, v in zip(ps, ms, vs)]
        return (ps, ms, vs, t), value

    ps = [jnp.asarray(v) for v in values]
    box = [(ps, [jnp.zeros_like(p) for p in ps], [jnp.zeros_like(p) for p in ps],
            jnp.asarray(0.0, dtype))]

    def run(x, labels):
        box[0], value = step(box[0], x, labels)
        return value.block_until_ready()
    return run


def measure(dtype: str, rounds: int, reps: int, fusion: str) -> dict:
    start = initial_params(dtype)
    x, labels = batch(dtype)
    step = compiled_step(start, dtype, fusion)
    hand = numpy_step(start, dtype)
    # the same losses for three steps: they compute the same thing
    for _ in range(3):
        a, b = float(step(x, labels)), hand(x, labels)
        assert abs(a - b) <= 1e-4 * abs(b), (a, b)
    contenders = {"symgraph": lambda: step(x, labels), "numpy": lambda: hand(x, labels)}
    jstep = jax_step(start, dtype)
    if jstep is not None:
        contenders["jax"] = lambda: jstep(x, labels)
    res = run_rounds(contenders, rounds, reps)
    return {"symgraph_ms": res.median("symgraph") * 1e3, "numpy_ms": res.median("numpy") * 1e3,
            "ratio": res.ratio("symgraph", "numpy"),
            "jax": res.ratio("jax", "numpy") if jstep is not None else None,
            "tier": step.report().splitlines()[-1] if fusion != "off" else "numpy"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--dtype", action="append", default=None)
    ap.add_argument("--fusion", default="off", help="off (NumPy tier), force (fused kernels)")
    args = ap.parse_args()
    for dtype in args.dtype or ["float32", "float64"]:
        r = measure(dtype, args.rounds, args.reps, args.fusion)
        print(f"adam_step {dtype} (fusion {args.fusion}): symgraph {r['symgraph_ms']:.3f} ms, "
              f"numpy {r['numpy_ms']:.3f} ms, median ratio {r['ratio']} "
              f"({args.rounds} rounds x {args.reps})")
        if r["jax"] is not None:
            print(f"  jax jit / numpy {r['jax']}")


if __name__ == "__main__":
    main()
