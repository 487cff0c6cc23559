"""Malformed input gets a symgraph error naming the op or function and the user's line
(issue 9, defect 10): a corpus of malformed expressions built one per line, a corpus of
malformed calls to compiled functions (which must leave every parameter bit-for-bit
unchanged), and hypothesis-generated bad arguments on top."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symgraph as sg
from symgraph.errors import SymgraphError

HERE = os.path.abspath(__file__)
x = sg.var("x", (3,))
m = sg.var("m", (2, 3))
sq = sg.var("sq", (3, 3))
i = sg.var("i", (3,), "int64")
u = sg.var("u", (None,))
img = sg.var("img", (1, 1, 4, 4))
W = sg.param(np.ones((3, 3)), name="W")
y = sg.sum(x * 2.0)


@dataclass(frozen=True)
class Bad:
    build: Callable[[], Any]     # one line, so the error's user line is that line
    error: type                  # the symgraph error class expected
    names: str                   # the op or function the message must name

    @property
    def line(self) -> int:
        return self.build.__code__.co_firstlineno


E = Bad
SE, DE, IE, XE = sg.ShapeError, sg.DTypeError, sg.IndexingError, sg.InputError
EXPRESSIONS = [
    # leaves
    E(lambda: sg.var("x", 3), SE, "var"),
    E(lambda: sg.var("x", (True, 3)), SE, "var"),
    E(lambda: sg.var("x", (2.5,)), SE, "var"),
    E(lambda: sg.var("x", (-1,)), SE, "var"),
    E(lambda: sg.var("x", "abc"), SE, "var"),
    E(lambda: sg.var("x", (3,), "object"), DE, "var"),
    E(lambda: sg.var("x", (3,), "U5"), DE, "var"),
    E(lambda: sg.var("x", (3,), "nonsense"), DE, "var"),
    E(lambda: sg.var("x", (3,), str), DE, "var"),
    E(lambda: sg.var("x", (3,), "S3"), DE, "var"),
    E(lambda: sg.var("x", (3,), "datetime64[s]"), DE, "var"),
    E(lambda: sg.var("", (3,)), SymgraphError, "var"),
    E(lambda: sg.var(3, (3,)), SymgraphError, "var"),
    E(lambda: sg.var("x", (3, None, 2.0)), SE, "var"),
    E(lambda: sg.var("x", ((3,),)), SE, "var"),
    E(lambda: sg.param("abc"), DE, "param"),
    E(lambda: sg.param([[1, 2], [3]]), DE, "param"),
    E(lambda: sg.param(None), DE, "param"),
    E(lambda: sg.param({"a": 1}), DE, "param"),
    E(lambda: sg.param(np.ones(3), dtype="object"), DE, "param"),
    E(lambda: sg.param(np.array(["a"])), DE, "param"),
    E(lambda: sg.param(np.ones(3), dtype="nonsense"), DE, "param"),
    E(lambda: sg.param(np.ones(3), dtype="U3"), DE, "param"),
    E(lambda: sg.const("abc"), DE, "const"),
    E(lambda: sg.const([[1], [2, 3]]), DE, "const"),
    E(lambda: sg.const(None), DE, "const"),
    E(lambda: sg.const({1: 2}), DE, "const"),
    E(lambda: sg.const(np.ones(3), dtype="U3"), DE, "const"),
    E(lambda: sg.const(np.ones(3), dtype="object"), DE, "const"),
    E(lambda: sg.const(x), SymgraphError, "const"),
    E(lambda: sg.cast(x, "object"), DE, "cast"),
    E(lambda: sg.cast(x, "U3"), DE, "cast"),
    E(lambda: sg.cast(x, "nonsense"), DE, "cast"),
    E(lambda: sg.cast(x, str), DE, "cast"),
    E(lambda: x.astype("object"), DE, "astype"),
    # elementwise arithmetic and comparisons
    E(lambda: x + "abc", DE, "add"),
    E(lambda: "abc" + x, DE, "add"),
    E(lambda: x * None, DE, "multiply"),
    E(lambda: x - [1, [2]], DE, "subtract"),
    E(lambda: x / {}, DE, "divide"),
    E(lambda: x ** "a", DE, "power"),
    E(lambda: x < "a", DE, "less"),
    E(lambda: x + np.array(["a", "b", "c"]), DE, "add"),
    E(lambda: x + sg.var("z", (4,)), SE, "add"),
    E(lambda: m * sg.var("z", (3, 2)), SE, "multiply"),
    E(lambda: sg.maximum(x, sg.var("z", (2,))), SE, "maximum"),
    E(lambda: sg.where(x > 0, x, sg.var("z", (4,))), SE, "where"),
    E(lambda: sg.where("a", x, x), DE, "where"),
    E(lambda: sg.add(x, object()), DE, "add"),
    E(lambda: sg.exp("abc"), DE, "exp"),
    E(lambda: sg.tanh(None), DE, "tanh"),
    E(lambda: sg.log([[1], [2, 3]]), DE, "log"),
    E(lambda: sg.sqrt({}), DE, "sqrt"),
    E(lambda: sg.equal(x, sg.var("z", (4,))), SE, "equal"),
    E(lambda: sg.logical_and(x, "a"), DE, "logical_and"),
    E(lambda: sg.clip(x, lo="a"), DE, "clip"),
    E(lambda: sg.clip(x, "a", 1.0), DE, "clip"),
    E(lambda: sg.clip(x, 0.0, [[1], [2, 3]]), DE, "clip"),
    E(lambda: sg.clip(x, sg.var("z", (4,)), 1.0), SymgraphError, "clip"),
    # linear algebra
    E(lambda: x @ m, SE, "matmul"),
    E(lambda: x @ 3.0, SE, "matmul"),
    E(lambda: m @ m, SE, "matmul"),
    E(lambda: sg.matmul(m, "a"), DE, "matmul"),
    E(lambda: sg.dot(x, sg.var("z", (4,))), SE, "dot"),
    E(lambda: sg.outer(x, "a"), DE, "outer"),
    E(lambda: sg.matmul(sq, sg.var("z", (4, 1))), SE, "matmul"),
    # reductions
    E(lambda: sg.sum(x, axis=1.5), SE, "sum"),
    E(lambda: sg.sum(x, axis=5), SE, "sum"),
    E(lambda: sg.sum(x, axis=(0, 0)), SE, "sum"),
    E(lambda: sg.sum(x, axis="a"), SE, "sum"),
    E(lambda: sg.sum(m, axis=(0, 1, 2)), SE, "sum"),
    E(lambda: sg.mean(m, axis=2), SE, "mean"),
    E(lambda: sg.max(m, axis=-3), SE, "max"),
    E(lambda: sg.min(m, axis=[0.5]), SE, "min"),
    E(lambda: sg.logsumexp(x, axis=3), SE, "logsumexp"),
    E(lambda: sg.softmax(m, axis=2), SE, "softmax"),
    E(lambda: sg.log_softmax(m, axis=5), SE, "log_softmax"),
    E(lambda: sg.softmax(m, axis=1.0), SE, "softmax"),
    E(lambda: x.sum(axis=(0, 1)), SE, "sum"),
    E(lambda: m.mean(axis=(1, -1)), SE, "mean"),
    E(lambda: sg.sum(x, axis=True), SE, "sum"),
    # shapes
    E(lambda: sg.reshape(m, (2.5, 2)), SE, "reshape"),
    E(lambda: sg.reshape(m, (4, 2)), SE, "reshape"),
    E(lambda: sg.reshape(m, (None, 3)), SE, "reshape"),
    E(lambda: sg.reshape(m, (-1, -1)), SE, "reshape"),
    E(lambda: sg.reshape(m, "ab"), SE, "reshape"),
    E(lambda: sg.reshape(m, (True, 6)), SE, "reshape"),
    E(lambda: sg.reshape(m, (-2, 3)), SE, "reshape"),
    E(lambda: m.reshape(7), SE, "reshape"),
    E(lambda: sg.reshape(m, None), SE, "reshape"),
    E(lambda: sg.broadcast_to(x, (None, 3)), SE, "broadcast_to"),
    E(lambda: sg.broadcast_to(x, (4,)), SE, "broadcast_to"),
    E(lambda: sg.broadcast_to(x, (2.0, 3)), SE, "broadcast_to"),
    E(lambda: sg.broadcast_to(m, (3,)), SE, "broadcast_to"),
    E(lambda: sg.broadcast_to(x, "ab"), SE, "broadcast_to"),
    E(lambda: sg.broadcast_to(x, (-1, 3)), SE, "broadcast_to"),
    E(lambda: sg.one_hot(i, -1), SE, "one_hot"),
    E(lambda: sg.one_hot(i, None), SE, "one_hot"),
    E(lambda: sg.one_hot(i, 2.5), SE, "one_hot"),
    E(lambda: sg.one_hot(i, "3"), SE, "one_hot"),
    E(lambda: sg.one_hot(x, 3), SymgraphError, "one_hot"),
    E(lambda: sg.one_hot(i, 3, dtype="object"), DE, "one_hot"),
    E(lambda: sg.transpose(m, (0, 0)), SE, "transpose"),
    E(lambda: sg.transpose(m, (0, 1, 2)), SE, "transpose"),
    E(lambda: sg.transpose(m, (0, 5)), SE, "transpose"),
    E(lambda: sg.transpose(m, "ab"), SE, "transpose"),
    E(lambda: sg.transpose(m, (0.0, 1.0)), SE, "transpose"),
    E(lambda: sg.expand_dims(x, 5), SE, "expand_dims"),
    E(lambda: sg.expand_dims(x, 1.5), SE, "expand_dims"),
    E(lambda: sg.squeeze(m, 0), SE, "squeeze"),
    E(lambda: sg.squeeze(x, 3), SE, "squeeze"),
    E(lambda: sg.concatenate([x, m]), SE, "concatenate"),
    E(lambda: sg.concatenate([m, m], axis=3), SE, "concatenate"),
    E(lambda: sg.concatenate([]), SymgraphError, "concatenate"),
    E(lambda: sg.concatenate([x, "a"]), DE, "concatenate"),
    E(lambda: sg.concatenate([m, sg.var("z", (2, 4))], axis=0), SE, "concatenate"),
    E(lambda: sg.concatenate(x), SymgraphError, "concatenate"),
    E(lambda: sg.stack([x, m]), SE, "stack"),
    E(lambda: sg.stack([]), SymgraphError, "stack"),
    E(lambda: sg.stack([x, x], axis=4), SE, "stack"),
    E(lambda: sg.zeros_like("a"), DE, "zeros_like"),
    # indexing
    E(lambda: x[::0], SymgraphError, "getitem"),
    E(lambda: x[5], SymgraphError, "getitem"),
    E(lambda: x[1.5], SymgraphError, "getitem"),
    E(lambda: x["a"], SymgraphError, "getitem"),
    E(lambda: x[0, 0], SymgraphError, "getitem"),
    E(lambda: m[:, 7], SymgraphError, "getitem"),
    E(lambda: x[..., ...], SymgraphError, "getitem"),
    E(lambda: x[{}], SymgraphError, "getitem"),
    E(lambda: x[-4], SymgraphError, "getitem"),
    E(lambda: m[0, 0, 0], SymgraphError, "getitem"),
    E(lambda: x[x], SymgraphError, "getitem"),
    E(lambda: x[None:"a"], SymgraphError, "getitem"),
    # differentiation
    E(lambda: sg.grad(y, 3.0), SymgraphError, "grad"),
    E(lambda: sg.grad(x, x), SE, "grad"),
    E(lambda: sg.grad(sg.sum(i), i), DE, "grad"),
    E(lambda: sg.grad("y", x), SymgraphError, "grad"),
    E(lambda: sg.grad(y, [x, "a"]), SymgraphError, "grad"),
    E(lambda: sg.grad(y, x, disconnected="maybe"), SymgraphError, "grad"),
    E(lambda: sg.grad(y, i), DE, "grad"),
    E(lambda: sg.vjp([x], x, []), SymgraphError, "vjp"),
    E(lambda: sg.vjp(x, x, np.ones(4)), SE, "vjp"),
    E(lambda: sg.jvp(y, x, np.ones(4)), SE, "jvp"),
    E(lambda: sg.jvp(y, [x, m], [np.ones(3)]), SymgraphError, "jvp"),
    E(lambda: sg.hvp(y, x, np.ones(4)), SE, "hvp"),
    E(lambda: sg.hessian(x, x), SE, "hessian"),
    E(lambda: sg.hvp(y, x, np.ones(3), method="nope"), SymgraphError, "hvp"),
    # compiling
    E(lambda: sg.function([], "abc"), SymgraphError, "function"),
    E(lambda: sg.function([x], [x], updates={x: x}), SymgraphError, "function"),
    E(lambda: sg.function("x", [x]), SymgraphError, "function"),
    E(lambda: sg.function([x, x], [x]), SymgraphError, "function"),
    E(lambda: sg.function([], [x]), XE, "function"),
    E(lambda: sg.function([x], [x], updates={W: x}), SE, "function"),
    E(lambda: sg.function([x], [x], updates={W: "abc"}), DE, "function"),
    E(lambda: sg.function([x], [x], updates=[1]), SymgraphError, "function"),
    E(lambda: sg.function([sg.sum(x)], [x]), SymgraphError, "function"),
    E(lambda: sg.function([x], [None]), SymgraphError, "function"),
    E(lambda: sg.function(x, [x]), SymgraphError, "function"),
    E(lambda: sg.function([x], [x], updates={W: W.astype("complex128") * 1j}), DE, "function"),
    E(lambda: (x + 1).eval({}), XE, "function"),
    E(lambda: (x + 1).eval({x: "abc"}), XE, "argument"),
    E(lambda: (x + 1).eval({x: np.ones(4)}), XE, "argument"),
    # model layer
    E(lambda: sg.nn.Dense(-1, 3), SE, "Dense"),
    E(lambda: sg.nn.Dense(None, 3), SE, "Dense"),
    E(lambda: sg.nn.Dense(3, 2.5), SE, "Dense"),
    E(lambda: sg.nn.Dense(3, 0), SE, "Dense"),
    E(lambda: sg.nn.Dense(3, 3, activation="nope"), SymgraphError, "Dense"),
    E(lambda: sg.nn.Dense(3, 3, init="nope"), SymgraphError, "Dense"),
    E(lambda: sg.nn.MLP([3]), SymgraphError, "MLP"),
    E(lambda: sg.nn.MLP([3, None]), SE, "MLP"),
    E(lambda: sg.nn.MLP([3, -2]), SE, "MLP"),
    E(lambda: sg.nn.Dropout(1.5), SymgraphError, "Dropout"),
    E(lambda: sg.nn.softmax_cross_entropy(m, x), SE, "softmax_cross_entropy"),
    E(lambda: sg.nn.softmax_cross_entropy(sq, x), SE, "softmax_cross_entropy"),
    E(lambda: sg.nn.mse(x, "a"), DE, "mse"),
    E(lambda: sg.nn.accuracy(m, "a"), DE, "accuracy"),
    E(lambda: sg.nn.Dense(3, 3)(m.astype("int64") + "a"), DE, "add"),
    E(lambda: sg.nn.Dense(4, 2)(m), SE, "matmul"),
    E(lambda: sg.random.seed("a"), DE, "seed"),
    E(lambda: sg.nn.LayerNorm(-3), SymgraphError, "LayerNorm"),
    E(lambda: sg.nn.BatchNorm(0), SymgraphError, "BatchNorm"),
    E(lambda: sg.nn.BatchNorm(3, momentum=2.0), SymgraphError, "BatchNorm"),
    E(lambda: sg.nn.Embedding(0, 3), SymgraphError, "Embedding"),
    E(lambda: sg.random.seed(-1), DE, "seed"),
    # scopes, node misuse, parameter values
    E(lambda: sg.scope("a/b").__enter__(), SymgraphError, "scope"),
    E(lambda: sg.scope("").__enter__(), SymgraphError, "scope"),
    E(lambda: sg.scope(3).__enter__(), SymgraphError, "scope"),
    E(lambda: setattr(W, "value", np.ones(4)), SE, "W"),
    E(lambda: setattr(W, "value", "abc"), SymgraphError, "W"),
    E(lambda: setattr(W, "value", np.ones((3, 3), complex)), DE, "W"),
    E(lambda: bool(x), SymgraphError, "bool"),
    E(lambda: len(u), SymgraphError, "len"),
    E(lambda: iter(x), SymgraphError, "iter"),
    E(lambda: sg.conv2d(img, sg.var("k", (1, 2, 3, 3))), SE, "conv2d"),
    E(lambda: sg.conv2d(img, "k"), DE, "conv2d"),
    E(lambda: sg.max_pool2d(img, 0), SymgraphError, "max_pool2d"),
    E(lambda: sg.avg_pool2d(x, 2), SE, "avg_pool2d"),
]


def _location(case: Bad) -> str:
    return f"{HERE}:{case.line}"


@pytest.mark.parametrize("case", EXPRESSIONS, ids=lambda c: f"line{c.line}")
def test_malformed_expression_gets_a_symgraph_error_naming_op_and_line(case):
    before = W.value.copy()
    with pytest.raises(SymgraphError) as info:
        case.build()
    err = info.value
    assert isinstance(err, case.error), f"{type(err).__name__}: {err}"
    text = str(err)
    assert case.names.lower() in text.lower(), text
    assert _location(case) in text, text
    assert np.array_equal(W.value, before) and W.value.dtype == before.dtype


def test_the_corpora_are_big_enough():
    assert len(EXPRESSIONS) >= 150
    assert len(CALLS) * len(MODES) >= 100


# --- malformed calls ----------------------------------------------------------------------
MODES = [dict(optimize=True), dict(optimize=False), dict(check_nan=True),
         dict(fusion="force")]


def _compiled(mode: dict):
    """A training-like function with four updated parameters of several dtypes."""
    xa = sg.var("xa", (None, 3))
    ia = sg.var("ia", (None,), "int64")
    A = sg.param(np.arange(9.0).reshape(3, 3), name="A")
    b = sg.param(np.ones(3, np.float32), name="b")
    c = sg.param(np.array([1, 2, 3]), name="c")
    s = sg.param(np.float64(2.0), name="s")
    loss = sg.sum(sg.tanh(xa @ A) * s) + sg.sum(b)
    gA, gs = sg.grad(loss, [A, s])
    f = sg.function([xa, ia], loss, updates={A: A - 0.1 * gA, b: b * 2, c: c + ia[0],
                                             s: s - 0.1 * gs}, **mode)
    return f, [A, b, c, s]


GOOD = (np.ones((2, 3)), np.array([1, 2]))
CALLS = [
    lambda f: f(),
    lambda f: f(GOOD[0]),
    lambda f: f(*GOOD, GOOD[1]),
    lambda f: f(xa=GOOD[0], ia=GOOD[1]),
    lambda f: f(GOOD[0], ia=GOOD[1]),
    lambda f: f({"xa": GOOD[0], "ia": GOOD[1]}),
    lambda f: f({f.inputs[0]: GOOD[0]}, GOOD[1]),
    lambda f: f(np.ones((2, 4)), GOOD[1]),
    lambda f: f(np.ones(3), GOOD[1]),
    lambda f: f(np.ones((2, 3, 1)), GOOD[1]),
    lambda f: f(np.ones((2, 3)), np.ones(2)),
    lambda f: f(np.ones((2, 3)), np.array([1.5, 2.5])),
    lambda f: f(np.ones((2, 3)) + 1j, GOOD[1]),
    lambda f: f(np.array([["a"] * 3] * 2), GOOD[1]),
    lambda f: f(np.array([[object()] * 3] * 2), GOOD[1]),
    lambda f: f([[1.0, 2.0, 3.0], [1.0, 2.0]], GOOD[1]),
    lambda f: f(None, GOOD[1]),
    lambda f: f("abc", GOOD[1]),
    lambda f: f(GOOD[0], "abc"),
    lambda f: f(GOOD[0], None),
    lambda f: f(GOOD[0], [[1], [2, 3]]),
    lambda f: f(GOOD[0], {1, 2}),
    lambda f: f(GOOD[0], np.array([[1, 2]])),
    lambda f: f(GOOD[0], np.array(1)),
    lambda f: f(1.0, GOOD[1]),
    lambda f: f(GOOD[0], np.array(["1", "2"])),
    lambda f: f(np.ones((2, 3), "datetime64[s]"), GOOD[1]),
    lambda f: f(GOOD[0], np.ones((2, 2), np.int64)),
    lambda f: f(np.ones((2, 3)), GOOD[1][:, None]),
    lambda f: f(np.ones((3,)), np.ones(3)),
    lambda f: f(GOOD[0], np.array([], np.int64)),   # ia[0] of nothing
    lambda f: f(GOOD[0], GOOD[1], GOOD[0]),
    lambda f: f(lambda: 0, GOOD[1]),
    lambda f: f(GOOD[0], b"12"),
    lambda f: f(np.ones((0, 3, 3)), GOOD[1]),
]


def _state(params) -> list:
    return [(p.value.copy(), p.value.dtype, p.value.shape) for p in params]


@pytest.mark.parametrize("mode", MODES, ids=lambda m: ",".join(f"{k}={v}" for k, v in m.items()))
@pytest.mark.parametrize("k", range(len(CALLS)))
def test_malformed_call_raises_and_changes_no_parameter(mode, k):
    f, params = _compiled(mode)
    f(*GOOD)                        # a good call first: spare buffers exist, state moved
    before = _state(params)
    call = CALLS[k]
    with pytest.raises(SymgraphError) as info:
        call(f)
    text = str(info.value)
    assert isinstance(info.value, (sg.InputError, sg.EvaluationError)), text
    assert f"{HERE}:{call.__code__.co_firstlineno}" in text, text
    assert "argument" in text or "function" in text or "failed" in text, text
    for (v, dt, shape), p in zip(before, params):
        assert p.value.dtype == dt and p.value.shape == shape
        assert v.tobytes() == np.asarray(p.value).tobytes(), p.label


def test_a_dict_passed_as_feed_dict_says_what_to_do():
    f, _ = _compiled({})
    with pytest.raises(sg.InputError, match="positional|by position"):
        f({f.inputs[0]: GOOD[0], f.inputs[1]: GOOD[1]})


# --- hypothesis: bad arguments of any shape and dtype --------------------------------------
_DTYPES = ["float64", "float32", "int64", "int8", "bool", "complex128", "U2", "object"]


@given(shape=st.lists(st.integers(0, 4), min_size=0, max_size=3),
       dtype=st.sampled_from(_DTYPES), which=st.integers(0, 1))
def test_hypothesis_bad_arguments_never_change_parameters(shape, dtype, which):
    f, params = _compiled({})
    before = _state(params)
    args = list(GOOD)
    try:
        args[which] = np.zeros(shape, dtype=dtype)
    except (TypeError, ValueError):
        return
    try:
        f(*args)
    except SymgraphError:
        for (v, dt, shp), p in zip(before, params):
            assert v.tobytes() == np.asarray(p.value).tobytes()
        return
    # Accepted: then it was a valid call (shape and dtype convertible), and all moved.
    assert args[which].dtype.kind in "biuf"


_GARBAGE = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=True), st.text(max_size=3),
                     st.integers(-5, 5), st.lists(st.integers(-3, 4), max_size=3),
                     st.tuples(st.floats(), st.integers(0, 3)), st.dictionaries(st.text(), st.integers()))


@given(value=_GARBAGE, which=st.sampled_from(["var", "reshape", "sum", "broadcast_to",
                                              "one_hot", "transpose", "expand_dims", "add",
                                              "getitem", "Dense"]))
def test_hypothesis_garbage_arguments_get_a_symgraph_error_or_a_valid_node(value, which):
    build = {
        "var": lambda: sg.var("g", value),
        "reshape": lambda: sg.reshape(m, value),
        "sum": lambda: sg.sum(m, axis=value),
        "broadcast_to": lambda: sg.broadcast_to(x, value),
        "one_hot": lambda: sg.one_hot(i, value),
        "transpose": lambda: sg.transpose(m, value),
        "expand_dims": lambda: sg.expand_dims(x, value),
        "add": lambda: x + value,
        "getitem": lambda: x[value],
        "Dense": lambda: sg.nn.Dense(3, value),
    }[which]
    try:
        node = build()
    except SymgraphError as err:
        assert which.lower() in str(err).lower() or "getitem" in str(err), str(err)
        assert f"{HERE}:" in str(err), str(err)
        return
    assert isinstance(node, (sg.Node, sg.nn.Dense))


_X = sg.var("x", (3, 3))


@pytest.mark.parametrize("build,name", [
    (lambda: sg.pad(_X, 1, mode="bogus"), "pad"),
    (lambda: sg.fft.fft(_X, norm="loud"), "fft"),
    (lambda: sg.linalg.qr(_X, mode="complete"), "qr"),
    (lambda: sg.linalg.matrix_power(_X, 1.5), "matrix_power"),
    (lambda: sg.quantile(_X, 1.5), "quantile"),
    (lambda: sg.meshgrid(_X, _X, indexing="zz"), "meshgrid"),
    (lambda: sg.einsum("ij->ji", _X, optimize="greedy", out=1), "einsum"),
], ids=["pad", "fft", "qr", "matrix_power", "quantile", "meshgrid", "einsum"])
def test_numpy_surface_argument_errors_name_the_function_and_the_line(build, name):
    # Regression: the NumPy-surface functions raised plain ValueError/TypeError without
    # the user's line; they raise ArgumentError (a ValueError and a TypeError) like the core.
    with pytest.raises(sg.ArgumentError) as err:
        build()
    assert name in str(err.value)
    assert "test_reliability_errors.py" in str(err.value)
