"""Training over data held by a Dask cluster: ``fit`` (``sg.train.fit``'s loop, each step's
gradient computed where the data lives) and the second-order methods on the sharded
Hessian-vector product (Newton-CG, Lanczos).
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import numpy as np

import symgraph as sg
from symgraph.autodiff.higher import DEFAULT_HVP_METHOD
from symgraph.dask.parallel import DataParallel, ShardedHVP
from symgraph.graph import Node


def _step_of(model_or_step: Any, X: Any, y: Any, optimizer: Any, loss: Optional[Callable]):
    """The compiled training step: given, or built from a model, a loss and an optimiser."""
    if isinstance(model_or_step, sg.Function):
        if not model_or_step.updates:
            raise ValueError("symgraph.dask.fit: the step function has no updates; compile "
                             "it with sg.optim.step_function(...) or pass a model and an "
                             "optimizer")
        return model_or_step
    if not hasattr(model_or_step, "params") or optimizer is None:
        raise TypeError(f"symgraph.dask.fit: expected a compiled step (sg.optim.step_function)"
                        f" or a model with an optimizer, got {type(model_or_step).__name__}")
    x = sg.var("x", (None, *X.shape[1:]), X.dtype)
    out = model_or_step(x, training=True)
    if y is None:
        raise ValueError("symgraph.dask.fit: a model needs targets y")
    target = sg.var("y", (None, *y.shape[1:]), y.dtype)
    if loss is None:
        loss = (sg.nn.softmax_cross_entropy if np.dtype(y.dtype).kind in "iu" else sg.nn.mse)
    return sg.optim.step_function([x, target], loss(out, target), model_or_step.params(),
                                  optimizer, extra_updates=model_or_step.state_updates())


def fit(model_or_step: Any, X: Any, y: Any = None, optimizer: Any = None, client: Any = None,
        *, loss: Optional[Callable] = None, epochs: int = 1, batch_size: Optional[int] = None,
        shuffle: bool = True, seed: int = 0, validate: Optional[Callable[[], float]] = None,
        patience: Optional[int] = None, min_delta: float = 0.0, params: Sequence[Node] = (),
        progress: bool = False, log_every: int = 0, checkpoint: Any = None,
        every: Optional[int] = None, resume: bool = False, steps: Optional[int] = None,
        split_every: int = 8) -> Any:
    """``sg.train.fit`` over ``X`` (and ``y``) held by a Dask cluster: same epochs, same
    shuffled mini-batches (drawn from every chunk) for the same ``seed``, same progress
    bar, early stopping and ``History``.

    ``model_or_step`` is a compiled step (``sg.optim.step_function``: its updates are
    applied on the client after each step's gradient has been summed over the chunks), or
    a model (``sg.nn``) trained with ``optimizer`` on ``loss(model(x), y)`` (softmax
    cross-entropy for integer ``y``, MSE otherwise).

    ``checkpoint``, ``every``, ``resume`` and ``steps`` are ``sg.train.fit``'s: the
    checkpoint holds the step's parameters and optimiser state (on the client, where the
    updates happen) and the loop's position.
    """
    step = _step_of(model_or_step, X, y, optimizer, loss)
    data = [X] if y is None else [X, y]
    dp = DataParallel(step.inputs, step.outputs, data, client, updates=step.updates,
                      split_every=split_every)
    n = len(dp.data)
    # sg.train.fit draws the batches: its "data" is the row numbers, so a batch is a list
    # of rows, spread over the chunks, that the cluster evaluates where they live.
    return sg.train.fit(_RowStep(dp, step), [np.arange(n)], epochs=epochs,
                        batch_size=batch_size, shuffle=shuffle, seed=seed, validate=validate,
                        patience=patience, min_delta=min_delta, params=params,
                        progress=progress, log_every=log_every, checkpoint=checkpoint,
                        every=every, resume=resume, steps=steps)


class _RowStep:
    """A training step called with row numbers; ``user_graph`` is the compiled step's, so
    checkpoints find its parameters."""

    def __init__(self, dp: DataParallel, step: sg.Function) -> None:
        self.dp, self.user_graph = dp, step.user_graph

    def __call__(self, rows: np.ndarray) -> list[np.ndarray]:
        whole = len(rows) == len(self.dp.data) and bool(np.all(rows[1:] > rows[:-1]))
        return self.dp(None if whole else rows)   # every row in order: nothing to send


class NewtonCG:
    """Newton-CG over sharded data: ``sg.optim.NewtonCG``'s step, with every gradient,
    Hessian-vector product and line-search loss summed over the cluster's chunks."""

    def __init__(self, loss: Node, params: Sequence[Node], inputs: Sequence[Node], data: Any,
                 client: Any = None, cg_iters: int = 20, damping: float = 0.0,
                 line_search: bool = True, method: str = DEFAULT_HVP_METHOD) -> None:
        self.H = ShardedHVP(loss, params, inputs, data, client, method)
        self._loss = DataParallel(inputs, [loss], self.H.data, self.H.client)
        self.params = list(params)
        self.cg_iters, self.damping, self.line_search = int(cg_iters), float(damping), line_search
        self.last_cg_iters = 0

    def _get(self) -> np.ndarray:
        return self.H.flatten([p.value for p in self.params])

    def _set(self, flat: np.ndarray) -> None:
        for p, part in zip(self.params, self.H.unflatten(flat)):
            p.value = part

    def step(self) -> float:
        """One Newton-CG step; returns the loss before it."""
        H = self.H.at()
        value, g = float(H.value), H.grad
        d, self.last_cg_iters = sg.optim.conjugate_gradient(
            lambda v: H.matvec(v) + self.damping * v, -g, self.cg_iters)
        w = self._get()
        if not self.line_search:
            self._set(w + d)
            return value
        slope = float(g @ d)
        if slope >= 0.0:   # not a descent direction: fall back to the gradient
            d, slope = -g, -float(g @ g)
        rate = 1.0
        for _ in range(30):   # Armijo backtracking, each trial loss summed over the chunks
            self._set(w + rate * d)
            if float(self._loss()[0]) <= value + 1e-4 * rate * slope:
                return value
            rate *= 0.5
        self._set(w)
        return value


def hessian_spectrum(loss: Node, params: Sequence[Node], inputs: Sequence[Node], data: Any,
                     client: Any = None, k: int = 20, seed: int = 0) -> Any:
    """Lanczos on the Hessian of ``loss`` over sharded data, at the current parameters."""
    H = ShardedHVP(loss, params, inputs, data, client).at()
    return sg.optim.lanczos(H.matvec, H.shape[0], k, seed)
