"""``HVPOperator``: the Hessian of a scalar graph at one point, as a linear operator that
Krylov methods (conjugate gradients, Lanczos) can call many times.

It is compiled once into two functions: ``at(*inputs)`` runs the forward pass and the
gradient and keeps every value the Hessian-vector product reads (the residuals); each
``matvec(v)`` then runs only the part of ``H v`` that is linear in ``v``.
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import numpy as np

from symgraph.autodiff.higher import DEFAULT_HVP_METHOD, hvp_graph, split_linear
from symgraph.errors import ArgumentError, ShapeError
from symgraph.graph import Node
from symgraph.passes.pipeline import optimize
from symgraph.runtime.function import function
from symgraph.types import format_shape


class HVPOperator:
    """``H v`` for the Hessian of scalar ``y`` with respect to ``wrt``, at a point.

    ``wrt`` are parameters or inputs (a node or a list); ``inputs`` are the ``sg.var`` nodes
    the graph reads. Vectors are flat (length ``n``, the total size of ``wrt``, in ``wrt``
    order), so ``shape == (n, n)`` as a matrix would have:

        H = sg.linearize_hvp(loss, params, inputs=[x, labels])
        H.at(X, Y)            # forward pass and gradient, once
        H.matvec(v)           # = H @ v, many times, e.g. inside CG or Lanczos
        H.value, H.grad       # the loss and its flat gradient at the point

    The point is the input values given to ``at`` and the values the parameters hold when
    ``at`` runs; call ``at`` again after they change.
    """

    def __init__(self, y: Node, wrt: Node | Sequence[Node], inputs: Sequence[Node] = (),
                 method: str = DEFAULT_HVP_METHOD) -> None:
        self.wrt = (wrt,) if isinstance(wrt, Node) else tuple(wrt)
        self.inputs = tuple(inputs)
        for w in self.wrt:
            if None in w.shape:
                raise ShapeError(f"linearize_hvp: {w.label} has shape {format_shape(w.shape)}; "
                                 f"a linear operator needs static sizes{w.where()}")
        self.method = method
        primal, dirs, hv = hvp_graph(y, self.wrt, method)
        # Optimise before cutting, so merged subexpressions become one residual each and
        # the H v part is not computed twice.
        passed, _ = optimize([*primal, *hv])
        k = len(primal)
        lin = split_linear(passed.outputs[:k], passed.outputs[k:], dirs)
        self.linearization = lin
        self._primal = function(self.inputs, [*lin.primal, *lin.residuals])
        self._tangent = function([*lin.directions, *lin.residual_inputs], list(lin.tangent))
        self._sizes = [math.prod(w.shape) for w in self.wrt]
        n = sum(self._sizes)
        self.shape = (n, n)
        self.dtype = np.result_type(*[w.dtype for w in self.wrt])
        self._residuals: Optional[list[np.ndarray]] = None
        self.value: Optional[np.ndarray] = None
        self.grads: Optional[list[np.ndarray]] = None
        self.matvecs = 0

    # --- the point ---------------------------------------------------------------------
    def at(self, *inputs: Any) -> "HVPOperator":
        """Move to the point given by ``inputs`` (and the parameters' current values)."""
        outs = self._primal(*inputs)
        n_wrt = len(self.wrt)
        self.value = outs[0]
        self.grads = list(outs[1:1 + n_wrt])
        # Residuals are often transposed views (W.T for the backward products); BLAS runs
        # a product ~15% faster on a contiguous right operand, and every matvec reads
        # them, so they are laid out once here. (ascontiguousarray would turn a 0-d array
        # into shape (1,): matrices only.)
        self._residuals = [np.ascontiguousarray(r) if np.ndim(r) > 1 else r
                           for r in outs[1 + n_wrt:]]
        return self

    update = at

    @property
    def grad(self) -> np.ndarray:
        """The gradient at the point, flattened like the operator's vectors."""
        self._need_point()
        return self.flatten(self.grads)

    # --- products ------------------------------------------------------------------------
    def matvec(self, v: Any) -> Any:
        """``H v``. ``v`` flat of length ``n`` gives a flat result; a list of arrays shaped
        like ``wrt`` gives a list."""
        self._need_point()
        flat = not isinstance(v, (list, tuple))
        parts = self.unflatten(v) if flat else [np.asarray(p) for p in v]
        if len(parts) != len(self.wrt):
            raise ArgumentError(f"HVPOperator.matvec: {len(self.wrt)} blocks expected, got {len(parts)}")
        out = self._tangent(*parts, *self._residuals)
        self.matvecs += 1
        return self.flatten(out) if flat else list(out)

    __matmul__ = matvec

    def matmat(self, V: np.ndarray) -> np.ndarray:
        """``H V`` for a matrix whose columns are vectors."""
        V = np.asarray(V)
        return np.stack([self.matvec(V[:, j]) for j in range(V.shape[1])], axis=1)

    def to_dense(self) -> np.ndarray:
        """The whole ``n x n`` Hessian, one product per column (for small problems)."""
        return self.matmat(np.eye(self.shape[0], dtype=self.dtype))

    # --- flat vectors ----------------------------------------------------------------------
    def flatten(self, blocks: Sequence[np.ndarray]) -> np.ndarray:
        """One flat vector from blocks shaped like ``wrt``."""
        return np.concatenate([np.asarray(b).reshape(-1) for b in blocks])

    def unflatten(self, v: Any) -> list[np.ndarray]:
        """Blocks shaped like ``wrt`` from a flat vector."""
        v = np.asarray(v)
        if v.shape != (self.shape[0],):
            raise ShapeError(f"HVPOperator: vectors have shape ({self.shape[0]},), got {v.shape}")
        out, start = [], 0
        for w, size in zip(self.wrt, self._sizes):
            out.append(v[start:start + size].reshape(w.shape))
            start += size
        return out

    def _need_point(self) -> None:
        if self._residuals is None:
            raise RuntimeError("HVPOperator: call .at(*inputs) first to fix the point")

    def __repr__(self) -> str:
        names = ", ".join(w.label for w in self.wrt)
        return f"<HVPOperator d2/d({names}) shape={self.shape} {self.method}>"


def linearize_hvp(y: Node, wrt: Node | Sequence[Node], inputs: Sequence[Node] = (),
                  method: str = DEFAULT_HVP_METHOD) -> HVPOperator:
    """Compile ``H v`` of scalar ``y`` for many ``v`` at one point: see ``HVPOperator``."""
    return HVPOperator(y, wrt, inputs, method)
