"""The gradient of integer-array indexing: scatter-add where positions repeat, plain
assignment where the index provably picks each position once."""
from __future__ import annotations

import numpy as np

import symgraph as sg


def _scatter(x, index):
    g = sg.grad(sg.sum(sg.square(x[index])), x)
    scatters = [n for n in sg.Graph([g]) if n.op == "getitem_grad"]
    assert len(scatters) == 1
    return g, scatters[0]


def test_class_pick_is_marked_distinct_and_matches_scatter_add():
    x = sg.var("x", (4, 3))
    labels = sg.var("labels", (4,), "int64")
    g, scatter = _scatter(x, (sg.arange(4), labels))
    assert scatter.attr("distinct") is True
    data = np.arange(12.0).reshape(4, 3)
    lab = np.array([2, 0, 2, 1])
    expected = np.zeros((4, 3))
    np.add.at(expected, (np.arange(4), lab), 2 * data[np.arange(4), lab])
    np.testing.assert_array_equal(g.eval({x: data, labels: lab}), expected)


def test_repeated_rows_keep_scatter_add():
    x = sg.var("x", (3, 2))
    rows = np.array([0, 0, 2])
    g, scatter = _scatter(x, rows)
    assert scatter.attr("distinct") is False
    data = np.ones((3, 2))
    # Row 0 is picked twice, so its gradient is twice 2 * x.
    np.testing.assert_array_equal(g.eval({x: data}), [[4, 4], [0, 0], [2, 2]])


def test_negative_indices_that_alias_are_not_distinct():
    x = sg.var("x", (3,))
    g, scatter = _scatter(x, np.array([2, -1]))
    assert scatter.attr("distinct") is False
    np.testing.assert_array_equal(g.eval({x: np.ones(3)}), [0, 0, 4])


def test_a_variable_index_alone_is_not_distinct():
    x = sg.var("x", (3, 2))
    rows = sg.var("rows", (2,), "int64")
    g, scatter = _scatter(x, rows)
    assert scatter.attr("distinct") is False
    np.testing.assert_array_equal(g.eval({x: np.ones((3, 2)), rows: np.array([1, 1])}),
                                  [[0, 0], [4, 4], [0, 0]])
