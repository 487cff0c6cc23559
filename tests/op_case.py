"""The op table's record and input generators, shared by every family's case file.

``tests/test_op_table.py`` holds the core ops' cases; each later family keeps its cases in
its own ``tests/op_cases_<family>.py`` defining ``CASES``, gathered by the table test.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

import symgraph as sg

Inputs = Callable[[np.random.Generator], list]


@dataclass(frozen=True)
class Case:
    """One way to build ``op``: inputs to draw, the graph to build on them, NumPy's answer."""

    id: str
    op: str
    inputs: Inputs                                    # rng -> input arrays (become vars)
    build: Callable[..., sg.Node]                     # vars -> the node under test
    reference: Callable[..., np.ndarray]              # arrays -> expected value
    differentiable: bool = True
    shapes: Optional[tuple] = None                    # static var shapes (None dims) if given
    keeps_dtype: bool = True                          # float32 in -> float32 out
    # optional extras the case's kernel needs (e.g. ("scipy",)): without them the case's
    # tests are skipped (tests/conftest.py), so the core suite runs without the extras
    needs: tuple = ()


# --- input generators: each keeps away from the op's kinks, poles and ties ----------------
def normal(*shapes: tuple) -> Inputs:
    return lambda rng: [rng.standard_normal(s) for s in shapes]


def positive(*shapes: tuple, lo: float = 0.5, hi: float = 2.0) -> Inputs:
    return lambda rng: [rng.uniform(lo, hi, s) for s in shapes]


def nonzero(*shapes: tuple) -> Inputs:
    # |x| in [0.3, 1.5]: finite differences never straddle 0
    return lambda rng: [rng.choice([-1.0, 1.0], s) * rng.uniform(0.3, 1.5, s) for s in shapes]


def distinct(shape: tuple) -> Inputs:
    # A shuffled grid spaced 0.3 apart: no two entries tie, whatever the axis
    def draw(rng: np.random.Generator) -> list:
        n = int(np.prod(shape))
        return [(rng.permutation(n) * 0.3 - 0.15 * n + rng.uniform(0, 0.05, n)).reshape(shape)]
    return draw


def apart(shape_a: tuple, shape_b: tuple) -> Inputs:
    # a on the grid 0.5 k, b on 0.5 k + 0.25 (plus noise under 0.05): they never come
    # closer than 0.15 wherever they broadcast together (maximum/minimum)
    def draw(rng: np.random.Generator) -> list:
        a = 0.5 * rng.integers(-3, 3, shape_a) + rng.uniform(0, 0.05, shape_a)
        b = 0.5 * rng.integers(-3, 3, shape_b) + 0.25 + rng.uniform(0, 0.05, shape_b)
        return [a, b]
    return draw
