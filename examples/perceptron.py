"""Rosenblatt's perceptron rule on the Boolean functions: it learns AND and OR (linearly
separable) in a few sweeps and never settles on XOR, which no single line separates.

    python examples/perceptron.py
"""
from __future__ import annotations

import numpy as np

from symgraph import optim

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
TARGETS = {"AND": [-1, -1, -1, 1], "OR": [-1, 1, 1, 1], "XOR": [-1, 1, 1, -1]}


def main(small: bool = False, epochs: int = 100) -> dict:
    results = {}
    for name, t in TARGETS.items():
        unit = optim.Perceptron(2, lr=1.0)
        used = unit.fit(X, np.array(t, dtype=np.float64), epochs=epochs)
        results[name] = {"epochs": used, "weights": unit.w.value.copy(), "predictions": unit.predict(X)}
        if not small:
            verdict = f"learned in {used} sweeps" if used > 0 else f"not learned in {epochs} sweeps"
            print(f"{name:<3}: {verdict}; w = {np.round(unit.w.value, 3)} "
                  f"(bias weight first), predictions {unit.predict(X).astype(int).tolist()}")
    return results


if __name__ == "__main__":
    main()
