"""Build a symgraph graph from an ONNX model.

Each ONNX node becomes symgraph ops through the table at the end, so an imported model is
an ordinary graph: it can be drawn, differentiated to any order and compiled. Graph inputs
become ``sg.var`` nodes (a named or unknown dimension becomes ``None``); initializers
become parameters under their ONNX names (or constants with ``initializers="const"``),
except where an ONNX op reads them as static data (a shape, axes, slice bounds), which
symgraph keeps as attributes. Every ONNX op that has no symgraph counterpart is listed in
one ``OnnxImportError``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import numpy as np

import symgraph.ops as ops
from symgraph.errors import ArgumentError, SymgraphError
from symgraph.graph import Node
from symgraph.onnx import require_onnx
from symgraph.ops.registry import apply


class OnnxImportError(SymgraphError):
    """An ONNX model uses ops or attributes symgraph cannot build."""


@dataclass(frozen=True)
class _ShapeOf:
    """The run-time sizes of ``node`` along ``axes``: ONNX's ``Shape`` (and ``Gather`` of
    it), which symgraph has no value for; ops that read it become ``*_like`` ops."""

    node: Node
    axes: tuple


@dataclass(frozen=True)
class ImportedModel:
    """What ``import_onnx`` built: the model's inputs, outputs and parameters, in order."""

    inputs: tuple[Node, ...]
    outputs: tuple[Node, ...]
    params: dict = field(default_factory=dict)          # ONNX initializer name -> node
    opset: int = 0

    def function(self, **options: Any) -> Any:
        """The model compiled: ``f(*inputs)`` gives its output, or a list of its outputs."""
        from symgraph.runtime.function import function
        outputs = self.outputs[0] if len(self.outputs) == 1 else list(self.outputs)
        return function(list(self.inputs), outputs, **options)


@dataclass
class _Reader:
    """ONNX value names -> symgraph nodes, plus the static arrays (initializers, Constant)."""

    onnx: Any
    opset: int
    as_params: bool
    trainable: Optional[frozenset] = None               # initializer names, when recorded
    values: dict = field(default_factory=dict)          # name -> Node
    arrays: dict = field(default_factory=dict)          # name -> np.ndarray (static data)
    params: dict = field(default_factory=dict)
    producers: dict = field(default_factory=dict)       # name -> NodeProto

    def node(self, name: str) -> Node:
        if name in self.values:
            return self.values[name]
        if name in self.arrays:
            arr = self.arrays[name]
            trainable = (self.as_params and arr.dtype.kind == "f"
                         and (self.trainable is None or name in self.trainable))
            made = ops.param(arr, name=name) if trainable else ops.const(arr, name=name)
            if made.op == "param":
                self.params[name] = made
            self.values[name] = made
            return made
        raise OnnxImportError(f"import_onnx: value {name!r} is used before it is made")

    def array(self, name: str, proto: Any, what: str) -> np.ndarray:
        if name in self.arrays:
            return self.arrays[name]
        raise OnnxImportError(f"import_onnx: {proto.op_type} node {proto.name or proto.output[0]!r}"
                              f" needs {what} ({name!r}) as constant data, not a computed value")


def _attrs(onnx: Any, proto: Any) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in proto.attribute}


def _axes(r: _Reader, proto: Any, attrs: dict, slot: int = 1) -> Optional[tuple]:
    # Axes are an attribute before opset 13 (18 for most reductions), an input after.
    if "axes" in attrs:
        return tuple(int(a) for a in attrs["axes"])
    if len(proto.input) > slot and proto.input[slot]:
        return tuple(int(a) for a in r.array(proto.input[slot], proto, "axes"))
    return None


Converter = Callable[[_Reader, Any, list, dict], Node]


def _binary(fn: Callable[[Any, Any], Node]) -> Converter:
    return lambda r, p, xs, a: fn(xs[0], xs[1])


def _unary(fn: Callable[[Any], Node]) -> Converter:
    return lambda r, p, xs, a: fn(xs[0])


def _variadic(fn: Callable[[Any, Any], Node]) -> Converter:
    def build(r: _Reader, p: Any, xs: list, a: dict) -> Node:
        out = xs[0]
        for x in xs[1:]:
            out = fn(out, x)
        return out
    return build


def _reduce(fn: Callable[..., Node]) -> Converter:
    def build(r: _Reader, p: Any, xs: list, a: dict) -> Node:
        axes = _axes(r, p, a)
        if axes is None and a.get("noop_with_empty_axes", 0):
            return xs[0]
        return fn(xs[0], axes, bool(a.get("keepdims", 1)))
    return build


def _softmax(fn: Callable[..., Node]) -> Converter:
    def build(r: _Reader, p: Any, xs: list, a: dict) -> Node:
        axis = a.get("axis", -1 if r.opset >= 13 else 1)
        if r.opset < 13 and xs[0].ndim != 2:
            raise OnnxImportError(f"import_onnx: {p.op_type} before opset 13 flattens its "
                                  f"input; only 2-D inputs are imported")
        return fn(xs[0], axis=axis)
    return build


def _clip(r: _Reader, p: Any, xs: list, a: dict) -> Node:
    bounds = [a.get("min"), a.get("max")]
    for k in (1, 2):
        if len(p.input) > k and p.input[k]:
            bounds[k - 1] = float(r.array(p.input[k], p, "a clip bound"))
    return ops.clip(xs[0], bounds[0], bounds[1])


def _cast(r: _Reader, p: Any, xs: list, a: dict) -> Node:
    return ops.cast(xs[0], r.onnx.helper.tensor_dtype_to_np_dtype(a["to"]))


def _reshape(r: _Reader, p: Any, xs: list, a: dict) -> Node:
    x = xs[0]
    if p.input[1] in r.values and isinstance(r.values[p.input[1]], _ShapeOf):
        # Reshape(y, Shape(ref)) where y is ref's shape with leading 1s: sum_to_like
        ref = r.values[p.input[1]].node
        return ops.sum_to_like(x, ref)
    shape = [int(d) for d in r.array(p.input[1], p, "the shape")]
    # ONNX's 0 copies the input's size on that axis (unless allowzero)
    shape = [x.shape[k] if d == 0 and not a.get("allowzero", 0) else d
             for k, d in enumerate(shape)]
    if any(d is None for d in shape):
        shape = [-1 if d is None else d for d in shape]
    return ops.reshape(x, tuple(shape))


def _transpose(r: _Reader, p: Any, xs: list, a: dict) -> Node:
    return ops.transpose(xs[0], a.get("perm"))


def _unsqueeze(r: _Reader, p: Any, xs: list, a: dict) -> Node:
    return ops.expand_dims(xs[0], _axes(r, p, a))


def _squeeze(r: _Reader, p: Any, xs: list, a: dict) -> Node:
    axes = _axes(r, p, a)
    return ops.squeeze(xs[0], axes)


def _expand(r: _Reader, p: Any, xs: list, a: dict) -> Node:
    if p.input[1] in r.values and isinstance(r.values[p.input[1]], _ShapeOf):
        return ops.broadcast_like(xs[0], r.values[p.input[1]].node)
    shape = tuple(int(d) for d in r.array(p.input[1], p, "the shape"))
    return ops.broadcast_to(xs[0], np.broadcast_shapes(xs[0].shape, shape)
                            if None not in xs[0].shape else shape)


def _concat(r: _Reader, p: Any, xs: list, a: dict) -> Node:
    return ops.concatenate(xs, axis=a["axis"])


def _matmul(r: _Reader, p: Any, xs: list, a: dict) -> Node:
    return ops.matmul(xs[0], xs[1])


def _gemm(r: _Reader, p: Any, xs: list, a: dict) -> Node:
    # alpha * A' @ B' + beta * C
    A, B = xs[0], xs[1]
    A = ops.transpose(A) if a.get("transA", 0) else A
    B = ops.transpose(B) if a.get("transB", 0) else B
    out = ops.matmul(A, B)
    if a.get("alpha", 1.0) != 1.0:
        out = ops.multiply(out, float(a["alpha"]))
    if len(xs) > 2:
        c = xs[2] if a.get("beta", 1.0) == 1.0 else ops.multiply(xs[2], float(a["beta"]))
        out = ops.add(out, c)
    return out


def _flatten(r: _Reader, p: Any, xs: list, a: dict) -> Node:
    x, axis = xs[0], a.get("axis", 1)
    axis = axis % x.ndim if x.ndim else 0
    inner = x.shape[axis:]
    size = int(np.prod(inner)) if None not in inner else -1
    lead = x.shape[:axis]
    first = int(np.prod(lead)) if None not in lead else -1
    return ops.reshape(x, (first, size))


def _square_2d(p: Any, a: dict, key: str, default: Sequence[int]) -> int:
    values = list(a.get(key, default))
    if len(set(values)) != 1:
        raise OnnxImportError(f"import_onnx: {p.op_type} {key}={values}: symgraph's 2-D "
                              f"ops take one value for both axes")
    return int(values[0])


def _conv(r: _Reader, p: Any, xs: list, a: dict) -> Node:
    if a.get("group", 1) != 1 or any(d != 1 for d in a.get("dilations", [1, 1])):
        raise OnnxImportError("import_onnx: Conv with groups or dilations is not supported")
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise OnnxImportError("import_onnx: Conv with auto_pad is not supported")
    pad = _square_2d(p, a, "pads", [0, 0, 0, 0])
    stride = _square_2d(p, a, "strides", [1, 1])
    out = apply("conv2d", [xs[0], xs[1]], padding=pad, stride=stride)
    if len(xs) > 2:
        out = ops.add(out, ops.reshape(xs[2], (1, -1, 1, 1)))
    return out


def _pool(name: str) -> Converter:
    def build(r: _Reader, p: Any, xs: list, a: dict) -> Node:
        if any(v != 0 for v in a.get("pads", [0])) or a.get("ceil_mode", 0):
            raise OnnxImportError(f"import_onnx: {p.op_type} with padding or ceil_mode is "
                                  f"not supported")
        size = _square_2d(p, a, "kernel_shape", [1, 1])
        stride = _square_2d(p, a, "strides", [1, 1])
        return apply(name, [xs[0]], size=size, stride=stride)
    return build


def _global_average_pool(r: _Reader, p: Any, xs: list, a: dict) -> Node:
    return ops.mean(xs[0], tuple(range(2, xs[0].ndim)), True)


def _leaky_relu(r: _Reader, p: Any, xs: list, a: dict) -> Node:
    x, alpha = xs[0], float(a.get("alpha", 0.01))
    return ops.where(ops.greater(x, 0.0), x, ops.multiply(x, alpha))


def _slice(r: _Reader, p: Any, xs: list, a: dict) -> Node:
    x = xs[0]
    starts = r.array(p.input[1], p, "starts")
    ends = r.array(p.input[2], p, "ends")
    axes = (r.array(p.input[3], p, "axes") if len(p.input) > 3 and p.input[3]
            else range(len(starts)))
    steps = (r.array(p.input[4], p, "steps") if len(p.input) > 4 and p.input[4]
             else [1] * len(starts))
    index = [slice(None)] * x.ndim
    big = np.iinfo(np.int64).max
    for s, e, ax, st in zip(starts, ends, axes, steps):
        s, e, st = int(s), int(e), int(st)
        index[int(ax) % x.ndim] = slice(s, None if abs(e) >= big // 2 else e, st)
    return ops.getitem(x, tuple(index))


def _shape(r: _Reader, p: Any, xs: list, a: dict) -> Any:
    if "start" in a or "end" in a:
        raise OnnxImportError("import_onnx: Shape with start/end is not supported")
    return _ShapeOf(xs[0], tuple(range(xs[0].ndim)))


def _size(r: _Reader, p: Any, xs: list, a: dict) -> Node:
    return apply("axis_size", [xs[0]], axis=tuple(range(xs[0].ndim)), dtype=np.dtype(np.int64))


def _reduce_prod(r: _Reader, p: Any, xs: list, a: dict) -> Node:
    # ReduceProd(Gather(Shape(x), axes)) -> axis_size(x, axes): a count of elements
    sizes = xs[0]
    if not isinstance(sizes, _ShapeOf) or a.get("keepdims", 1):
        raise OnnxImportError("import_onnx: ReduceProd is imported only as the product of "
                              "a tensor's sizes (keepdims=0)")
    return apply("axis_size", [sizes.node], axis=sizes.axes, dtype=np.dtype(np.int64))


def _gather(r: _Reader, p: Any, xs: list, a: dict) -> Any:
    if isinstance(xs[0], _ShapeOf):
        picked = r.array(p.input[1], p, "the axes picked from a shape")
        return _ShapeOf(xs[0].node, tuple(xs[0].axes[int(k)] for k in np.ravel(picked)))
    x, idx = xs
    axis = a.get("axis", 0) % x.ndim
    index = (slice(None),) * axis + (idx,)
    return ops.getitem(x, index)


def _gather_nd(r: _Reader, p: Any, xs: list, a: dict) -> Node:
    x, idx = xs
    k = idx.shape[-1]
    if a.get("batch_dims", 0) or k is None:
        raise OnnxImportError("import_onnx: GatherND with batch_dims or an unknown index "
                              "depth is not supported")
    return ops.getitem(x, tuple(idx[..., j] for j in range(k)))


def _one_hot(r: _Reader, p: Any, xs: list, a: dict) -> Node:
    depth = int(r.array(p.input[1], p, "the depth"))
    off, on = r.array(p.input[2], p, "the values")
    if a.get("axis", -1) != -1:
        raise OnnxImportError("import_onnx: OneHot is imported along the last axis only")
    hot = ops.one_hot(xs[0], depth, dtype=np.asarray(on).dtype)
    if (off, on) == (0, 1):
        return hot
    return ops.add(ops.multiply(hot, on - off), off)


def _cross_entropy(r: _Reader, p: Any, xs: list, a: dict) -> Node:
    if len(xs) > 2 or "ignore_index" in a:
        raise OnnxImportError("import_onnx: SoftmaxCrossEntropyLoss with weights or "
                              "ignore_index is not supported")
    reduction = a.get("reduction", b"mean")
    reduction = reduction.decode() if isinstance(reduction, bytes) else reduction
    return ops.sparse_softmax_cross_entropy(xs[0], xs[1], reduction=reduction)


CONVERTERS: dict[str, Converter] = {
    "Add": _binary(ops.add), "Sub": _binary(ops.subtract), "Mul": _binary(ops.multiply),
    "Div": _binary(ops.divide), "Pow": _binary(ops.power), "Max": _variadic(ops.maximum),
    "Min": _variadic(ops.minimum), "Sum": _variadic(ops.add), "Neg": _unary(ops.negative),
    "Reciprocal": _unary(ops.reciprocal), "Exp": _unary(ops.exp), "Log": _unary(ops.log),
    "Sqrt": _unary(ops.sqrt), "Abs": _unary(ops.abs), "Sin": _unary(ops.sin),
    "Cos": _unary(ops.cos), "Tanh": _unary(ops.tanh), "Sigmoid": _unary(ops.sigmoid),
    "Relu": _unary(ops.relu), "Softplus": _unary(ops.softplus), "Sign": _unary(ops.sign),
    "Identity": _unary(lambda x: x), "Dropout": _unary(lambda x: x),
    "Where": lambda r, p, xs, a: ops.where(ops.cast(xs[0], bool), xs[1], xs[2]),
    "Clip": _clip, "Cast": _cast, "Equal": _binary(ops.equal), "Less": _binary(ops.less),
    "LessOrEqual": _binary(ops.less_equal), "Greater": _binary(ops.greater),
    "GreaterOrEqual": _binary(ops.greater_equal), "And": _binary(ops.logical_and),
    "Or": _binary(ops.logical_or), "Not": _unary(ops.logical_not),
    "Reshape": _reshape, "Transpose": _transpose, "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze, "Expand": _expand, "Concat": _concat, "Flatten": _flatten,
    "ReduceSum": _reduce(ops.sum), "ReduceMean": _reduce(ops.mean),
    "ReduceMax": _reduce(ops.max), "ReduceMin": _reduce(ops.min),
    "ReduceLogSumExp": _reduce(ops.logsumexp),
    "Softmax": _softmax(ops.softmax), "LogSoftmax": _softmax(ops.log_softmax),
    "MatMul": _matmul, "Gemm": _gemm, "Conv": _conv, "MaxPool": _pool("max_pool2d"),
    "AveragePool": _pool("avg_pool2d"), "GlobalAveragePool": _global_average_pool,
    "LeakyRelu": _leaky_relu, "Slice": _slice, "Gather": _gather, "GatherND": _gather_nd,
    "OneHot": _one_hot, "SoftmaxCrossEntropyLoss": _cross_entropy,
    "Shape": _shape, "Size": _size, "ReduceProd": _reduce_prod,
}
# Ops whose ONNX inputs past the first are static data that symgraph keeps as attributes.
STATIC_INPUTS = {"Unsqueeze": (1,), "Squeeze": (1,),
                 "Slice": (1, 2, 3, 4), "OneHot": (1, 2), "Clip": (1, 2),
                 "ReduceSum": (1,), "ReduceMean": (1,), "ReduceMax": (1,),
                 "ReduceMin": (1,), "ReduceLogSumExp": (1,)}


# Ops that may read a _ShapeOf (a Shape output) as an input.
SHAPE_READERS = ("Gather", "ReduceProd", "Reshape", "Expand")


def _load(onnx: Any, source: Any) -> Any:
    if isinstance(source, (bytes, bytearray)):
        return onnx.load_from_string(bytes(source))
    if hasattr(source, "graph"):
        return source
    return onnx.load(source)


def _var(onnx: Any, info: Any) -> Node:
    t = info.type.tensor_type
    dims = tuple(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
                 for d in t.shape.dim)
    return ops.var(info.name, dims, onnx.helper.tensor_dtype_to_np_dtype(t.elem_type))


def import_onnx(source: Any, *, initializers: str = "params") -> ImportedModel:
    """Build symgraph nodes from an ONNX model: a path, the model's bytes or a ModelProto.

    ``initializers="params"`` (default) makes floating-point initializers trainable
    parameters named as in the file (for a file symgraph wrote, only its parameters), so
    the model can be fine-tuned or differentiated with respect to its weights;
    ``"const"`` makes them constants. Returns an
    ``ImportedModel`` with ``inputs``, ``outputs``, ``params`` and ``function()``.
    """
    if initializers not in ("params", "const"):
        raise ArgumentError(f"import_onnx: initializers must be 'params' or 'const', "
                         f"got {initializers!r}")
    onnx = require_onnx()
    model = _load(onnx, source)
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    graph = model.graph
    unknown = sorted({n.op_type for n in graph.node
                      if n.op_type not in CONVERTERS and n.op_type != "Constant"
                      or n.domain not in ("", "ai.onnx")})
    if unknown:
        raise OnnxImportError(f"import_onnx: {len(unknown)} ONNX op(s) have no symgraph "
                              f"counterpart: {', '.join(unknown)}")
    r = _Reader(onnx, opset, initializers == "params", _recorded_params(model))
    for init in graph.initializer:
        r.arrays[init.name] = onnx.numpy_helper.to_array(init)
    init_names = set(r.arrays)
    inputs = []
    for info in graph.input:
        if info.name in init_names:
            continue          # an initializer listed as an input (older exporters)
        r.values[info.name] = _var(onnx, info)
        inputs.append(r.values[info.name])
    for proto in graph.node:
        for out in proto.output:
            r.producers[out] = proto
    for proto in graph.node:
        attrs = _attrs(onnx, proto)
        if proto.op_type == "Constant":
            r.arrays[proto.output[0]] = _constant_value(onnx, proto, attrs)
            continue
        static = STATIC_INPUTS.get(proto.op_type, ())
        xs = [r.node(name) for k, name in enumerate(proto.input)
              if name and k not in static and not (proto.op_type in ("Reshape", "Expand")
                                                   and k == 1)]
        if any(isinstance(x, _ShapeOf) for x in xs) and proto.op_type not in SHAPE_READERS:
            raise OnnxImportError(f"import_onnx: {proto.op_type} node "
                                  f"{proto.name or proto.output[0]!r} computes with a "
                                  f"tensor's shape as a value, which symgraph does not import")
        try:
            out = CONVERTERS[proto.op_type](r, proto, xs, attrs)
        except OnnxImportError:
            raise
        except (SymgraphError, ValueError, TypeError) as exc:
            raise OnnxImportError(f"import_onnx: {proto.op_type} node "
                                  f"{proto.name or proto.output[0]!r}: {exc}") from exc
        r.values[proto.output[0]] = out
    outputs = tuple(r.node(o.name) for o in graph.output)
    return ImportedModel(tuple(inputs), outputs, dict(r.params), opset)


def _recorded_params(model: Any) -> Optional[frozenset]:
    # symgraph's exporter records which initializers were parameters; other files don't.
    from symgraph.onnx.export import PARAMS_KEY
    for prop in model.metadata_props:
        if prop.key == PARAMS_KEY:
            try:
                names = json.loads(prop.value)
            except ValueError:
                return None
            if isinstance(names, list) and all(isinstance(n, str) for n in names):
                return frozenset(names)
    return None


def _constant_value(onnx: Any, proto: Any, attrs: dict) -> np.ndarray:
    if "value" in attrs:
        return onnx.numpy_helper.to_array(attrs["value"])
    for key, dtype in (("value_float", np.float32), ("value_int", np.int64),
                       ("value_floats", np.float32), ("value_ints", np.int64)):
        if key in attrs:
            return np.array(attrs[key], dtype=dtype)
    raise OnnxImportError(f"import_onnx: Constant {proto.output[0]!r} holds no tensor "
                          f"symgraph reads")
