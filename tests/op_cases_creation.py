"""Op-table cases for the ``*_like`` creation functions (symgraph/ops/creation.py): they read
their reference only for its shape, so no derivative reaches it. The constant-making
functions (zeros, eye, linspace, ...) build leaves; tests/test_numpy_shape.py checks them."""
from __future__ import annotations

import numpy as np

import symgraph as sg
from op_case import Case, normal

CASES: list[Case] = [
    Case("ones_like", "broadcast_like", normal((2, 3)), sg.ones_like, np.ones_like,
         differentiable=False),
    Case("full_like-none-dims", "broadcast_like", normal((2, 3)),
         lambda a: sg.full_like(a, 2.5), lambda a: np.full_like(a, 2.5),
         differentiable=False, shapes=((None, 3),)),
    Case("empty_like-zeros", "broadcast_like", normal((3,)), sg.empty_like, np.zeros_like,
         differentiable=False),
    Case("zeros_like", "broadcast_like", normal((3, 1)), sg.zeros_like, np.zeros_like,
         differentiable=False),
]
