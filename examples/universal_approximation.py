"""Universal approximation: one hidden layer of sigmoid units, f(x) = sum_i c_i s(w_i x + b_i),
fitting a smooth function on [0, 1]; the error falls as the layer widens.

    python examples/universal_approximation.py
"""
from __future__ import annotations

import numpy as np

import symgraph as sg
from symgraph import nn, optim, train as training


def target(x: np.ndarray) -> np.ndarray:
    """A smooth function with two bumps of different heights."""
    return np.sin(2 * np.pi * x) + 0.5 * np.cos(5 * np.pi * x)


def fit_width(width: int, steps: int, newton_steps: int, seed: int = 0, n: int = 64) -> float:
    """Train one hidden sigmoid layer of ``width`` units; returns the RMS error on a fine grid."""
    xs = np.linspace(0.0, 1.0, n)[:, None]
    grid = np.linspace(0.0, 1.0, 401)[:, None]
    rng = np.random.default_rng(seed)
    # hidden units start as steps spread over [0, 1]: slope 10, centres uniform
    centres = rng.uniform(0, 1, width)
    hidden = nn.Dense(1, width, "sigmoid", W=np.full((1, width), 10.0), b=-10.0 * centres,
                      name=f"hidden{width}")
    out = nn.Dense(width, 1, seed=rng, name=f"output{width}")
    model = nn.Sequential([hidden, out], name=f"net{width}")
    x, y = sg.var("x", (None, 1)), sg.var("y", (None, 1))
    pred = model(x)
    loss = nn.mse(pred, y)
    step = optim.step_function([x, y], loss, model.params(), optim.Adam(0.05))
    training.fit(step, [xs, target(xs)], epochs=steps, shuffle=False)
    # then polish with Newton-CG: Adam gets close fast, curvature finishes the job
    polish = optim.NewtonCG(loss, model.params(), [x, y], cg_iters=50, damping=1e-8)
    for _ in range(newton_steps):
        polish.step(xs, target(xs))
    err = sg.function([x], pred)(grid) - target(grid)
    return float(np.sqrt(np.mean(err ** 2)))


def main(small: bool = False) -> dict:
    widths = (1, 3, 9) if small else (1, 2, 4, 8, 16)
    steps, newton_steps = (1000, 20) if small else (3000, 100)
    errors = {w: fit_width(w, steps, newton_steps) for w in widths}
    if not small:
        print("width | RMS error on [0, 1]")
        for w, e in errors.items():
            print(f"{w:5d} | {e:.4f}")
    return {"widths": widths, "errors": errors}


if __name__ == "__main__":
    main()
