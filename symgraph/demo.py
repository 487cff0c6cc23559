"""The main job: build a small network, differentiate it, compile a training step, train
XOR, and print what it learned."""
from __future__ import annotations

import numpy as np

import symgraph as sg


def run_demo(out_dir: str = "out", steps: int = 2000, seed: int = 0) -> int:
    rng = np.random.default_rng(seed)
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    Y = np.array([0, 1, 1, 0], dtype=np.float64)
    x = sg.var("x", shape=(None, 2))
    y = sg.var("y", shape=(None,))
    with sg.scope("hidden"):
        W = sg.param(rng.normal(0, 1, (2, 4)), name="W")
        c = sg.param(np.zeros(4), name="c")
        h = sg.tanh(x @ W + c)
    with sg.scope("output"):
        w = sg.param(rng.normal(0, 1, (4,)), name="w")
        b = sg.param(0.0, name="b")
        p = sg.sigmoid(h @ w + b)
    loss = sg.mean(sg.square(p - y))
    params = [W, c, w, b]
    grads = sg.grad(loss, params)
    step = sg.function([x, y], loss, updates={q: q - 0.5 * g for q, g in zip(params, grads)})
    predict = sg.function([x], p)
    for i in range(steps):
        value = step(X, Y)
        if i % (steps // 4) == 0:
            print(f"step {i:5d}  loss {float(value):.5f}")
    print(f"final loss {float(step(X, Y)):.6f}")
    print("x1 x2 | p(y=1)  class")
    for row, prob in zip(X, predict(X)):
        print(f" {int(row[0])}  {int(row[1])} | {prob:.4f}   {int(prob > 0.5)}")
    print(step.report())
    return 0
