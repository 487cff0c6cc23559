"""symgraph.numpy and NumPy's dispatch on nodes (NEP 13 ``__array_ufunc__``, NEP 18
``__array_function__``): every NumPy ufunc and function either builds graph nodes or names
itself in a clear error; meaningless arguments are refused; arrays mixed with nodes still
build nodes; ``snp`` resolves names generically and declares nothing of its own."""
from __future__ import annotations

import ast
import pathlib
import subprocess
import sys
import types

import numpy as np
import pytest

import symgraph as sg
import symgraph.numpy as snp
from symgraph.errors import UnsupportedError
from symgraph.numpy import _resolve

ROOT = pathlib.Path(__file__).resolve().parents[1]
UFUNCS = sorted(n for n in dir(np) if isinstance(getattr(np, n), np.ufunc))
FUNCTIONS = sorted(n for n in dir(np) if not n.startswith("_") and callable(getattr(np, n))
                   and not isinstance(getattr(np, n), (type, np.ufunc)))


def _x(shape=(2, 3)):
    return sg.var("x", shape)


def _arity(ufunc: np.ufunc, x=None) -> list:
    other = np.full((3, 2) if ufunc.__name__ in ("matmul", "matvec", "vecmat") else (2, 3), 0.5)
    return [_x() if x is None else x] + [other] * (ufunc.nin - 1)


# --- every ufunc and function either resolves or says clearly why not -----------------------
@pytest.mark.parametrize("name", UFUNCS)
def test_every_ufunc_builds_a_node_or_names_itself(name):
    ufunc = getattr(np, name)
    try:
        out = ufunc(*_arity(ufunc))
    except UnsupportedError as exc:
        assert f"numpy.{ufunc.__name__}" in str(exc) and ("symgraph.numpy" in str(exc) or "on purpose" in str(exc))
        with pytest.raises(AttributeError):
            getattr(snp, ufunc.__name__)
        return
    outs = out if isinstance(out, tuple) else (out,)
    assert all(isinstance(o, sg.Node) for o in outs), name
    # the node computes what NumPy computes
    data = np.linspace(0.1, 0.9, 6).reshape(2, 3)
    x = _x()
    args = _arity(ufunc, x)
    with np.errstate(all="ignore"):   # arccosh of 0.5 is NaN in both
        got = sg.function([x], outs_of(ufunc(*args)))(data)
        want = ufunc(data, *args[1:])
    want = want if isinstance(want, tuple) else (want,)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def outs_of(out):
    return list(out) if isinstance(out, tuple) else [out]


def test_supported_ufuncs_cover_the_core():
    x = _x()
    for name in ("add", "subtract", "multiply", "divide", "power", "exp", "log", "sqrt",
                 "sin", "cos", "tanh", "absolute", "negative", "maximum", "minimum", "square",
                 "matmul", "less", "greater_equal", "equal", "log1p", "expm1", "sign",
                 "logical_and", "reciprocal", "positive"):
        ufunc = getattr(np, name)
        args = [x.T @ x] * 2 if name == "matmul" else [x] * ufunc.nin
        assert isinstance(ufunc(*args), sg.Node), name


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_function_resolves_or_names_itself(name):
    try:
        found = getattr(snp, name)
    except AttributeError as exc:
        message = str(exc)
        assert f"numpy.{name}" in message
        assert "on purpose" in message or "symgraph.numpy" in message
        reason = _resolve._names.LEFT_OUT.get(name)
        assert reason is None or reason in message
        return
    assert callable(found)


@pytest.mark.parametrize("space", ["linalg", "fft"])
def test_linalg_and_fft_names_resolve_or_name_themselves(space):
    numpy_space = getattr(np, space)
    for name in sorted(n for n in dir(numpy_space) if not n.startswith("_")):
        try:
            getattr(getattr(snp, space), name)
        except AttributeError as exc:
            assert f"numpy.{space}.{name}" in str(exc)


def test_left_out_functions_give_their_reason_through_dispatch():
    x = _x()
    with pytest.raises(UnsupportedError, match=r"numpy\.unique.*on purpose.*shape depends"):
        np.unique(x)
    with pytest.raises(UnsupportedError, match=r"numpy\.nonzero.*on purpose"):
        np.nonzero(x)
    with pytest.raises(UnsupportedError, match=r"numpy\.put_along_axis.*immutable"):
        np.put_along_axis(x, np.zeros((2, 1), int), 1.0, axis=1)


def test_numpy_functions_outside_the_main_namespaces_name_themselves():
    with pytest.raises(UnsupportedError, match=r"numpy\.lib\.stride_tricks\.sliding_window_view.*symgraph\.numpy"):
        np.lib.stride_tricks.sliding_window_view(_x(), 2, axis=1)


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="does not exist"):
        snp.no_such_function
    assert not hasattr(snp, "relu")    # NumPy's names only


# --- the protocols build the same nodes as snp -------------------------------------------------
def test_numpy_functions_on_nodes_build_nodes():
    x = _x((3, 4))
    data = np.random.default_rng(0).standard_normal((3, 4))
    built = [np.sum(x, axis=0), np.mean(x, axis=1, keepdims=True), np.exp(x), np.transpose(x),
             np.concatenate([x, data], axis=0), np.stack([x, x]), np.reshape(x, (4, 3)),
             np.swapaxes(x, 0, 1), np.sort(x, axis=1), np.median(x), np.tril(x), np.trace(x),
             np.pad(x, 1), np.where(x > 0, x, 0.0), np.clip(x, -0.5, 0.5), np.max(x),
             np.squeeze(x[None]), np.dot(x, data.T), np.outer(x[0], x[1]), data + x, data @ x.T,
             np.float64(2.0) * x, np.add.reduce(x), np.multiply.outer(x[0], x[1]),
             np.maximum.reduce(x, axis=1)]
    want = [data.sum(0), data.mean(1, keepdims=True), np.exp(data), data.T,
            np.concatenate([data, data]), np.stack([data, data]), data.reshape(4, 3),
            data.swapaxes(0, 1), np.sort(data, 1), np.median(data), np.tril(data),
            np.trace(data), np.pad(data, 1), np.where(data > 0, data, 0.0),
            np.clip(data, -0.5, 0.5), data.max(), data, data @ data.T,
            np.outer(data[0], data[1]), 2 * data, data @ data.T, 2.0 * data, data.sum(0),
            np.multiply.outer(data[0], data[1]), data.max(1)]
    assert all(isinstance(b, sg.Node) for b in built)
    got = sg.function([x], built)(data)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def test_arrays_mixed_with_nodes_still_build_nodes_and_keep_float32():
    x = sg.var("x", (3,), "float32")
    for node in (np.ones(3, np.float32) + x, np.ones(3, np.float32) * x, x - np.ones(3, np.float32),
                 np.ones(3, np.float32) < x, np.ones((2, 3), np.float32) @ x):
        assert isinstance(node, sg.Node)
    assert (np.ones(3, np.float32) + x).dtype == np.float32
    assert (np.exp(x)).dtype == np.float32
    assert (np.ones(3) + x).dtype == np.float64     # a float64 array promotes, as in NumPy


def test_asarray_of_a_node_fails_clearly():
    x = _x()
    with pytest.raises(UnsupportedError, match="symbolic.*evaluate"):
        np.asarray(x)
    with pytest.raises(TypeError):
        np.array([x, x], dtype=float)


@pytest.mark.parametrize("call,word", [
    (lambda x: np.exp(x, out=np.empty((2, 3))), "out="),
    (lambda x: np.add(x, 1.0, where=np.ones((2, 3), bool)), "where="),
    (lambda x: np.add(x, 1.0, casting="unsafe"), "casting="),
    (lambda x: np.sum(x, out=np.empty(3), axis=0), "out="),
    (lambda x: np.sum(x, where=np.ones((2, 3), bool)), "where="),
    (lambda x: np.exp(x, signature="d->d"), "signature="),
    (lambda x: snp.add(x, x, np.empty((2, 3))), "out="),
    (lambda x: np.mean(x, where=np.ones((2, 3), bool)), "where="),
    (lambda x: np.reshape(x, (3, 2), order="F"), "order="),
    (lambda x: snp.exp(x, order="F"), "order="),
    (lambda x: np.add.at(x, [0], 1.0), "add.at"),
])
def test_meaningless_arguments_are_refused_clearly(call, word):
    with pytest.raises(UnsupportedError, match=word.replace(".", r"\.")):
        call(_x())


def test_reductions_take_numpys_positional_order_and_initial():
    x = sg.var("x", (2, 3))
    data = np.arange(6.0).reshape(2, 3) - 2.5
    nodes = [np.sum(x, 0, np.float32), np.mean(x, 1, None, None, True), np.max(x, 1, None, True),
             np.max(x, initial=3.0), np.min(x, axis=0, initial=-2.0), np.sum(x, initial=1.5),
             np.amax(x, 0), snp.amin(x, 1, None, True)]
    want = [np.sum(data, 0, np.float32), np.mean(data, 1, None, None, True),
            np.max(data, 1, None, True), np.max(data, initial=3.0),
            np.min(data, axis=0, initial=-2.0), np.sum(data, initial=1.5), np.amax(data, 0),
            np.amin(data, 1, None, True)]
    for got, w, node in zip(sg.function([x], nodes)(data), want, nodes):
        assert got.shape == np.shape(w) and got.dtype == node.dtype
        np.testing.assert_allclose(got, w)
    assert nodes[0].dtype == np.float32


def test_dtype_argument_sets_the_computation_dtype():
    x = sg.var("x", (3,), "float64")
    assert np.sum(x, dtype=np.float32).dtype == np.float32
    assert np.exp(x, dtype=np.float32).dtype == np.float32
    assert snp.mean(x, dtype="float32").dtype == np.float32
    assert np.add(x, x, out=None).dtype == np.float64   # out=None changes nothing


# --- snp is generic and declares nothing ---------------------------------------------------------
def test_snp_declares_no_ops_and_states_no_rules():
    # importing symgraph.numpy registers nothing
    code = ("import symgraph, symgraph.ops.registry as r; n = len(r.REGISTRY); "
            "import symgraph.numpy as snp, symgraph.numpy._names, symgraph.numpy._dispatch, "
            "symgraph.numpy.linalg, symgraph.numpy.fft; snp.sum; snp.sort; "
            "assert len(r.REGISTRY) == n, sorted(r.REGISTRY)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    # and no module of the package calls register, builds an Op or writes a vjp/jvp rule
    for path in sorted((ROOT / "symgraph" / "numpy").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
                called = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
                assert called not in ("register", "Op", "apply"), f"{path.name} calls {called}"
            if isinstance(node, ast.FunctionDef):
                assert not node.name.endswith(("_vjp", "_jvp")), f"{path.name}: {node.name}"


def test_names_resolve_to_symgraph_functions_added_later(monkeypatch):
    # a function another part of symgraph adds later appears in snp with no edit to snp
    def logaddexp2(a, b):
        return sg.log(sg.exp(a) + sg.exp(b))
    logaddexp2.__module__ = "symgraph.ops.later"
    monkeypatch.setattr(sg.ops, "logaddexp2", logaddexp2, raising=False)
    monkeypatch.delattr(sg, "logaddexp2", raising=False)
    _resolve._cache.clear()
    try:
        assert snp.logaddexp2.__wrapped__ is logaddexp2
        assert isinstance(np.logaddexp2(_x(), 1.0), sg.Node)
    finally:
        _resolve._cache.clear()


def test_var_maps_to_variance_not_to_the_placeholder(monkeypatch):
    def variance(x, axis=None, ddof=0, keepdims=False):
        return sg.mean(sg.square(x - sg.mean(x, axis, keepdims=True)), axis, keepdims)
    variance.__module__ = "symgraph.ops.later"
    monkeypatch.setattr(sg, "variance", variance, raising=False)
    _resolve._cache.clear()
    try:
        x = _x()
        node = np.var(x, axis=0)
        data = np.arange(6.0).reshape(2, 3) ** 2
        np.testing.assert_allclose(sg.function([x], node)(data), data.var(axis=0))
    finally:
        _resolve._cache.clear()


def test_linalg_and_fft_resolve_lazily_to_symgraph_modules(monkeypatch):
    fake = types.ModuleType("symgraph.linalg")

    def norm(x, ord=None, axis=None, keepdims=False):
        return sg.sqrt(sg.sum(sg.square(x), axis, keepdims))
    norm.__module__ = "symgraph.linalg"
    fake.norm = norm
    monkeypatch.setitem(sys.modules, "symgraph.linalg", fake)
    _resolve._cache.clear()
    try:
        x = _x()
        node = np.linalg.norm(x)
        assert snp.linalg.norm.__wrapped__ is norm
        data = np.arange(6.0).reshape(2, 3)
        np.testing.assert_allclose(sg.function([x], node)(data), np.linalg.norm(data))
        # numpy.linalg's names that are the same as numpy's
        np.testing.assert_allclose(sg.function([x], snp.linalg.trace(x[:, :2]))(data),
                                   np.linalg.trace(data[:, :2]))
    finally:
        _resolve._cache.clear()


def test_snp_namespace_passes_numpy_constants_and_dtypes_through():
    assert snp.pi == np.pi and snp.float32 is np.float32 and snp.newaxis is None
    assert snp.finfo is np.finfo
    # NumPy's own fromfunction calls its function once on index grids: nodes inside give a node
    w = sg.var("w", ())
    grid = snp.fromfunction(lambda i, j: w * i + j, (2, 3))
    np.testing.assert_array_equal(sg.function([w], grid)(2.0), 2.0 * np.arange(2)[:, None] + np.arange(3))
    assert "sum" in dir(snp) and "linalg" in dir(snp)


# --- the table of docs/numpy.md says what the code does ------------------------------------------
def _table_script():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_numpy_table
    finally:
        sys.path.pop(0)
    return make_numpy_table


def test_docs_table_lists_every_numpy_function_truthfully():
    script = _table_script()
    page = (ROOT / "docs" / "numpy.md").read_text()
    table = page.split(script.START, 1)[1].split(script.END, 1)[0]
    shown = {}
    for line in table.splitlines():
        if line.startswith("| `"):
            name, status, note = [c.strip() for c in line.strip("|").split("|")]
            shown[name.strip("`")] = (status, note)
    for space, name in script.numpy_functions():
        qualified = name if space == "numpy" else f"{space}.{name}"
        assert qualified in shown, f"docs/numpy.md lacks {qualified}: run scripts/make_numpy_table.py"
        status, note = shown[qualified]
        actual = script.status(space, name)
        # a row may lag behind a function added since (it says "not yet"); it never over-claims
        if status != "not yet":
            assert (status, note) == actual, f"{qualified}: the table says {status}, the code {actual}"
    # the script's statuses can fail: a name it calls supported resolves to a node builder
    assert script.status("numpy", "sort") == ("yes", "differentiable")
    assert script.status("numpy", "argsort")[1].startswith("no derivative")
    assert script.status("numpy", "unique")[0] == "left out"
    assert script.status("numpy", "finfo")[0] == "NumPy's own"


def test_another_array_library_gets_its_turn():
    # NEP 13/18: symgraph declines when a foreign array type takes part, so that type decides
    class Foreign:
        def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
            return "foreign ufunc"

        def __array_function__(self, func, types, args, kwargs):
            return "foreign function"

    x = _x()
    assert np.add(x, Foreign()) == "foreign ufunc"
    assert np.concatenate([x, Foreign()]) == "foreign function"


def test_einsum_path_plans_on_shapes():
    a, b = sg.var("a", (3, 4)), sg.var("b", (4, 5))
    path, text = np.einsum_path("ij,jk->ik", a, np.ones((4, 5)))
    assert path == np.einsum_path("ij,jk->ik", np.ones((3, 4)), np.ones((4, 5)))[0]
    assert snp.einsum_path("ij,jk->ik", a, b)[0][0] == "einsum_path"


def test_in_place_update_of_an_array_by_a_node_says_how_to_write_it():
    total = np.zeros(3)
    with pytest.raises(UnsupportedError, match="total = total \\+ node"):
        total += sg.var("x", (3,))
    total = total + sg.var("x", (3,))          # the rebinding form builds a node
    assert isinstance(total, sg.Node)
