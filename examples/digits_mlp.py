"""An MLP on the 8x8 digits with L2 weight decay and dropout: >= 95% test accuracy.

The whole training step (forward pass with dropout, loss + L2 penalty, gradients and the
Adam update) is one compiled function; the inference graph (no dropout) shares its
parameters.

    python examples/digits_mlp.py
"""
from __future__ import annotations

import os
import sys


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import symgraph as sg  # noqa: E402
from symgraph import nn, optim, train as training  # noqa: E402
import digits  # noqa: E402


def build(hidden: int = 128, dropout: float = 0.2, l2: float = 1e-4, lr: float = 2e-3, seed: int = 0):
    """(model, train step, accuracy function, loss function)."""
    model = nn.MLP([64, hidden, 10], activation="relu", dropout=dropout, seed=seed, name="mlp")
    x, y = sg.var("x", (None, 64)), sg.var("y", (None,), "int64")
    data_loss = nn.softmax_cross_entropy(model(x, training=True), y)
    loss = data_loss + nn.regularizers.l2(model.weights(), l2)
    step = optim.step_function([x, y], loss, model.params(), optim.Adam(lr),
                               extra_updates=model.state_updates())
    logits = model(x, training=False)
    accuracy = sg.function([x, y], nn.accuracy(logits, y))
    eval_loss = sg.function([x, y], nn.softmax_cross_entropy(logits, y))
    return model, step, accuracy, eval_loss


def main(small: bool = False, epochs: int = 0, seed: int = 0) -> dict:
    X_train, y_train, X_test, y_test = digits.load()
    epochs = epochs or (15 if small else 40)
    model, step, accuracy, eval_loss = build(seed=seed)
    history = training.fit(step, [X_train, y_train], epochs=epochs, batch_size=32, seed=seed,
                           validate=lambda: eval_loss(X_test, y_test), progress=not small)
    result = {"train_accuracy": float(accuracy(X_train, y_train)),
              "test_accuracy": float(accuracy(X_test, y_test)), "history": history}
    if not small:
        print(f"train accuracy {result['train_accuracy']:.2%}, "
              f"test accuracy {result['test_accuracy']:.2%} after {epochs} epochs")
        if training.plot_history(history, "digits_mlp_loss.png", "digits MLP"):
            print("loss curve: digits_mlp_loss.png")
    return result


if __name__ == "__main__":
    main()
