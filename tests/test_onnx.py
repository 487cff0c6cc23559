"""ONNX exchange: exported models run in onnxruntime and agree with symgraph; models made
with the onnx helper API import, evaluate and differentiate correctly (checked against
finite differences); export then import gives the same graph."""
from __future__ import annotations

import builtins

import numpy as np
import pytest

import symgraph as sg
from symgraph import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from symgraph.onnx import export_onnx, import_onnx  # noqa: E402
from symgraph.onnx.export import OnnxExportError  # noqa: E402
from symgraph.onnx.importer import OnnxImportError  # noqa: E402


def _run(model, feeds: dict) -> list:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def _mlp(rng, dtype="float32"):
    x, y = sg.var("x", (None, 6), dtype), sg.var("y", (None,), "int64")
    return x, y, nn.MLP([6, 8, 4], activation="tanh", seed=3, dtype=dtype)


def test_mlp_forward_and_gradient_run_in_onnxruntime(rng, tmp_path):
    x, y, model = _mlp(rng)
    logits = model(x)
    loss = nn.softmax_cross_entropy(logits, y)
    grads = sg.grad(loss, model.params())
    f = sg.function([x, y], [logits, loss, *grads])
    path = tmp_path / "mlp.onnx"
    export_onnx(f, path)
    for n in (1, 5, 17):                               # one model, any batch size
        X = rng.standard_normal((n, 6)).astype(np.float32)
        Y = rng.integers(0, 4, n)
        got = _run(onnx.load(path), {"x": X, "y": Y})
        for a, b in zip(got, f(X, Y)):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_cnn_forward_runs_in_onnxruntime(rng):
    # float32: onnxruntime's CPU Conv has no float64 kernel
    model = nn.Sequential([
        nn.Conv2D(1, 3, 3, padding="same", activation="relu", seed=1, dtype="float32",
                  name="conv"),
        nn.MaxPool2D(2, name="pool"), nn.Flatten(name="flat"),
        nn.Dense(3 * 16, 5, seed=2, dtype="float32", name="dense")])
    x = sg.var("x", (None, 1, 8, 8), "float32")
    f = sg.function([x], sg.softmax(model(x), axis=-1))
    X = rng.standard_normal((4, 1, 8, 8)).astype(np.float32)
    (got,) = _run(export_onnx(f), {"x": X})
    np.testing.assert_allclose(got, f(X), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("stride,padding,pool_stride", [(1, 0, 2), (2, 1, 1)])
def test_cnn_gradients_run_in_onnxruntime(rng, stride, padding, pool_stride):
    # the convolution's input and kernel gradients (ConvTranspose, dilated Conv) and the
    # pooling gradients (grouped ConvTranspose), strided and padded, windows overlapping
    # when pool_stride is 1; integer-valued images make pixels tie for a window's maximum,
    # where symgraph splits the share: the ONNX model must too
    x = sg.var("x", (3, 2, 9, 9), "float32")
    W = sg.param(rng.standard_normal((4, 2, 3, 3)).astype(np.float32), name="W")
    W2 = sg.param(rng.standard_normal((5, 4, 2, 2)).astype(np.float32), name="W2")
    h = sg.relu(sg.conv2d(x, W, stride=stride, padding=padding))
    m = sg.max_pool2d(h, 2, stride=pool_stride)
    a = sg.avg_pool2d(sg.conv2d(m, W2), 2, stride=1)
    loss = sg.sum(a * a)
    f = sg.function([x], [loss, *sg.grad(loss, [x, W, W2])])
    X = np.round(rng.standard_normal((3, 2, 9, 9)) * 2).astype(np.float32)
    got = _run(export_onnx(f), {"x": X})
    want = f(X)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5 * np.abs(w).max())


def test_a_layer_cnn_training_graph_exports(rng):
    model = nn.Sequential([
        nn.Conv2D(1, 3, 3, padding="same", activation="relu", seed=1, dtype="float32",
                  name="conv"),
        nn.MaxPool2D(2, name="pool"), nn.Flatten(name="flat"),
        nn.Dense(3 * 16, 5, seed=2, dtype="float32", name="dense")])
    x, y = sg.var("x", (4, 1, 8, 8), "float32"), sg.var("y", (4,), "int64")
    loss = nn.softmax_cross_entropy(model(x), y)
    f = sg.function([x, y], [loss, *sg.grad(loss, model.params())])
    X = rng.standard_normal((4, 1, 8, 8)).astype(np.float32)
    Y = rng.integers(0, 5, 4)
    for g, w in zip(_run(export_onnx(f), {"x": X, "y": Y}), f(X, Y)):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_slicing_gradients_run_in_onnxruntime(rng):
    # basic indexing (steps, negative steps, ints, None, ellipsis); picks overlap
    x = sg.var("x", (5, 6), "float32")
    outs = [x[1:4, ::2], x[::-1, 2], x[None, -1, 1:], x[..., 3], x[-2:, -1:0:-3]]
    loss = outs[0].sum() * 0.0
    for k, o in enumerate(outs):
        loss = loss + sg.sum(o * o) * float(k + 1)
    f = sg.function([x], [loss, *sg.grad(loss, [x])])
    X = rng.standard_normal((5, 6)).astype(np.float32)
    got, want = _run(export_onnx(f), {"x": X}), f(X)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    expected = np.zeros((5, 6), np.float32)
    for k, idx in enumerate([np.s_[1:4, ::2], np.s_[::-1, 2], np.s_[-1, 1:], np.s_[..., 3],
                             np.s_[-2:, -1:0:-3]]):
        np.add.at(expected, idx, 2.0 * (k + 1) * X[idx])
    np.testing.assert_allclose(got[1], expected, rtol=1e-5, atol=1e-6)


def test_weak_scalars_and_mixed_dtypes_are_cast_as_numpy_promotes(rng):
    x = sg.var("x", (3,), "float32")
    i = sg.var("i", (3,), "int64")
    outs = [x * 2.0 + 1, sg.cast(i, "float32") * x, sg.where(x > 0.0, x, 0.5 * x),
            sg.clip(x, -0.5, None), sg.log1p(sg.abs(x)), sg.expm1(x), sg.square(x),
            x[::2], x[None, 1:], sg.stack([x, x], 1).sum(axis=0)]
    f = sg.function([x, i], outs)
    X = rng.standard_normal(3).astype(np.float32)
    I = np.array([1, 2, 3])
    got = _run(export_onnx(f), {"x": X, "i": I})
    for a, b in zip(got, f(X, I)):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_unsupported_ops_are_listed_in_one_error():
    x = sg.var("x", (2, 3))
    y = sg.dropout_mask(sg.param(np.array(0)), x, keep=0.5, seed=1)
    with pytest.raises(OnnxExportError, match="dropout_mask") as err:
        export_onnx([y * x], inputs=[x])
    assert "test_onnx.py" in str(err.value)          # the user's line


def test_inputs_must_cover_the_graph():
    a, b = sg.var("a", (2,)), sg.var("b", (2,))
    with pytest.raises(ValueError, match="b"):
        export_onnx([a + b], inputs=[a])


def test_export_then_import_gives_the_same_graph(rng):
    x, _, model = _mlp(rng, "float64")
    probs = sg.softmax(model(x), axis=-1)
    imported = import_onnx(export_onnx(sg.function([x], probs)).SerializeToString())

    def shape_of_graph(outputs):
        return [(n.op, n.attrs, n.shape, str(n.dtype)) for n in sg.Graph(outputs).nodes
                if n.op not in ("var", "param", "const")]
    f = sg.function([x], probs)
    g = imported.function()
    assert shape_of_graph(g.graph.outputs) == shape_of_graph(f.graph.outputs)
    assert sorted(imported.params) == sorted(f"{p.scope}/{p.name}" for p in model.params())
    X = rng.standard_normal((3, 6))
    np.testing.assert_array_equal(g(X), f(X))


def _helper_model() -> onnx.ModelProto:
    # y = sum(relu(Gemm(x, W, b)) ** 2): a small model written with the onnx helper API
    W = numpy_helper.from_array(np.array([[0.5, -1.0, 0.3], [0.2, 0.8, -0.4]]), "W")
    b = numpy_helper.from_array(np.array([0.1, -0.2, 0.05]), "b")
    two = numpy_helper.from_array(np.array(2.0), "two")
    nodes = [helper.make_node("Gemm", ["x", "W", "b"], ["h"]),
             helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Pow", ["r", "two"], ["p"]),
             helper.make_node("ReduceSum", ["p"], ["y"], keepdims=0)]
    graph = helper.make_graph(
        nodes, "small", [helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["n", 2])],
        [helper.make_tensor_value_info("y", TensorProto.DOUBLE, [])], initializer=[W, b, two])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def test_a_helper_made_model_imports_evaluates_and_differentiates(rng):
    model = _helper_model()
    imported = import_onnx(model)
    (x,), (y,) = imported.inputs, imported.outputs
    assert x.shape == (None, 2)
    X = rng.uniform(0.5, 1.5, (4, 2))
    (want,) = _run(model, {"x": X})
    np.testing.assert_allclose(imported.function()(X), want, rtol=1e-12)
    W = imported.params["W"]
    gW = sg.grad(y, W)
    # central differences of the ONNX model itself (onnxruntime), not of symgraph
    eps, fd = 1e-6, np.zeros((2, 3))
    for k in np.ndindex(2, 3):
        for sign in (1, -1):
            m = _helper_model()
            arr = numpy_helper.to_array(m.graph.initializer[0]).copy()
            arr[k] += sign * eps
            m.graph.initializer[0].CopyFrom(numpy_helper.from_array(arr, "W"))
            fd[k] += sign * _run(m, {"x": X})[0] / (2 * eps)
    np.testing.assert_allclose(sg.function([x], gW)(X), fd, rtol=1e-6, atol=1e-8)
    # and a second derivative, which ONNX itself cannot give
    hvp = sg.hvp(y, W, np.ones((2, 3)))
    assert np.isfinite(sg.function([x], hvp)(X)).all()


def test_unknown_onnx_ops_are_listed_in_one_error():
    nodes = [helper.make_node("Erf", ["x"], ["a"]), helper.make_node("Celu", ["a"], ["y"])]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    with pytest.raises(OnnxImportError, match="Celu, Erf"):
        import_onnx(model)


def test_missing_extra_names_the_install(monkeypatch):
    real = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name == "onnx" or name.startswith("onnx."):
            raise ImportError(name)
        return real(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_onnx)
    with pytest.raises(ImportError, match=r"pip install symgraph\[onnx\]"):
        sg.export_onnx([sg.var("x", (2,)) * 2.0])


def test_exported_file_is_written_atomically(tmp_path, monkeypatch):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"old")
    x = sg.var("x", (2,))
    import os

    def fail(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        export_onnx([x * 2.0], path)
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


def test_numpy_functions_export_and_agree_with_onnxruntime(rng):
    # float32: onnxruntime's CPU kernels for the trigonometric functions are float only
    x = sg.var("x", (3, 4), "float32")
    m = sg.var("m", (2, 3, 3), "float32")
    unit = sg.tanh(x) * 0.9                       # inside (-1, 1) for arcsin and friends
    outs = [sg.tan(unit), sg.arcsin(unit), sg.arccos(unit), sg.arctan(x), sg.sinh(x),
            sg.cosh(x), sg.arcsinh(x), sg.arccosh(1.5 + x * x), sg.arctanh(unit),
            sg.floor(x), sg.ceil(x), sg.round(x * 3), sg.log2(1 + x * x),
            sg.log10(1 + x * x), sg.exp2(x), sg.isnan(x), sg.isfinite(x), sg.prod(x, axis=1),
            sg.argmax(x, axis=1), sg.argmin(x), sg.cumsum(x, axis=0),
            sg.einsum("ij,kj->ik", x, x), sg.linalg.det(m), sg.special.erf(x)]
    f = sg.function([x, m], outs)
    X = rng.standard_normal((3, 4)).astype(np.float32)
    M = rng.standard_normal((2, 3, 3)).astype(np.float32)
    got = _run(export_onnx(f), {"x": X, "m": M})
    for a, b, node in zip(got, f(X, M), outs):
        assert a.dtype == b.dtype, node.op
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6, err_msg=node.op)
