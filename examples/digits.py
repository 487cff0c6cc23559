"""Shared data for the digits examples: scikit-learn's bundled 8x8 handwritten digits
(1797 images shipped inside the package, no download), scaled to [0, 1] and split once."""
from __future__ import annotations

import importlib.util
import os

import numpy as np


def _raw() -> tuple[np.ndarray, np.ndarray]:
    """(pixels 0..16, labels) of all 1797 digits."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:   # an optional extra
        raise ImportError("the digits examples need scikit-learn: "
                          "pip install 'symgraph[examples]'")
    # Importing sklearn takes seconds (it loads SciPy); the data is one CSV file inside the
    # package, so read it directly and fall back to the public loader if it ever moves.
    path = os.path.join(os.path.dirname(spec.origin), "datasets", "data", "digits.csv.gz")
    if os.path.exists(path):
        table = np.loadtxt(path, delimiter=",")
        return table[:, :-1], table[:, -1]
    from sklearn.datasets import load_digits
    data = load_digits()
    return data.data, data.target


def load(seed: int = 0, test_fraction: float = 0.2) -> tuple:
    """(X_train, y_train, X_test, y_test): X rows of 64 pixels in [0, 1], integer labels."""
    pixels, labels = _raw()
    X = (pixels / 16.0).astype(np.float64)
    y = labels.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(X))
    n_test = int(round(test_fraction * len(X)))
    test, train = order[:n_test], order[n_test:]
    return X[train], y[train], X[test], y[test]
