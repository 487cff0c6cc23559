"""Optimisers compared on one problem: a 1-16-1 tanh network fitting a smooth curve
(full batch, same initial weights for every method). First-order methods take many cheap
steps; Newton-CG takes few expensive ones, each solving with Hessian-vector products.

    python examples/optimizers_compared.py      (writes optimizers.png with matplotlib)
"""
from __future__ import annotations

import time

import numpy as np

import symgraph as sg
from symgraph import nn, optim


def problem(seed: int = 0, width: int = 16, n: int = 64):
    """(loss node, params, inputs, data)."""
    xs = np.linspace(-1.0, 1.0, n)[:, None]
    ys = np.sin(3.0 * xs) + 0.3 * xs ** 2
    model = nn.MLP([1, width, 1], activation="tanh", seed=seed, name="net")
    x, y = sg.var("x", (None, 1)), sg.var("y", (None, 1))
    return nn.mse(model(x), y), model.params(), [x, y], [xs, ys]


FIRST_ORDER = {
    "SGD": lambda: optim.SGD(0.1),
    "Momentum": lambda: optim.Momentum(0.02, 0.9),
    "Nesterov": lambda: optim.Nesterov(0.02, 0.9),
    "AdaGrad": lambda: optim.AdaGrad(0.1),
    "RMSProp": lambda: optim.RMSProp(0.003),
    "Adam": lambda: optim.Adam(0.01),
}


def run_first_order(name: str, steps: int, seed: int) -> dict:
    loss, params, inputs, data = problem(seed)
    step = optim.step_function(inputs, loss, params, FIRST_ORDER[name]())
    start = time.perf_counter()
    curve = [float(step(*data)[0]) for _ in range(steps)]
    elapsed = time.perf_counter() - start
    final = float(sg.function(inputs, loss)(*data))
    return {"curve": curve + [final], "seconds": elapsed}


def run_newton_cg(steps: int, seed: int) -> dict:
    loss, params, inputs, data = problem(seed)
    solver = optim.NewtonCG(loss, params, inputs, cg_iters=30, damping=1e-6)
    start = time.perf_counter()
    curve = [solver.step(*data) for _ in range(steps)]
    elapsed = time.perf_counter() - start
    curve.append(solver.model.loss())
    return {"curve": curve, "seconds": elapsed}


def plot(results: dict, path: str) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, r in results.items():
        ax.plot(np.arange(len(r["curve"])), r["curve"], label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("MSE")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def main(small: bool = False, seed: int = 0) -> dict:
    steps, newton_steps = (300, 15) if small else (3000, 60)
    results = {name: run_first_order(name, steps, seed) for name in FIRST_ORDER}
    results["Newton-CG"] = run_newton_cg(newton_steps, seed)
    if not small:
        print(f"{'method':<10} {'steps':>6} {'final MSE':>12} {'seconds':>8}")
        for name, r in results.items():
            print(f"{name:<10} {len(r['curve']) - 1:>6} {r['curve'][-1]:>12.3e} {r['seconds']:>8.2f}")
        if plot(results, "optimizers.png"):
            print("loss curves: optimizers.png")
    return results


if __name__ == "__main__":
    main()
