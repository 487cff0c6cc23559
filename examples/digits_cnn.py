"""A small CNN on the 8x8 digits: conv 3x3 (8 channels, zero padding) -> ReLU -> 2x2 max
pooling -> dense softmax layer.

    python examples/digits_cnn.py
"""
from __future__ import annotations

import os
import sys


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import symgraph as sg  # noqa: E402
from symgraph import nn, optim, train as training  # noqa: E402
import digits  # noqa: E402


def build(channels: int = 8, lr: float = 3e-3, seed: int = 0):
    """(model, train step, accuracy function)."""
    model = nn.Sequential([
        nn.Conv2D(1, channels, 3, padding="same", activation="relu", seed=seed, name="conv"),
        nn.MaxPool2D(2, name="pool"),
        nn.Flatten(name="flatten"),
        nn.Dense(channels * 16, 10, seed=seed + 1, name="dense"),
    ], name="cnn")
    x, y = sg.var("x", (None, 1, 8, 8)), sg.var("y", (None,), "int64")
    loss = nn.softmax_cross_entropy(model(x, training=True), y)
    loss = loss + nn.regularizers.l2(model.weights(), 1e-4)
    step = optim.step_function([x, y], loss, model.params(), optim.Adam(lr))
    accuracy = sg.function([x, y], nn.accuracy(model(x), y))
    return model, step, accuracy


def main(small: bool = False, seed: int = 0) -> dict:
    X_train, y_train, X_test, y_test = digits.load()
    as_images = lambda X: X.reshape(-1, 1, 8, 8)
    epochs = 6 if small else 20
    model, step, accuracy = build(seed=seed)
    history = training.fit(step, [as_images(X_train), y_train], epochs=epochs, batch_size=32,
                           seed=seed, progress=not small)
    result = {"train_accuracy": float(accuracy(as_images(X_train), y_train)),
              "test_accuracy": float(accuracy(as_images(X_test), y_test)), "history": history}
    if not small:
        print(f"train accuracy {result['train_accuracy']:.2%}, "
              f"test accuracy {result['test_accuracy']:.2%} after {epochs} epochs")
    return result


if __name__ == "__main__":
    main()
