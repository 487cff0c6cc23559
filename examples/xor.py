"""XOR three ways: the textbook's exact ReLU network, the sigmoid construction with large
weights, and a small network trained from random initialisation to 100% accuracy.

    python examples/xor.py
"""
from __future__ import annotations

import numpy as np

import symgraph as sg
from symgraph.demo import X, Y, build


def relu_solution() -> np.ndarray:
    """f(x) = w^T max(0, W^T x + c) + b with the textbook's W, c, w, b: exactly XOR."""
    x = sg.var("x", (None, 2))
    W = sg.const(np.array([[1.0, 1.0], [1.0, 1.0]]))
    c = sg.const(np.array([0.0, -1.0]))
    w = sg.const(np.array([1.0, -2.0]))
    with sg.scope("hidden"):
        h = sg.relu(x @ W + c)
    with sg.scope("output"):
        f = h @ w + 0.0
    return f.eval({x: X})


def sigmoid_construction(a: float = 20.0, b: float = 20.0) -> np.ndarray:
    """h1 = s(a(x1 - x2 - 1/2)) marks x1 AND NOT x2, h2 = s(a(x2 - x1 - 1/2)) marks
    x2 AND NOT x1, and h3 = s(b(h1 + h2 - 1/2)) is their OR: a step-like XOR for large a, b."""
    x = sg.var("x", (None, 2))
    W = sg.const(a * np.array([[1.0, -1.0], [-1.0, 1.0]]))
    with sg.scope("hidden"):
        h = sg.sigmoid(x @ W - a / 2)
    with sg.scope("output"):
        out = sg.sigmoid(b * (sg.sum(h, axis=1) - 0.5))
    return out.eval({x: X})


def train(seed: int = 0, hidden: int = 4, steps: int = 500, lr: float = 0.05) -> dict:
    """A 2-hidden-1 tanh network with a sigmoid output, trained by Adam on cross-entropy."""
    # The same network and training step the demo (`python -m symgraph demo`) builds.
    _, _, _, step, predict = build(seed=seed, hidden=hidden, lr=lr)
    losses = [float(step(X, Y)[0]) for _ in range(steps)]
    prob = predict(X)
    return {"losses": losses, "prob": prob, "accuracy": float(np.mean((prob > 0.5) == Y))}


def truth_table(values: np.ndarray, title: str) -> str:
    rows = [title, "x1 x2 | output"]
    rows += [f" {int(p[0])}  {int(p[1])} | {v:.4f}" for p, v in zip(X, values)]
    return "\n".join(rows)


def main(small: bool = False) -> dict:
    relu = relu_solution()
    sig = sigmoid_construction()
    trained = train(steps=300 if small else 1000)
    if not small:
        print(truth_table(relu, "exact ReLU network (textbook weights)"))
        print(truth_table(sig, "sigmoid construction, a = b = 20"))
        print(truth_table(trained["prob"], f"trained from random init: loss "
                          f"{trained['losses'][-1]:.4f}, accuracy {trained['accuracy']:.0%}"))
    return {"relu": relu, "sigmoid": sig, **trained}


if __name__ == "__main__":
    main()
