"""The shared shape of every first-order optimiser: updates as graph expressions.

``opt.updates(loss, params)`` differentiates ``loss``, creates the optimiser's state as
parameters (velocities, moment estimates, a step counter) and returns the ``{param: new
value}`` dict for ``sg.function(..., updates=...)``: one call of the compiled function is one
training step, loss, gradients and update together.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

import symgraph as sg
from symgraph.optim.schedules import as_schedule


def like(value: Any, p: sg.Node) -> Any:
    """``value`` (a number or a scalar node) in ``p``'s dtype.

    The step counter is float64, so a schedule's learning rate or Adam's bias correction
    computed from it is a float64 scalar; multiplying a float32 parameter's update by it
    would run the whole update in float64 (twice the memory traffic, then a cast back).
    """
    if isinstance(value, sg.Node) and value.dtype != p.dtype and p.dtype.kind in "fc":
        return sg.cast(value, p.dtype)
    return value


class Optimizer:
    """Base class. Subclasses implement ``rule(p, g, lr, k) -> {node: new value}``."""

    def __init__(self, lr: Any) -> None:
        self.lr = as_schedule(lr)
        self.step_counter: Optional[sg.Node] = None
        self.slots: dict[str, list[sg.Node]] = {}

    def state(self, like: sg.Node, what: str) -> sg.Node:
        """A new zero-filled state parameter shaped like ``like``, named ``like.what``."""
        with sg.scope("optim"):
            node = sg.param(np.zeros(like.shape, like.dtype), name=f"{like.label}.{what}")
        self.slots.setdefault(what, []).append(node)
        return node

    def updates(self, loss: sg.Node, params: Sequence[sg.Node],
                grads: Optional[Sequence[sg.Node]] = None,
                clip_norm: Optional[float] = None) -> dict:
        """``{param or state: new value}`` for one step on ``loss``; with ``clip_norm``,
        the gradients are first clipped together to that global norm."""
        params = list(params)
        if grads is None:
            grads = sg.grad(loss, params)
        if clip_norm is not None:
            from symgraph.optim.clip import clip_by_global_norm
            grads = clip_by_global_norm(grads, clip_norm)
        with sg.scope("optim"):
            k = sg.param(np.float64(0.0), name="step")
        self.step_counter = k
        lr = self.lr(k)
        out: dict = {k: k + 1.0}
        for p, g in zip(params, grads):
            out.update(self.rule(p, g, like(lr, p), k))
        return out

    def rule(self, p: sg.Node, g: sg.Node, lr: Any, k: sg.Node) -> dict:
        raise NotImplementedError


def step_function(inputs: Sequence[sg.Node], loss: sg.Node, params: Sequence[sg.Node],
                  optimizer: Optimizer, outputs: Sequence[sg.Node] = (),
                  extra_updates: Optional[dict] = None,
                  clip_norm: Optional[float] = None) -> sg.Function:
    """Compile one training step: returns ``[loss, *outputs]`` and applies the update
    (gradients clipped to the global norm ``clip_norm`` when given)."""
    updates = optimizer.updates(loss, params, clip_norm=clip_norm)
    updates.update(extra_updates or {})
    return sg.function(list(inputs), [loss, *outputs], updates=updates)
