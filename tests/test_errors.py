"""Errors name the user's problem: the op, the shapes or dtypes, and the line that built it;
a call that fails changes no parameter."""
from __future__ import annotations

import re
import sys

import numpy as np
import pytest

import symgraph as sg
from symgraph.errors import (DisconnectedError, DTypeError, EvaluationError, InputError,
                             ShapeError, SymgraphError)

HERE = __file__


def _line() -> int:
    """The line number of the caller."""
    return sys._getframe(1).f_lineno


def _built_here(message: str, line: int) -> bool:
    return f"{HERE}:{line}" in message


# --- build time ----------------------------------------------------------------------------
def test_broadcast_mismatch_names_op_shapes_and_line():
    a, b = sg.var("a", (3, 2)), sg.var("b", (4,))
    with pytest.raises(ShapeError) as info:
        line = _line(); a + b  # noqa: E702 - the error must point at this very line
    message = str(info.value)
    assert message.startswith("add:")
    assert "(3, 2)" in message and "(4,)" in message
    assert _built_here(message, line), message


def test_matmul_inner_mismatch_names_op_shapes_and_line():
    a, b = sg.var("a", (3, 2)), sg.var("b", (3, 4))
    with pytest.raises(ShapeError) as info:
        line = _line(); a @ b  # noqa: E702
    message = str(info.value)
    assert "matmul" in message and "(3, 2)" in message and "(3, 4)" in message
    assert _built_here(message, line), message


def test_unknown_sizes_do_not_raise_at_build_time():
    a, b = sg.var("a", (None, 2)), sg.var("b", (3, None))
    assert (a + b).shape == (3, 2)
    assert (sg.var("m", (4, None)) @ sg.var("n", (3, 5))).shape == (4, 5)


@pytest.mark.parametrize("build, words", [
    (lambda x: x.sum(axis=2), ["sum", "axis 2"]),
    (lambda x: sg.softmax(x, axis=-3), ["softmax", "axis -3"]),
    (lambda x: x.transpose(0, 2), ["transpose", "(0, 2)"]),
    (lambda x: x.reshape(4, 2), ["reshape", "(3, 2)", "(4, 2)"]),
    (lambda x: sg.squeeze(x, 0), ["squeeze", "(3, 2)"]),
    (lambda x: x[3], ["getitem", "3"]),
    (lambda x: sg.concatenate([x, sg.var("z", (3, 2, 1))]), ["concatenate"]),
    (lambda x: sg.broadcast_to(x, (2, 3)), ["broadcast_to", "(3, 2)", "(2, 3)"]),
])
def test_shape_errors_name_op_and_the_line_that_built_them(build, words):
    x = sg.var("x", (3, 2))
    with pytest.raises((SymgraphError, IndexError)) as info:   # getitem: NumPy's IndexError
        build(x)
    message = str(info.value)
    for word in words:
        assert word in message, message
    # the lambda above sits in this test module; the location is the user's code, not ours
    assert HERE in message, message
    assert "symgraph/" not in message.replace(HERE, ""), message


def test_transpose_axis_past_the_end_is_not_wrapped():
    # Regression: axes were taken modulo ndim, so (0, 3) silently meant (0, 1).
    x = sg.var("x", (2, 3))
    with pytest.raises(ShapeError, match="transpose"):
        sg.transpose(x, (0, 3))
    assert sg.transpose(x, (-1, -2)).shape == (3, 2)


def test_reduction_axis_error_names_the_line():
    # Regression: axis errors of sum/mean/softmax carried no location.
    x = sg.var("x", (2, 3))
    with pytest.raises(ShapeError) as info:
        line = _line(); x.mean(axis=(0, 5))  # noqa: E702
    assert _built_here(str(info.value), line), str(info.value)


def test_dtype_errors():
    with pytest.raises(DTypeError):
        sg.var("x", (2,), "not-a-dtype")
    with pytest.raises(DTypeError):
        sg.const(object())
    with pytest.raises(DTypeError, match="int64"):
        sg.grad(sg.var("n", (), "int64") * 2, sg.var("n2", (), "int64"))


def test_symbolic_truth_value_raises():
    x = sg.var("x")
    with pytest.raises(TypeError, match="sg.where"):
        bool(x > 0)


# --- differentiation -----------------------------------------------------------------------
def test_grad_of_a_non_scalar_raises():
    x = sg.var("x", (3,))
    with pytest.raises(ShapeError, match=r"scalar.*\(3,\)"):
        sg.grad(x * 2, x)


def test_grad_disconnected_zeros_or_raise():
    x, z = sg.var("x", (2,)), sg.var("z", (3,))
    y = (x * x).sum()
    gz = sg.grad(y, z)
    np.testing.assert_array_equal(sg.function([x, z], gz)(np.ones(2), np.ones(3)), np.zeros(3))
    with pytest.raises(DisconnectedError, match="z"):
        sg.grad(y, z, disconnected="raise")
    with pytest.raises(ValueError):
        sg.grad(y, z, disconnected="ignore")


def test_stop_gradient_disconnects():
    x = sg.var("x")
    with pytest.raises(DisconnectedError):
        sg.grad(sg.stop_gradient(x) * 3.0, x, disconnected="raise")


def test_vjp_cotangent_shape_mismatch():
    x = sg.var("x", (3,))
    with pytest.raises(ShapeError, match=r"\(2,\).*\(3,\)"):
        sg.vjp(x * 2, x, np.ones(2))


# --- call time -----------------------------------------------------------------------------
def _compiled():
    x = sg.var("x", (None, 3))
    y = sg.var("y", (None, 3))
    W = sg.param(np.arange(3.0), name="W")
    loss = ((x + y) * W).sum()
    g = sg.grad(loss, W)
    f = sg.function([x, y], [loss], updates={W: W - 0.5 * g})
    return f, W


def test_wrong_argument_count():
    f, W = _compiled()
    with pytest.raises(InputError, match=r"2 arguments.*'x', 'y'.*got 1"):
        f(np.ones((2, 3)))
    np.testing.assert_array_equal(W.value, [0.0, 1.0, 2.0])


def test_wrong_argument_shape():
    f, W = _compiled()
    with pytest.raises(InputError, match=re.escape("expected shape (?, 3), got (2, 4)")):
        f(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(InputError, match="'x'"):
        f(np.ones(3), np.ones((2, 3)))
    np.testing.assert_array_equal(W.value, [0.0, 1.0, 2.0])


def test_wrong_argument_dtype():
    f, W = _compiled()
    with pytest.raises(InputError, match="complex128"):
        f(np.ones((2, 3), complex), np.ones((2, 3)))
    with pytest.raises(InputError):
        f(np.array([["a", "b", "c"]]), np.ones((1, 3)))
    np.testing.assert_array_equal(W.value, [0.0, 1.0, 2.0])


def test_integer_arguments_convert_to_float_inputs():
    f, W = _compiled()
    (loss,) = f(np.ones((1, 3), np.int64), np.zeros((1, 3), np.int32))
    assert loss == 3.0
    np.testing.assert_array_equal(W.value, [-0.5, 0.5, 1.5])


def test_run_time_failure_leaves_every_parameter_unchanged():
    x = sg.var("x", (None, 3))
    y = sg.var("y", (None, 3))
    W = sg.param(np.arange(3.0), name="W")
    V = sg.param(np.ones((2, 2)), name="V")
    n = sg.param(0.0, name="n")
    s = sg.function([x, y], [(x * W).sum()], updates={W: W * 2, n: n + 1,
                                                       V: V + (x + y).sum()})
    before = [p.value.copy() for p in (W, V, n)]
    with pytest.raises(EvaluationError) as info:
        s(np.ones((2, 3)), np.ones((4, 3)))     # sizes None agreed on at build time only
    message = str(info.value)
    assert "add" in message and "(2, 3)" in message and "(4, 3)" in message
    assert HERE in message, message
    for p, old in zip((W, V, n), before):
        np.testing.assert_array_equal(p.value, old)
    s(np.ones((2, 3)), np.ones((2, 3)))
    np.testing.assert_array_equal(W.value, [0.0, 2.0, 4.0])
    assert n.value == 1.0


def test_inputs_must_cover_the_graph():
    x, y = sg.var("x"), sg.var("y")
    with pytest.raises(InputError, match="'y'"):
        sg.function([x], x + y)


def test_update_type_errors():
    W = sg.param(np.zeros(3), name="W")
    with pytest.raises(ShapeError, match="W"):
        sg.function([], [], updates={W: W.sum()})
    with pytest.raises(TypeError):
        sg.function([], [], updates={sg.var("v", (3,)): W})


def test_param_value_assignment_is_checked():
    W = sg.param(np.zeros((2, 2)), name="W")
    with pytest.raises(ShapeError, match="W"):
        W.value = np.zeros(3)
    W.value = np.ones((2, 2))
    np.testing.assert_array_equal(W.value, np.ones((2, 2)))


def test_build_errors_list_the_inputs_names_and_types():
    a = sg.var("activations", (3, 2))
    b = sg.var("bias", (4,))
    with pytest.raises(sg.ShapeError) as info:
        a + b
    message = str(info.value)
    assert "inputs: activations: float64(3, 2), bias: float64(4,)" in message


def test_index_out_of_bounds_is_a_symgraph_error_and_an_index_error():
    x = sg.var("x", (3, 2))
    with pytest.raises(sg.IndexingError) as info:
        x[5]
    assert isinstance(info.value, IndexError)
    assert "axis 0 with size 3" in str(info.value) and "test_errors.py" in str(info.value)


def test_reshape_of_unknown_size_into_an_impossible_fixed_shape_fails_at_build_time():
    x = sg.var("x", (None, 3))
    with pytest.raises(sg.ShapeError, match=r"multiple of 3.*\(5, 5\).*test_errors.py"):
        sg.reshape(x, (5, 5))
    assert sg.reshape(x, (6, 2)).shape == (6, 2)   # 4 rows of 3 fit


def test_concatenate_with_unknown_sizes_along_the_axis_differentiates():
    # Formerly a ShapeError: the cotangent is cut by the parts' run-time sizes.
    a, b = sg.var("a", (None, 2)), sg.var("b", (None, 2))
    y = sg.concatenate([a, 3.0 * b], axis=0)
    ga, gb = sg.grad(sg.sum(y * y), [a, b])
    A, B = np.ones((2, 2)), np.full((3, 2), 2.0)
    np.testing.assert_allclose(ga.eval({a: A, b: B}), 2 * A)
    np.testing.assert_allclose(gb.eval({a: A, b: B}), 18 * B)
