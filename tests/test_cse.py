"""Common-subexpression elimination: results unchanged, idempotent, merges what it should.

The properties run ``passes.cse`` alone (compiled with ``optimize=False``), so they test CSE
and not the passes after it."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgraph as sg
from symgraph.passes import cse

# --- random expression DAGs ------------------------------------------------------------------
UNARY = {
    "tanh": sg.tanh,
    "sin": sg.sin,
    "neg": lambda a: -a,
    "square": sg.square,
    "exp-tanh": lambda a: sg.exp(sg.tanh(a)),      # bounded, never overflows
    "sum-keep": lambda a: a.sum(axis=-1, keepdims=True) if a.ndim else a,
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "rmul": lambda a, b: b * a,                    # the mirror image, to be merged with mul
    "max": sg.maximum,
    "div": lambda a, b: a / (sg.square(b) + 1.0),  # never divides by zero
    "plus-two": lambda a, b: a + 2.0,              # a fresh weak constant each time
}
OPS = sorted(UNARY) + sorted(BINARY)

# each step: (op, first operand, second operand); operands index the nodes built so far
steps = st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 63), st.integers(0, 63)),
                 min_size=1, max_size=14)


def _leaves():
    x, y, s = sg.var("x", (3,)), sg.var("y", (None, 3)), sg.var("s")
    values = [np.array([0.3, -1.2, 0.8]), np.array([[0.5, 0.1, -0.7], [1.5, -0.2, 0.4]]),
              np.array(0.9)]
    return [x, y, s], values


def _build(program) -> tuple[list, list[sg.Node], list[np.ndarray]]:
    inputs, values = _leaves()
    nodes = list(inputs) + [sg.const(2.0)]
    for op, i, j in program:
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        nodes.append(UNARY[op](a) if op in UNARY else BINARY[op](a, b))
    # a few outputs, some of them possibly the same node
    outputs = [nodes[-1], nodes[len(nodes) // 2], nodes[-1]]
    return inputs, outputs, values


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


def _assert_cse_keeps_values(inputs, outputs, values) -> None:
    plain = sg.function(inputs, outputs, optimize=False)(*values)
    merged = sg.function(inputs, list(cse(outputs).outputs), optimize=False)(*values)
    # same ops on the same numbers: bit for bit equal (a*b and b*a are equal in IEEE)
    for p, m in zip(plain, merged):
        assert _same(p, m)


@settings(max_examples=40, deadline=None)
@given(steps)
def test_cse_leaves_results_unchanged(program):
    _assert_cse_keeps_values(*_build(program))


@settings(max_examples=25, deadline=None)
@given(steps)
def test_cse_leaves_gradients_unchanged(program):
    inputs, outputs, values = _build(program)
    loss = sum((o.sum() for o in outputs), sg.const(0.0))
    _assert_cse_keeps_values(inputs, [loss, *sg.grad(loss, inputs)], values)


@settings(max_examples=40, deadline=None)
@given(steps)
def test_cse_is_idempotent_and_accounts_for_every_node(program):
    _, outputs, _ = _build(program)
    first = cse(outputs)
    old = sg.Graph(outputs)
    # every old node has a fate, and a merged node stands for one computing the same thing
    assert sorted(first.fates) == sorted(n.id for n in old)
    for fate in first.fates.values():
        assert fate.how in ("kept", "merged")
        assert fate.new.op == fate.old.op and fate.new.type == fate.old.type
    second = cse(first.outputs)
    assert len(sg.Graph(second.outputs)) == len(sg.Graph(first.outputs))
    assert all(f.how == "kept" for f in second.fates.values())
    assert all(a is b for a, b in zip(second.outputs, first.outputs))
    # no two nodes in the result compute the same thing
    keys = [(n.op, n.attrs, n.inputs) for n in sg.Graph(first.outputs) if n.inputs]
    assert len(keys) == len(set(keys))


# --- specific merges -----------------------------------------------------------------------
def test_exp_plus_exp_compiles_to_one_exp():
    x = sg.var("x", (3,))
    y = sg.exp(x) + sg.exp(x)
    f = sg.function([x], y)
    assert f.graph.count("exp") == 1
    assert sg.Graph(y).count("exp") == 2           # the user's graph is untouched
    np.testing.assert_allclose(f(np.zeros(3)), [2.0, 2.0, 2.0])
    assert cse([y]).counts() == {"kept": 3, "merged": 1}


def test_commutative_operands_merge_in_either_order():
    a, b = sg.var("a", (2,)), sg.var("b", (2,))
    for build in (lambda p, q: p * q, lambda p, q: p + q, sg.maximum, sg.minimum):
        r = cse([build(a, b), build(b, a)])
        assert r.outputs[0] is r.outputs[1]


def test_non_commutative_operands_do_not_merge():
    a, b = sg.var("a", (2,)), sg.var("b", (2,))
    for build in (lambda p, q: p - q, lambda p, q: p / q, lambda p, q: p ** q, sg.less):
        r = cse([build(a, b), build(b, a)])
        assert r.outputs[0] is not r.outputs[1]


def test_different_attributes_do_not_merge():
    x = sg.var("x", (2, 2))
    r = cse([x.sum(axis=0), x.sum(axis=1), x.sum(axis=0, keepdims=True),
             sg.cast(x, "float32"), sg.cast(x, "float16")])
    assert len({id(o) for o in r.outputs}) == 5


def test_normalised_attributes_merge():
    x = sg.var("x", (2, 3))
    r = cse([x.sum(axis=-1), x.sum(axis=1), sg.softmax(x), sg.softmax(x, axis=1)])
    assert r.outputs[0] is r.outputs[1] and r.outputs[2] is r.outputs[3]


def test_constants_merge_by_value_and_dtype():
    x = sg.var("x")
    r = cse([x + 2.0, x + 2.0, x + 2, x + np.float32(2.0)])
    assert r.outputs[0] is r.outputs[1]
    assert r.outputs[2] is not r.outputs[0]       # weak int 2 and weak float 2.0 differ
    small = [sg.const(np.arange(3.0)), sg.const(np.arange(3.0)), sg.const(np.arange(3))]
    r = cse(small)
    assert r.outputs[0] is r.outputs[1] and r.outputs[2] is not r.outputs[0]


def test_distinct_leaves_never_merge():
    u, v = sg.var("u"), sg.var("u")                # same name, different inputs
    p, q = sg.param(1.0), sg.param(1.0)            # same value, different cells
    r = cse([u + 1.0, v + 1.0, p * 2.0, q * 2.0])
    assert len({id(o) for o in r.outputs}) == 4


def test_merges_cascade_upwards():
    x = sg.var("x", (3,))
    deep1 = sg.tanh(sg.exp(x) * 2.0).sum()
    deep2 = sg.tanh(sg.exp(x) * 2.0).sum()
    r = cse([deep1, deep2])
    assert r.outputs[0] is r.outputs[1]
    assert len(sg.Graph(r.outputs)) == 6   # x, exp, 2.0, multiply, tanh, sum


@pytest.mark.parametrize("optimize", [True, False])
def test_repeated_subexpression_gradient(optimize):
    # d/dx of exp(x) * exp(x) = 2 exp(2x), closed form
    x = sg.var("x")
    y = sg.exp(x) * sg.exp(x)
    value = sg.function([x], sg.grad(y, x), optimize=optimize)(0.5)
    assert value == pytest.approx(2 * np.exp(1.0), rel=1e-12)
