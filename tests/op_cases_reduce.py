"""Op-table cases for the reductions and scans added for NumPy's surface
(symgraph/ops/reduce.py: prod, argmax, argmin, all, any; symgraph/ops/scan.py: cumsum).
The compositions (variance, std, average, cumprod, diff, nansum, ...) are checked in
tests/test_reduce_scan.py."""
from __future__ import annotations

import numpy as np

import symgraph as sg
from symgraph.ops import apply

from op_case import Case, distinct, normal


def with_zeros(shape: tuple, zeros: list) -> callable:
    # normal values with exact zeros at the given flat positions (one or two per slice)
    def draw(rng: np.random.Generator) -> list:
        x = rng.standard_normal(shape)
        x.reshape(-1)[zeros] = 0.0
        return [x]
    return draw


_TIES = np.array([[1.0, 3.0, 3.0, -2.0], [0.5, 0.5, 0.5, 0.5], [-1.0, -4.0, 2.0, -4.0]])

CASES: list[Case] = [
    Case("prod", "prod", normal((2, 3)), lambda a: a.prod(axis=1), lambda a: a.prod(axis=1)),
    Case("prod-all", "prod", normal((2, 3)), sg.prod, np.prod),
    Case("prod-axes-keepdims", "prod", normal((2, 3, 2)),
         lambda a: sg.prod(a, axis=(0, 2), keepdims=True),
         lambda a: np.prod(a, axis=(0, 2), keepdims=True)),
    # one zero in row 0, two in row 1: the derivative is the product of the others, not y/x
    Case("prod-zeros", "prod", with_zeros((3, 4), [1, 4, 6]), lambda a: sg.prod(a, axis=1),
         lambda a: np.prod(a, axis=1)),
    Case("prod-zeros-all", "prod", with_zeros((2, 3), [2]), sg.prod, np.prod),
    Case("prod-none-dims", "prod", normal((3, 4)), lambda a: sg.prod(a, axis=1),
         lambda a: np.prod(a, axis=1), shapes=((None, 4),)),
    Case("cumsum", "cumsum", normal((3, 4)), lambda a: sg.cumsum(a, axis=1),
         lambda a: np.cumsum(a, axis=1)),
    Case("cumsum-axis0", "cumsum", normal((3, 2, 2)), lambda a: sg.cumsum(a, axis=0),
         lambda a: np.cumsum(a, axis=0)),
    Case("cumsum-flat", "cumsum", normal((2, 3)), sg.cumsum, np.cumsum),
    Case("cumsum-reverse", "cumsum", normal((3, 4)),
         lambda a: apply("cumsum", [a], axis=1, reverse=True),
         lambda a: np.flip(np.cumsum(np.flip(a, 1), 1), 1)),
    Case("cumsum-none-dims", "cumsum", normal((3, 4)), lambda a: sg.cumsum(a, axis=0),
         lambda a: np.cumsum(a, axis=0), shapes=((None, 4),)),
    # no derivative
    Case("argmax", "argmax", distinct((3, 4)), lambda a: a.argmax(axis=1),
         lambda a: a.argmax(axis=1), differentiable=False),
    Case("argmax-flat", "argmax", distinct((3, 4)), sg.argmax, np.argmax, differentiable=False),
    Case("argmax-ties-keepdims", "argmax", lambda rng: [_TIES],
         lambda a: sg.argmax(a, axis=1, keepdims=True),
         lambda a: np.argmax(a, axis=1, keepdims=True), differentiable=False),
    Case("argmin", "argmin", lambda rng: [_TIES], lambda a: a.argmin(axis=0),
         lambda a: a.argmin(axis=0), differentiable=False),
    Case("argmin-flat-keepdims", "argmin", distinct((3, 4)),
         lambda a: sg.argmin(a, keepdims=True), lambda a: np.argmin(a, keepdims=True),
         differentiable=False),
    Case("all", "all", lambda rng: [np.array([[1.0, 0.0, 2.0], [1.0, 3.0, -1.0]])],
         lambda a: sg.all(a, axis=1), lambda a: np.all(a, axis=1), differentiable=False),
    Case("any", "any", lambda rng: [np.array([[0.0, 0.0, 2.0], [0.0, 0.0, 0.0]])],
         lambda a: a.any(axis=1, keepdims=True), lambda a: np.any(a, axis=1, keepdims=True),
         differentiable=False),
    Case("all-flat", "all", normal((2, 3)), sg.all, np.all, differentiable=False),
]
