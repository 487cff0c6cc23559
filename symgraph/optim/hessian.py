"""The loss, gradient and Hessian-vector product of a model as functions of one flat
parameter vector: the view second-order methods (Newton, Newton-CG, Lanczos) work in.

The gradient and the Hessian-vector product are graphs compiled once; the data is fixed
with ``set_data`` and each ``hvp(v)`` call runs the compiled product on the current
parameter values. ``sg.hvp`` (forward-over-reverse) is used when it exists; otherwise the
product is built reverse-over-reverse, as grad(<grad loss, v>).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

import symgraph as sg


def hvp_nodes(loss: sg.Node, params: Sequence[sg.Node], vs: Sequence[sg.Node]) -> list[sg.Node]:
    """H v as nodes, one per parameter."""
    if hasattr(sg, "hvp"):
        out = sg.hvp(loss, list(params), list(vs))
        return list(out)
    grads = sg.grad(loss, list(params))
    inner = sg.sum(grads[0] * vs[0])
    for g, v in zip(grads[1:], vs[1:]):
        inner = inner + sg.sum(g * v)
    return sg.grad(inner, list(params))


class FlatModel:
    """Loss, gradient and H v of ``loss`` over ``params`` flattened into one vector."""

    def __init__(self, loss: sg.Node, params: Sequence[sg.Node], inputs: Sequence[sg.Node]) -> None:
        self.params = list(params)
        self.inputs = list(inputs)
        self.sizes = [int(np.prod(p.shape)) for p in self.params]
        self.size = sum(self.sizes)
        grads = sg.grad(loss, self.params)
        self._loss_grad = sg.function(self.inputs, [loss, *grads])
        self._loss = sg.function(self.inputs, loss)
        vs = [sg.var(f"v{i}", p.shape, p.dtype) for i, p in enumerate(self.params)]
        self._hvp = sg.function(self.inputs + vs, hvp_nodes(loss, self.params, vs))
        self.data: tuple = ()

    def set_data(self, *data: Any) -> None:
        """The arrays fed to ``inputs`` by every later call."""
        self.data = data

    def get(self) -> np.ndarray:
        """The current parameter values as one vector."""
        return np.concatenate([np.ravel(p.value) for p in self.params])

    def set(self, flat: np.ndarray) -> None:
        """Write a vector back into the parameters."""
        for p, part in zip(self.params, self.split(flat)):
            p.value = part

    def split(self, flat: np.ndarray) -> list[np.ndarray]:
        """A vector cut into arrays shaped like the parameters."""
        parts, start = [], 0
        for p, n in zip(self.params, self.sizes):
            parts.append(np.reshape(flat[start:start + n], p.shape))
            start += n
        return parts

    def loss(self) -> float:
        return float(self._loss(*self.data))

    def loss_grad(self) -> tuple[float, np.ndarray]:
        value, *grads = self._loss_grad(*self.data)
        return float(value), np.concatenate([np.ravel(g) for g in grads])

    def hvp(self, v: np.ndarray) -> np.ndarray:
        """H v at the current parameters."""
        out = self._hvp(*self.data, *self.split(v))
        return np.concatenate([np.ravel(h) for h in out])

    def hessian(self) -> np.ndarray:
        """The full Hessian, one H e_i per column (small models only), symmetrised."""
        eye = np.eye(self.size)
        H = np.stack([self.hvp(eye[i]) for i in range(self.size)], axis=1)
        return 0.5 * (H + H.T)
