"""One training epoch of the digits CNN (examples/digits_cnn.py) against PyTorch on the CPU
(when installed), and the pooling and convolution kernels on its shapes.

conv 3x3 (1 -> 8 channels, zero padding 1) -> ReLU -> 2x2 max pooling -> dense 128 -> 10,
softmax cross-entropy + L2 (1e-4 / 2 sum K^2 + W^2), Adam (lr 3e-3), float64, mini-batches
of 32 over the 1438 training digits. The contenders run in one process in rotated order
each round; the script prints median times and median per-round ratios with their p10-p90
spread. ``--kernels`` also times each NN kernel on a batch of 32 (max_pool2d forward plus
its backward, target < 150 us; conv2d and its two gradients), with torch's ops as reference.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_digits_cnn.py [--rounds 15] [--kernels]
"""
from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "examples"))
sys.path.insert(0, HERE)

import digits  # noqa: E402
import digits_cnn  # noqa: E402
from rounds import run_rounds, summary  # noqa: E402

from symgraph.ops.registry import get_op  # noqa: E402

BATCH, LR, L2 = 32, 3e-3, 1e-4


def torch_epoch_fn(params: list[np.ndarray]):
    """A PyTorch CPU epoch of the same model, or None when torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    ps = [torch.tensor(p, requires_grad=True) for p in params]
    opt = torch.optim.Adam(ps, lr=LR)
    F = torch.nn.functional

    def epoch(X: np.ndarray, y: np.ndarray, order: np.ndarray) -> None:
        Xt, yt = torch.tensor(X), torch.tensor(y)
        K, b, W, c = ps
        for start in range(0, len(order), BATCH):
            idx = torch.tensor(order[start:start + BATCH])
            h = F.max_pool2d(torch.relu(F.conv2d(Xt[idx], K, b, padding=1)), 2)
            z = h.reshape(len(idx), -1) @ W + c
            loss = F.cross_entropy(z, yt[idx]) + 0.5 * L2 * ((K * K).sum() + (W * W).sum())
            opt.zero_grad()
            loss.backward()
            opt.step()
    return epoch


def kernel_jobs(rng: np.random.Generator) -> dict:
    """Each NN kernel on the CNN's shapes, and torch's equivalents when installed."""
    x = rng.standard_normal((BATCH, 8, 8, 8))
    g = rng.standard_normal((BATCH, 8, 4, 4))
    img = rng.standard_normal((BATCH, 1, 8, 8))
    K = rng.standard_normal((8, 1, 3, 3))
    gc = rng.standard_normal((BATCH, 8, 8, 8))
    k = {name: get_op(name).kernel for name in ("max_pool2d", "max_pool2d_route", "conv2d",
                                                 "conv2d_input_grad", "conv2d_kernel_grad")}
    jobs = {
        "max_pool2d fwd+bwd": lambda: (k["max_pool2d"](x, size=2, stride=2),
                                       k["max_pool2d_route"](x, g, size=2, stride=2)),
        "conv2d": lambda: k["conv2d"](img, K, stride=1, padding=1),
        "conv2d_input_grad": lambda: k["conv2d_input_grad"](gc, K, img, stride=1, padding=1),
        "conv2d_kernel_grad": lambda: k["conv2d_kernel_grad"](img, gc, stride=1, padding=1,
                                                              ksize=(3, 3)),
    }
    try:
        import torch
    except ImportError:
        return jobs
    F = torch.nn.functional
    xt = torch.tensor(x, requires_grad=True)
    gt, it, Kt = torch.tensor(g), torch.tensor(img), torch.tensor(K)

    def pool_torch():
        out = F.max_pool2d(xt, 2)
        return torch.autograd.grad(out, xt, gt)

    jobs["torch max_pool2d fwd+bwd"] = pool_torch
    jobs["torch conv2d"] = lambda: F.conv2d(it, Kt, padding=1)
    return jobs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--kernels", action="store_true")
    args = ap.parse_args()
    X, y, _, _ = digits.load()
    X = X.reshape(-1, 1, 8, 8)
    model, step, _ = digits_cnn.build()
    torch_epoch = torch_epoch_fn([p.value.copy() for p in model.params()])
    rng = np.random.default_rng(0)
    order = rng.permutation(len(X))

    def new_order(r: int) -> None:
        order[:] = rng.permutation(len(X))

    def sg_epoch() -> None:
        for start in range(0, len(order), BATCH):
            idx = order[start:start + BATCH]
            step(X[idx], y[idx])

    contenders = {"symgraph": sg_epoch}
    if torch_epoch is not None:
        contenders["torch"] = lambda: torch_epoch(X, y, order)
    res = run_rounds(contenders, args.rounds, before_round=new_order)
    steps = -(-len(X) // BATCH)
    print(f"digits CNN epoch ({len(X)} examples, {steps} steps of {BATCH}), float64, median "
          f"of {args.rounds} rounds (rotated order):")
    print(summary(res, reference="torch" if torch_epoch is not None else "symgraph"))
    if torch_epoch is None:
        print("  torch not installed")
    print(f"compiled step graph: {len(step.graph)} nodes")
    if args.kernels:
        jobs = kernel_jobs(rng)
        kres = run_rounds(jobs, args.rounds, reps=50)
        print(f"kernels on batch {BATCH} (median of {args.rounds} rounds x 50 calls):")
        print(summary(kres, reference="max_pool2d fwd+bwd", unit=1e6, unit_name="us"))


if __name__ == "__main__":
    main()
