"""Learning-rate schedules: the rate as a graph of the step counter ``k`` (steps done).

A schedule is called on the counter node inside the training step, so the annealed rate is
computed in the same compiled call as the update. ``value(k)`` gives the same number in
plain Python, for plots and tests.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import symgraph as sg
from symgraph.errors import ArgumentError


@dataclass(frozen=True)
class Constant:
    """The same rate at every step."""

    lr: float

    def __call__(self, k: sg.Node) -> Any:
        return self.lr

    def value(self, k: int) -> float:
        return self.lr


@dataclass(frozen=True)
class LinearAnnealing:
    """eta_k = (1 - k/tau) eta_0 + (k/tau) eta_tau for k <= tau, then eta_tau."""

    lr0: float
    lr_end: float
    tau: int

    def __call__(self, k: sg.Node) -> sg.Node:
        frac = sg.minimum(k, float(self.tau)) * (1.0 / self.tau)
        return (1.0 - frac) * self.lr0 + frac * self.lr_end

    def value(self, k: int) -> float:
        frac = min(k, self.tau) / self.tau
        return (1.0 - frac) * self.lr0 + frac * self.lr_end


@dataclass(frozen=True)
class ExponentialDecay:
    """eta_k = eta_0 * rate ** (k / every)."""

    lr0: float
    rate: float
    every: float = 1.0

    def __call__(self, k: sg.Node) -> sg.Node:
        return self.lr0 * sg.exp(k * (math.log(self.rate) / self.every))

    def value(self, k: int) -> float:
        return self.lr0 * self.rate ** (k / self.every)


def as_schedule(lr: Any) -> Any:
    """A number becomes ``Constant``; schedules pass through."""
    if isinstance(lr, (int, float)):
        return Constant(float(lr))
    if not callable(lr):
        raise ArgumentError(f"a learning rate is a number or a schedule, got {lr!r}")
    return lr
