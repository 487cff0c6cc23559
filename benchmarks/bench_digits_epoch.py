"""One training epoch of the digits MLP (examples/digits_mlp.py): symgraph's compiled step
against a hand-written NumPy loop and, when installed, PyTorch on the CPU.

64-128-10 ReLU MLP, inverted dropout 0.2 on the hidden layer, softmax cross-entropy + L2
(1e-4 / 2 sum W^2), Adam (lr 2e-3), mini-batches of 32 over the 1438 training digits. They
run in one process in rotated order each round; the script prints median epoch times and the
median per-round ratio of each to NumPy with its p10-p90 spread. The NumPy reference draws
the same dropout masks as symgraph (a generator seeded with [seed, step] each step; checked: same losses and
parameters after three steps), so both do the same work; "numpy-1rng" draws its masks from one generator instead, shown
for information (seeding a generator per step costs about 12 us).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_digits_epoch.py [--rounds 15]
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Optional

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "examples"))
sys.path.insert(0, HERE)

import digits  # noqa: E402
import digits_mlp  # noqa: E402
from rounds import run_rounds, summary  # noqa: E402

BATCH, HIDDEN, DROP, L2, LR = 32, 128, 0.2, 1e-4, 2e-3
B1, B2, EPS = 0.9, 0.999, 1e-8


class NumpyMLP:
    """The same model and update written by hand: forward, backward, Adam.

    With ``mask_seed`` the dropout mask of step t is drawn as symgraph's ``dropout_mask``
    draws it, from a generator seeded with ``[mask_seed, t]`` (the same masks, so the same
    work and the same numbers); without, from one generator for the whole run (the cheapest
    way to write dropout by hand, but not reproducible step by step).
    """

    def __init__(self, params: list[np.ndarray], seed: int = 0, drop: float = DROP,
                 mask_seed: Optional[int] = None) -> None:
        self.drop = drop
        self.params = [p.copy() for p in params]
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0
        self.rng = np.random.default_rng(seed)
        self.mask_seed = mask_seed

    def step(self, x: np.ndarray, labels: np.ndarray) -> float:
        W1, b1, W2, b2 = self.params
        n = len(x)
        z1 = x @ W1 + b1
        h = np.maximum(z1, 0)
        rng = self.rng if self.mask_seed is None else \
            np.random.default_rng([self.mask_seed, self.t])
        mask = (rng.random(h.shape) < 1 - self.drop) / (1 - self.drop)
        hd = h * mask
        z = hd @ W2 + b2
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(s[:, 0]) - z[np.arange(n), labels]))
        loss += 0.5 * L2 * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dz = e / s
        dz[np.arange(n), labels] -= 1
        dz /= n
        dW2 = hd.T @ dz + L2 * W2
        db2 = dz.sum(axis=0)
        dh = (dz @ W2.T) * mask * (z1 > 0)
        dW1 = x.T @ dh + L2 * W1
        db1 = dh.sum(axis=0)
        self.t += 1
        for p, g, m, v in zip(self.params, (dW1, db1, dW2, db2), self.m, self.v):
            m *= B1
            m += (1 - B1) * g
            v *= B2
            v += (1 - B2) * g * g
            p -= LR * (m / (1 - B1 ** self.t)) / (np.sqrt(v / (1 - B2 ** self.t)) + EPS)
        return loss


def torch_epoch_fn(params: list[np.ndarray]):
    """A PyTorch CPU epoch of the same model, or None when torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    ps = [torch.tensor(p, requires_grad=True) for p in params]
    opt = torch.optim.Adam(ps, lr=LR, betas=(B1, B2), eps=EPS)
    drop = torch.nn.Dropout(DROP)

    def epoch(X: np.ndarray, y: np.ndarray, order: np.ndarray) -> None:
        Xt, yt = torch.tensor(X), torch.tensor(y)
        W1, b1, W2, b2 = ps
        for start in range(0, len(order), BATCH):
            idx = torch.tensor(order[start:start + BATCH])
            z = drop(torch.relu(Xt[idx] @ W1 + b1)) @ W2 + b2
            loss = torch.nn.functional.cross_entropy(z, yt[idx])
            loss = loss + 0.5 * L2 * ((W1 * W1).sum() + (W2 * W2).sum())
            opt.zero_grad()
            loss.backward()
            opt.step()
    return epoch


def dropout_seed(model) -> int:
    """The seed of the model's one dropout layer (its masks come from [seed, step])."""
    seeds = [layer.seed for layer in model.layers if hasattr(layer, "rate")]
    assert len(seeds) == 1, seeds
    return seeds[0]


def check_same_update(x: np.ndarray, labels: np.ndarray) -> None:
    """Three steps of each give the same losses and parameters: without dropout, and with
    dropout drawing the same masks (so the two loops do the same work)."""
    for drop in (0.0, DROP):
        model, step, _, _ = digits_mlp.build(hidden=HIDDEN, dropout=drop, l2=L2, lr=LR, seed=1)
        hand = NumpyMLP([p.value for p in model.params()], drop=drop,
                        mask_seed=dropout_seed(model) if drop else None)
        for _ in range(3):
            a, b = float(step(x, labels)[0]), hand.step(x, labels)
            assert abs(a - b) <= 1e-10 * abs(b), (drop, a, b)
        for p, q in zip(model.params(), hand.params):
            assert np.allclose(p.value, q, rtol=1e-9, atol=1e-12), (drop, p.label)


def run_epoch(step, X: np.ndarray, y: np.ndarray, order: np.ndarray) -> None:
    for start in range(0, len(order), BATCH):
        idx = order[start:start + BATCH]
        step(X[idx], y[idx])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    X, y, _, _ = digits.load()
    model, step, _, _ = digits_mlp.build(hidden=HIDDEN, dropout=DROP, l2=L2, lr=LR)
    start = [p.value.copy() for p in model.params()]
    # The reference: the same masks as symgraph's (seeded per step), so the same work.
    hand = NumpyMLP(start, mask_seed=dropout_seed(model))
    # For information: masks from one generator, the cheapest hand-written dropout.
    stream = NumpyMLP(start)
    torch_epoch = torch_epoch_fn(start)
    check_same_update(X[:BATCH], y[:BATCH])
    rng = np.random.default_rng(0)
    order = rng.permutation(len(X))

    def new_order(r: int) -> None:
        order[:] = rng.permutation(len(X))

    contenders = {"symgraph": lambda: run_epoch(step, X, y, order),
                  "numpy": lambda: run_epoch(hand.step, X, y, order),
                  "numpy-1rng": lambda: run_epoch(stream.step, X, y, order)}
    if torch_epoch is not None:
        contenders["torch"] = lambda: torch_epoch(X, y, order)
    res = run_rounds(contenders, args.rounds, before_round=new_order)
    steps = -(-len(X) // BATCH)
    print(f"digits MLP epoch ({len(X)} examples, {steps} steps of {BATCH}), median of "
          f"{args.rounds} rounds (rotated order):")
    print(summary(res, reference="numpy"))
    if torch_epoch is None:
        print("  torch      not installed")
    if torch_epoch is not None:
        print(f"  symgraph / torch {res.ratio('symgraph', 'torch')}")
    ref = res.median("numpy")
    print(f"numpy epoch {ref * 1e3:.2f} ms; compiled step graph: {len(step.graph)} nodes")


if __name__ == "__main__":
    main()
