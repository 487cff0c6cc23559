"""Shared data for the digits examples: scikit-learn's bundled 8x8 handwritten digits
(1797 images shipped inside the package, no download), scaled to [0, 1] and split once."""
from __future__ import annotations

import numpy as np


def load(seed: int = 0, test_fraction: float = 0.2) -> tuple:
    """(X_train, y_train, X_test, y_test): X rows of 64 pixels in [0, 1], integer labels."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:   # an optional extra: pip install "symgraph[examples]"
        raise ImportError("the digits examples need scikit-learn: "
                          "pip install 'symgraph[examples]'") from exc
    data = load_digits()
    X = (data.data / 16.0).astype(np.float64)
    y = data.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(X))
    n_test = int(round(test_fraction * len(X)))
    test, train = order[:n_test], order[n_test:]
    return X[train], y[train], X[test], y[test]
