"""Every op in the op table round-trips: the loaded graph (the op and its derivative nodes)
is the same graph, compiles to the same source, gives bit-identical values, and
differentiates again to the same derivatives. Random graphs (hypothesis) round-trip too."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

import symgraph as sg
from symgraph.graph import Graph

from test_io_roundtrip import describe, same_source
from test_op_table import CASES, _vars


def _float_vars(xs):
    return [x for x in xs if x.dtype.kind == "f"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_every_op_round_trips(case, rng):
    arrays = case.inputs(rng)
    xs = _vars(case, arrays)
    node = case.build(*xs)
    value = sg.function(xs, node)(*arrays)
    wrt = _float_vars(xs)
    ct = rng.standard_normal(np.shape(value))
    grads = []
    if case.differentiable and node.dtype.kind == "f" and wrt:
        grads = list(sg.vjp(node, wrt, ct))
    outs = [node] + grads
    xs2, outs2 = sg.loads(sg.dumps(xs, outs))
    assert describe(outs2) == describe(outs)
    f, f2 = sg.function(xs, outs), sg.function(xs2, outs2)
    assert same_source(f.source, f2.source)
    for a, b in zip(f(*arrays), f2(*arrays)):
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    # the compiler's output (rewritten nodes, folded constants) is a graph like any other
    optimised = sg.loads(sg.dumps(list(f.graph.outputs)))
    assert describe(optimised) == describe(list(f.graph.outputs))
    if grads:
        # the loaded node differentiates like the original
        again = sg.vjp(outs2[0], _float_vars(xs2), ct)
        for a, b in zip(sg.function(xs, grads)(*arrays), sg.function(xs2, again)(*arrays)):
            assert np.array_equal(a, b)


# --- hypothesis: random graphs ----------------------------------------------------------
UNARY = [sg.tanh, sg.exp, sg.sin, sg.sigmoid, sg.square, sg.negative, sg.relu, sg.abs,
         lambda a: sg.sum(a, axis=-1, keepdims=True), lambda a: sg.transpose(a),
         lambda a: a[..., :1], lambda a: sg.softmax(a, axis=-1), lambda a: sg.cast(a, "float32")]
BINARY = [sg.add, sg.subtract, sg.multiply, sg.maximum,
          lambda a, b: sg.where(sg.greater(a, b), a, b * 0.5)]


@st.composite
def programs(draw):
    steps = draw(st.lists(st.tuples(st.integers(0, len(UNARY) + len(BINARY) - 1),
                                    st.integers(0, 1000), st.integers(0, 1000),
                                    st.booleans()), min_size=1, max_size=25))
    return steps


def _build(steps, x, W):
    pool = [x, W, sg.const(2.0)]
    for k, (op, i, j, scoped) in enumerate(steps):
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        with sg.scope(f"s{k % 3}") if scoped else _nothing():
            try:      # an op that does not fit its operands' shapes becomes tanh
                out = UNARY[op](a) if op < len(UNARY) else BINARY[op - len(UNARY)](a, b)
            except sg.SymgraphError:
                out = sg.tanh(a)
        pool.append(out)
    return pool[-1]


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


@given(programs())
@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # exp of exp of ... may overflow
def test_random_graphs_round_trip(steps):
    x = sg.var("x", (None, 2))
    W = sg.param(np.array([[0.5, -1.0], [2.0, 0.25]]), name="W")
    y = _build(steps, x, W)
    outs = [y]
    if y.dtype.kind == "f" and W in Graph([y]):
        outs.append(sg.grad(sg.sum(y), W))
    x2, outs2 = sg.loads(sg.dumps(x, outs))
    assert describe(outs2) == describe(outs)
    X = np.array([[0.3, -0.7], [1.1, 0.2]])   # two rows: W (2, 2) broadcasts with x
    f, f2 = sg.function([x], outs), sg.function([x2], outs2)
    assert same_source(f.source, f2.source)
    for a, b in zip(f(X), f2(X)):
        assert np.array_equal(a, b, equal_nan=True)
    params = [n for n in Graph(outs2).nodes if n.op == "param"]
    assert len(params) <= 1 and all(p.value is not W.value for p in params)
