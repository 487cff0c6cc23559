"""The textbook's worked examples, to the digit (numbers from the notes in shared/seeds)."""
from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg


# --- f(x, y) = x y^2 + y + 5 at (2, 3): the dual-number example ----------------------------
def _f():
    x, y = sg.var("x"), sg.var("y")
    return x, y, x * y ** 2 + y + 5


def test_dual_number_example_value_and_reverse_mode():
    x, y, f = _f()
    dfdx, dfdy = sg.grad(f, [x, y])
    value, gx, gy = sg.function([x, y], [f, dfdx, dfdy])(2.0, 3.0)
    assert value == 26.0
    assert gy == 13.0        # 2 x y + 1
    assert gx == 9.0         # y ** 2


def test_dual_number_example_forward_mode():
    # Feeding y = 3 + eps reads off 26 + 13 eps; x = 2 + eps reads off 9.
    x, y, f = _f()
    along_y = sg.jvp(f, [x, y], [0.0, 1.0])
    along_x = sg.jvp(f, [x, y], [1.0, 0.0])
    assert sg.function([x, y], [f, along_y, along_x])(2.0, 3.0) == [26.0, 13.0, 9.0]


def test_dual_number_example_one_wrt_only():
    x, y, f = _f()
    assert sg.function([x, y], sg.jvp(f, y, 1.0))(2.0, 3.0) == 13.0
    assert sg.function([x, y], sg.grad(f, x))(2.0, 3.0) == 9.0


# --- a = (f + 3 + f g) (f g + 2) at f = 4, g = 2: shared subexpression e = f g --------------
def test_shared_subexpression_example():
    f, g = sg.var("f"), sg.var("g")
    e = f * g
    a = (f + 3 + e) * (e + 2)
    dadf, dadg = sg.grad(a, [f, g])
    run = sg.function([f, g], [a, dadf, dadg])
    value, df, dg = run(4.0, 2.0)
    assert value == 150.0
    assert df == 60.0                     # c + g c + g b with b = 15, c = 10
    assert dg == 100.0                    # f c + f b, by the product rule
    # the closed form the notes derive: da/df = 2 + 5 g + 2 f g + 2 f g^2
    for fv, gv in [(1.0, -1.0), (0.5, 3.0), (-2.0, 0.25)]:
        assert run(fv, gv)[1] == pytest.approx(2 + 5 * gv + 2 * fv * gv + 2 * fv * gv ** 2)


def test_shared_subexpression_forward_mode():
    f, g = sg.var("f"), sg.var("g")
    e = f * g
    a = (f + 3 + e) * (e + 2)
    assert sg.function([f, g], sg.jvp(a, [f, g], [1.0, 0.0]))(4.0, 2.0) == 60.0


def test_repeated_subexpression_is_computed_once_after_cse():
    f, g = sg.var("f"), sg.var("g")
    a = (f + 3 + f * g) * (g * f + 2)   # f*g written twice, in both orders
    run = sg.function([f, g], a)
    products = [n for n in run.graph if n.op == "multiply" and
                sorted(i.id for i in n.inputs) == sorted((f.id, g.id))]
    assert len(products) == 1                 # f*g is computed once
    assert run(4.0, 2.0) == 150.0


# --- XOR: relu(X W + c) w + b solves XOR exactly --------------------------------------------
X_XOR = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


def _xor_net():
    X = sg.var("X", (None, 2))
    W = sg.param(np.array([[1.0, 1.0], [1.0, 1.0]]), name="W")
    c = sg.param(np.array([0.0, -1.0]), name="c")
    w = sg.param(np.array([1.0, -2.0]), name="w")
    b = sg.param(0.0, name="b")
    h = sg.relu(X @ W + c)
    return X, h, h @ w + b


def test_xor_network_maps_the_four_points():
    X, h, y = _xor_net()
    hidden, out = sg.function([X], [h, y])(X_XOR)
    np.testing.assert_array_equal(hidden, [[0, 0], [1, 0], [1, 0], [2, 1]])
    np.testing.assert_array_equal(out, [0.0, 1.0, 1.0, 0.0])
    assert y.shape == (None,)


def test_xor_network_by_eval():
    X, _, y = _xor_net()
    np.testing.assert_array_equal(y.eval({X: X_XOR}), [0.0, 1.0, 1.0, 0.0])
