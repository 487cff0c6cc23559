"""Losses. Convention: every loss returns the **mean** over examples of a per-example loss
(``reduction="mean"``, the default) or their **sum** (``reduction="sum"``).

The per-example loss of softmax cross-entropy sums over classes; the elementwise losses
(MSE, L1, Huber, binary cross-entropy) treat every output entry as an example, so
``mse(p, y)`` is NumPy's ``np.mean((p - y) ** 2)``.
"""
from __future__ import annotations

from typing import Any

import symgraph as sg
from symgraph.errors import ArgumentError


def _reduce(per_example: sg.Node, reduction: str) -> sg.Node:
    if reduction == "mean":
        return sg.mean(per_example)
    if reduction == "sum":
        return sg.sum(per_example)
    raise ArgumentError(f"reduction must be 'mean' or 'sum', got {reduction!r}")


def _node(x: Any) -> sg.Node:
    return x if isinstance(x, sg.Node) else sg.const(x)


def softmax_cross_entropy(logits: Any, labels: Any, reduction: str = "mean") -> sg.Node:
    """-sum_k y_k log softmax(z)_k per example, from logits (never from probabilities).

    ``labels`` are integer class indices (N,) or rows of class probabilities / one-hot
    (N, K). Integer labels use the fused op ``sparse_softmax_cross_entropy``
    (``logsumexp(z) - z[label]``), probability rows ``log_softmax``: large logits neither
    overflow nor give log(0); the gradient with respect to the logits is ``softmax(z) - y``
    per example.
    """
    logits, labels = _node(logits), _node(labels)
    if labels.dtype.kind in "iu":
        if logits.shape[-1] is None:
            raise sg.ShapeError(f"softmax_cross_entropy: the number of classes must be static, "
                                f"got logits of shape {logits.shape}{logits.where()}")
        if reduction not in ("mean", "sum"):
            return _reduce(logits, reduction)   # raises the usual error
        # One op forward and one backward (p - y, scaled, in one kernel), instead of
        # log_softmax, one_hot, a product, two reductions and their ten-step gradient.
        return sg.sparse_softmax_cross_entropy(logits, labels, reduction)
    if labels.ndim != logits.ndim:
        # Float class indices (N,) would broadcast against the class axis: a wrong loss,
        # silently, when N equals the number of classes.
        raise sg.ShapeError(f"softmax_cross_entropy: labels of shape {labels.shape} and dtype "
                            f"{labels.dtype} for logits of shape {logits.shape}: pass class "
                            f"indices as integers (labels.astype('int64')) or one row of "
                            f"class probabilities per example{labels.where() or logits.where()}")
    logp = sg.log_softmax(logits, axis=-1)
    return _reduce(-sg.sum(labels * logp, axis=-1), reduction)


def binary_cross_entropy(logits: Any, targets: Any, reduction: str = "mean") -> sg.Node:
    """-(y log s(z) + (1 - y) log(1 - s(z))) from logits z, as softplus(z) - y z (stable)."""
    logits, targets = _node(logits), _node(targets)
    return _reduce(sg.softplus(logits) - targets * logits, reduction)


def binary_cross_entropy_probs(p: Any, targets: Any, eps: float = 1e-12,
                               reduction: str = "mean") -> sg.Node:
    """Binary cross-entropy from probabilities, clipped to [eps, 1 - eps] (prefer logits)."""
    p, targets = sg.clip(_node(p), eps, 1.0 - eps), _node(targets)
    return _reduce(-(targets * sg.log(p) + (1.0 - targets) * sg.log(1.0 - p)), reduction)


def mse(pred: Any, target: Any, reduction: str = "mean") -> sg.Node:
    """Squared error (p - y)^2."""
    return _reduce(sg.square(_node(pred) - target), reduction)


def l1(pred: Any, target: Any, reduction: str = "mean") -> sg.Node:
    """Absolute error |p - y|."""
    return _reduce(sg.abs(_node(pred) - target), reduction)


def huber(pred: Any, target: Any, delta: float = 1.0, reduction: str = "mean") -> sg.Node:
    """r^2 / 2 for |r| <= delta, delta (|r| - delta / 2) beyond: quadratic near 0, linear in
    the tails (robust to outliers), with a continuous derivative."""
    r = _node(pred) - target
    a = sg.abs(r)
    return _reduce(sg.where(a <= delta, 0.5 * sg.square(r), delta * (a - 0.5 * delta)), reduction)


def accuracy(logits: Any, labels: Any) -> sg.Node:
    """Fraction of rows whose largest logit is at the label (integer labels). A row whose
    largest value is shared by k classes, the label among them, counts 1/k: what picking
    one of the tied classes at random scores on average (all-zero logits over 3 classes
    give 1/3, not 1)."""
    logits, labels = _node(logits), _node(labels)
    top = sg.cast(sg.equal(logits, sg.max(logits, axis=-1, keepdims=True)), logits.dtype)
    hit = sg.sum(sg.one_hot(labels, logits.shape[-1], dtype=logits.dtype) * top, axis=-1)
    return sg.mean(hit / sg.sum(top, axis=-1))
