"""sg.einsum and friends against NumPy (float32 and float64), the pairwise decomposition
along np.einsum_path, derivatives of chains to second order, and the errors."""
from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from symgraph.ops.einsum import parse_subscripts
from symgraph.testing import check_grads

_SPECS = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("bA", [(3, 4)]),
    ("...ij,...jk", [(2, 1, 3, 4), (5, 4, 2)]),
    ("i...->...", [(3, 2, 2)]),
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),
    ("iij->j", [(3, 3, 2)]),
    ("ij,ij,ij->i", [(2, 3), (2, 3), (1, 3)]),
    ("ab,bc,cd,de->ae", [(2, 3), (3, 40), (40, 2), (2, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("i,j,k->ijk", [(2,), (3,), (4,)]),
    (",ij->ij", [(), (2, 3)]),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spec,shapes", _SPECS, ids=[s for s, _ in _SPECS])
def test_values_match_numpy(spec, shapes, dtype, rng):
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    xs = [sg.var(f"x{k}", a.shape, dtype) for k, a in enumerate(arrays)]
    node = sg.einsum(spec, *xs)
    value = sg.function(xs, node)(*arrays)
    expected = np.einsum(spec, *arrays)
    assert value.dtype == node.dtype == expected.dtype
    assert value.shape == node.shape == expected.shape
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(value, expected, rtol=tol, atol=tol)


def test_parse_subscripts_spells_out_ellipsis_and_implicit_output():
    assert parse_subscripts("...ij,...jk", [3, 2]) == "aij,jk->aik"
    assert parse_subscripts("ij,jk", [2, 2]) == "ij,jk->ik"
    assert parse_subscripts("ba", [2]) == "ba->ab"
    assert parse_subscripts("ii", [2]) == "ii->"


def test_three_operands_become_pairwise_nodes_along_the_optimal_path():
    a, b, c = sg.var("a", (2, 100)), sg.var("b", (100, 100)), sg.var("c", (100, 3))
    y = sg.einsum("ij,jk,kl->il", a, b, c)
    einsums = [n for n in sg.Graph(y).nodes if n.op == "einsum"]
    assert len(einsums) == 2 and all(len(n.inputs) == 2 for n in einsums)
    # (a b) first: 2*100*100 flops, then 2*100*3, rather than b c at 100*100*3
    assert {id(i) for i in einsums[0].inputs} == {id(a), id(b)}
    single = sg.einsum("ij,jk,kl->il", a, b, c, optimize=False)
    assert len(single.inputs) == 3


def test_chain_derivatives_to_second_order(rng):
    arrays = [rng.standard_normal(s) for s in [(2, 3), (3, 4), (4, 2)]]
    check_grads(lambda a, b, c: sg.einsum("ij,jk,kl->il", a, b, c) ** 2, arrays, order=2,
                optimize=False)
    check_grads(lambda a: sg.einsum("ij,jk,ki->", a, a.T, a @ a.T), [arrays[0]], order=2,
                optimize=False)


def test_derivatives_are_einsums(rng):
    a, b = sg.var("a", (2, 3)), sg.var("b", (3, 4))
    ga, gb = sg.grad(sg.einsum("ij,jk->ik", a, b).sum(), [a, b])
    assert ga.op == "einsum" and gb.op == "einsum"


def test_tensordot_inner_vdot_match_numpy(rng):
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 3, 2))
    xa, xb = sg.var("a", a.shape), sg.var("b", b.shape)
    for axes in [1, ([1, 2], [1, 0]), ([0], [2])]:
        np.testing.assert_allclose(sg.function([xa, xb], sg.tensordot(xa, xb, axes))(a, b),
                                   np.tensordot(a, b, axes), rtol=1e-12)
    c = rng.standard_normal((5, 4))
    xc = sg.var("c", c.shape)
    np.testing.assert_allclose(sg.function([xa, xc], sg.inner(xa, xc))(a, c), np.inner(a, c),
                               rtol=1e-12)
    np.testing.assert_allclose(sg.function([xa, xb], sg.vdot(xa, xb))(a, b), np.vdot(a, b),
                               rtol=1e-12)


def test_einsum_errors_name_the_problem():
    a = sg.var("a", (2, 3))
    with pytest.raises(sg.ShapeError, match=r"einsum: subscript 'j' has sizes 3 and 4.*test_einsum.py"):
        sg.einsum("ij,jk", a, sg.var("b", (4, 2)))
    with pytest.raises(sg.ShapeError, match="do not fit an operand with 2 axes"):
        sg.einsum("ijk->i", a)
    with pytest.raises(sg.ShapeError, match="output subscript 'z' is in no operand"):
        sg.einsum("ij->z", a)
    with pytest.raises(sg.ShapeError, match="needs '...'"):
        sg.einsum("...j->j", sg.var("c", (2, 3, 4)))
    with pytest.raises(TypeError, match="out= has no symbolic meaning"):
        sg.einsum("ij", a, out=np.zeros((2, 3)))


@pytest.mark.skipif("conj" not in sg.ops.REGISTRY, reason="complex parts come with np-elementwise")
def test_complex_operands_follow_the_complex_convention(rng):
    a = rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))
    b = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))
    check_grads(lambda x, y: sg.einsum("ij,jk,kl->il", x, y, y.T), [a, b], order=2)
    c = np.ascontiguousarray(b[:, :2].T)
    check_grads(lambda x, y: sg.vdot(x, y), [a, c], order=2)
    xa, xb = sg.var("a", a.shape, a.dtype), sg.var("b", (2, 3), a.dtype)
    value = sg.function([xa, xb], sg.vdot(xa, xb))(a, c)
    np.testing.assert_allclose(value, np.vdot(a, c), rtol=1e-12)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def _random_einsum(draw):
    sizes = {c: draw(st.integers(1, 3)) for c in "abcd"}
    n = draw(st.integers(1, 3))
    terms = [draw(st.text("abcd", min_size=0, max_size=3)) for _ in range(n)]
    letters = sorted(set("".join(terms)))
    out = "".join(draw(st.permutations(letters))[:draw(st.integers(0, len(letters)))])
    spec = ",".join(terms) + "->" + out
    return spec, [tuple(sizes[c] for c in t) for t in terms]


@settings(max_examples=40, deadline=None)
@given(_random_einsum())
def test_random_einsums_match_numpy_and_finite_differences(case):
    # repeated letters (diagonals), letters summed in one operand only, outputs in any order
    spec, shapes = case
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    xs = [sg.var(f"x{k}", s) for k, s in enumerate(shapes)]
    node = sg.einsum(spec, *xs)
    np.testing.assert_allclose(sg.function(xs, node)(*arrays), np.einsum(spec, *arrays),
                               rtol=1e-12, atol=1e-12)
    check_grads(node, xs, arrays, order=2, optimize=False)
