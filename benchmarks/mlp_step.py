"""Compiled MLP training step vs a hand-written NumPy step, measured side by side.

784-256-256-10 tanh MLP, batch 128, softmax cross-entropy, SGD through ``updates``.
Runs both in one process, interleaved, and prints the median time ratio (symgraph / NumPy).

    OPENBLAS_NUM_THREADS=1 python benchmarks/mlp_step.py [--dtype float32] [--rounds 30]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import symgraph as sg  # noqa: E402

SIZES = (784, 256, 256, 10)
BATCH = 128
LR = 0.01


def init(rng: np.random.Generator, dtype: str) -> list[np.ndarray]:
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        params.append((rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)).astype(dtype))
        params.append(np.zeros(fan_out, dtype))
    return params


def symgraph_step(values: list[np.ndarray], dtype: str) -> sg.Function:
    x = sg.var("x", (BATCH, SIZES[0]), dtype)
    labels = sg.var("labels", (BATCH,), "int64")
    params = [sg.param(v, name=n) for v, n in zip(values, ["W1", "b1", "W2", "b2", "W3", "b3"])]
    W1, b1, W2, b2, W3, b3 = params
    h1 = sg.tanh(x @ W1 + b1)
    h2 = sg.tanh(h1 @ W2 + b2)
    logits = h2 @ W3 + b3
    loss = -sg.mean(sg.log_softmax(logits)[sg.arange(BATCH), labels])
    grads = sg.grad(loss, params)
    return sg.function([x, labels], loss, updates={p: p - LR * g for p, g in zip(params, grads)})


def numpy_step(params: list[np.ndarray], x: np.ndarray, labels: np.ndarray) -> float:
    W1, b1, W2, b2, W3, b3 = params
    n = x.shape[0]
    h1 = np.tanh(x @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    z = h2 @ W3 + b3
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    loss = float(np.mean(np.log(s[:, 0]) - z[np.arange(n), labels]))
    dz = e / s
    dz[np.arange(n), labels] -= 1
    dz /= n
    dW3 = h2.T @ dz
    db3 = dz.sum(axis=0)
    dh2 = (dz @ W3.T) * (1 - h2 * h2)
    dW2 = h1.T @ dh2
    db2 = dh2.sum(axis=0)
    dh1 = (dh2 @ W2.T) * (1 - h1 * h1)
    dW1 = x.T @ dh1
    db1 = dh1.sum(axis=0)
    for p, g in zip(params, (dW1, db1, dW2, db2, dW3, db3)):
        p -= LR * g
    return loss


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dtype", default="float64")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, SIZES[0])).astype(args.dtype)
    labels = rng.integers(0, SIZES[-1], BATCH)
    start = init(rng, args.dtype)
    hand = [p.copy() for p in start]
    step = symgraph_step([p.copy() for p in start], args.dtype)
    # Same first loss from both: the two steps compute the same thing.
    a, b = float(step(x, labels)), numpy_step(hand, x, labels)
    assert abs(a - b) <= 1e-4 * abs(b), (a, b)
    ratios, t_sg, t_np = [], [], []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        for _ in range(args.reps):
            step(x, labels)
        t1 = time.perf_counter()
        for _ in range(args.reps):
            numpy_step(hand, x, labels)
        t2 = time.perf_counter()
        t_sg.append((t1 - t0) / args.reps)
        t_np.append((t2 - t1) / args.reps)
        ratios.append(t_sg[-1] / t_np[-1])
    print(f"mlp_step {args.dtype}: symgraph {statistics.median(t_sg) * 1e3:.3f} ms, "
          f"numpy {statistics.median(t_np) * 1e3:.3f} ms, "
          f"median ratio {statistics.median(ratios):.3f} ({args.rounds} rounds x {args.reps})")
    print(f"compiled graph: {len(step.graph)} nodes")


if __name__ == "__main__":
    main()
