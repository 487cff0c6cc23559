"""A chain of 100,000 ops builds, differentiates, compiles and runs without recursion.

One test does it all so the chain is built once; the constants are shared nodes so the
graph holds the chain and little else.
"""
from __future__ import annotations

import sys

import pytest

import symgraph as sg

DEPTH = 100_000          # ops in the chain: DEPTH // 2 multiplies and as many adds
A, B = 1.00001, 0.25


def test_deep_chain_builds_differentiates_compiles_and_runs():
    limit = sys.getrecursionlimit()
    x = sg.var("x")
    a, b = sg.const(A), sg.const(B)
    y = x
    for _ in range(DEPTH // 2):
        y = y * a + b     # y_{k+1} = A y_k + B
    graph = sg.Graph(y)
    assert len(graph) == DEPTH + 3 and graph.nodes[-1] is y
    reverse = sg.grad(y, x)
    run = sg.function([x], [y, reverse])
    value, slope = run(2.0)
    n = DEPTH // 2
    # closed form of the affine recurrence: y_n = A^n x + B (A^n - 1) / (A - 1)
    assert value == pytest.approx(A ** n * 2.0 + B * (A ** n - 1) / (A - 1), rel=1e-9)
    assert slope == pytest.approx(A ** n, rel=1e-9)
    assert sys.getrecursionlimit() == limit
