"""Write a symgraph graph as an ONNX model (opset 18).

Every node becomes one ONNX node or a few: the table at the end maps each symgraph op to
a function that emits its ONNX nodes. Inputs (``sg.var``) become graph inputs, with a
named dimension for every unknown size (``None``); parameters become initializers under
their own names; constants become initializers. ONNX wants both operands of ``Add`` in one
dtype where NumPy promotes, so every operand is cast to the dtype the node computes in,
and a weak Python scalar is written in its partner's dtype. Gradient nodes are ordinary
nodes, so a gradient graph exports like any other as long as its ops are in the table.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import numpy as np

from symgraph.errors import ArgumentError, SymgraphError
from symgraph.graph import Graph, Node
from symgraph.onnx import require_onnx
from symgraph.ops.registry import as_node

OPSET = 18
PARAMS_KEY = "symgraph.params"


class OnnxExportError(SymgraphError):
    """A graph holds ops that ONNX cannot express (each listed with its line)."""


@dataclass
class _Writer:
    """The ONNX nodes and initializers written so far, and the value name of each node."""

    onnx: Any
    nodes: list = field(default_factory=list)
    initializers: list = field(default_factory=list)
    names: dict = field(default_factory=dict)           # node id -> ONNX value name
    taken: set = field(default_factory=set)
    casts: dict = field(default_factory=dict)           # (value name, dtype) -> cast name

    def fresh(self, base: str) -> str:
        base = "".join(c if c.isalnum() or c in "_./" else "_" for c in base) or "v"
        name, k = base, 1
        while name in self.taken:
            k += 1
            name = f"{base}_{k}"
        self.taken.add(name)
        return name

    def add(self, op_type: str, inputs: Sequence[str], base: str = "", **attrs: Any) -> str:
        out = self.fresh(base or op_type.lower())
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def constant(self, value: Any, base: str = "c") -> str:
        name = self.fresh(base)
        arr = np.asarray(value)
        self.initializers.append(self.onnx.numpy_helper.from_array(arr, name))
        return name

    def ints(self, values: Sequence[int], base: str = "ints") -> str:
        return self.constant(np.array(list(values), dtype=np.int64), base)

    def value(self, node: Node, dtype: Optional[np.dtype] = None) -> str:
        """The ONNX name of ``node``'s value, cast to ``dtype`` when that differs."""
        if node.op == "const" and node.type.weak:
            # A weak scalar takes its partner's dtype, as NumPy does at run time.
            want = np.dtype(dtype) if dtype is not None else node.dtype
            return self.constant(np.array(node.payload, dtype=want), "scalar")
        name = self.names[node.id]
        if dtype is None or np.dtype(dtype) == node.dtype:
            return name
        key = (name, np.dtype(dtype).str)
        if key not in self.casts:
            to = self.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
            self.casts[key] = self.add("Cast", [name], f"{name}_as_{np.dtype(dtype).name}", to=to)
        return self.casts[key]


def _compute_dtype(node: Node) -> np.dtype:
    # The dtype NumPy computes a comparison in: the strong inputs' common type.
    strong = [i.dtype for i in node.inputs if not i.type.weak]
    return np.result_type(*strong) if strong else np.result_type(*[i.dtype for i in node.inputs])


# --- converters: (writer, node) -> the ONNX name of the node's value ------------------------
Converter = Callable[[_Writer, Node], str]


def _same(op_type: str) -> Converter:
    # An ONNX op whose operands and result share the node's dtype.
    def emit(w: _Writer, node: Node) -> str:
        return w.add(op_type, [w.value(i, node.dtype) for i in node.inputs], node.op)
    return emit


def _compare(op_type: str, negate: bool = False) -> Converter:
    def emit(w: _Writer, node: Node) -> str:
        dt = _compute_dtype(node)
        out = w.add(op_type, [w.value(i, dt) for i in node.inputs], node.op)
        return w.add("Not", [out], node.op) if negate else out
    return emit


def _logical(op_type: str) -> Converter:
    def emit(w: _Writer, node: Node) -> str:
        return w.add(op_type, [w.value(i, np.dtype(bool)) for i in node.inputs], node.op)
    return emit


def _log1p(w: _Writer, node: Node) -> str:
    # log1p(x) -> Log(x + 1): ONNX has no log1p (accuracy near 0 is ONNX's Log's)
    x = w.value(node.inputs[0], node.dtype)
    return w.add("Log", [w.add("Add", [x, w.constant(np.array(1, node.dtype))])], "log1p")


def _expm1(w: _Writer, node: Node) -> str:
    x = w.value(node.inputs[0], node.dtype)
    return w.add("Sub", [w.add("Exp", [x]), w.constant(np.array(1, node.dtype))], "expm1")


def _square(w: _Writer, node: Node) -> str:
    x = w.value(node.inputs[0], node.dtype)
    return w.add("Mul", [x, x], "square")


def _where(w: _Writer, node: Node) -> str:
    c, a, b = node.inputs
    return w.add("Where", [w.value(c, np.dtype(bool)), w.value(a, node.dtype),
                           w.value(b, node.dtype)], "where")


def _clip(w: _Writer, node: Node) -> str:
    lo, hi = node.attr("lo"), node.attr("hi")
    bound = [w.constant(np.array(v, node.dtype)) if v is not None else "" for v in (lo, hi)]
    return w.add("Clip", [w.value(node.inputs[0], node.dtype), *bound], "clip")


def _cast(w: _Writer, node: Node) -> str:
    return w.value(node.inputs[0], node.dtype)


def _identity(w: _Writer, node: Node) -> str:
    return w.add("Identity", [w.value(node.inputs[0])], node.op)


def _axes(node: Node) -> tuple:
    axis = node.attr("axis")
    return tuple(range(node.inputs[0].ndim)) if axis is None else tuple(axis)


def _reduce(op_type: str) -> Converter:
    def emit(w: _Writer, node: Node) -> str:
        x = w.value(node.inputs[0], node.dtype)
        axes = _axes(node)
        if not axes:
            return w.add("Identity", [x], node.op)
        return w.add(op_type, [x, w.ints(axes, "axes")], node.op,
                     keepdims=int(bool(node.attr("keepdims"))))
    return emit


def _softmax(op_type: str) -> Converter:
    def emit(w: _Writer, node: Node) -> str:
        axes = _axes(node)
        if len(axes) != 1:
            raise _unsupported(node, f"ONNX {op_type} takes one axis, the node has {axes}")
        return w.add(op_type, [w.value(node.inputs[0], node.dtype)], node.op, axis=axes[0])
    return emit


def _matmul(w: _Writer, node: Node) -> str:
    return w.add("MatMul", [w.value(i, node.dtype) for i in node.inputs], "matmul")


def _reshape(w: _Writer, node: Node) -> str:
    shape = [-1 if d is None else int(d) for d in node.attr("shape")]
    return w.add("Reshape", [w.value(node.inputs[0]), w.ints(shape, "shape")], "reshape")


def _transpose(w: _Writer, node: Node) -> str:
    return w.add("Transpose", [w.value(node.inputs[0])], "transpose",
                 perm=list(node.attr("axes")))


def _expand_dims(w: _Writer, node: Node) -> str:
    return w.add("Unsqueeze", [w.value(node.inputs[0]), w.ints(_axes(node), "axes")],
                 "expand_dims")


def _squeeze(w: _Writer, node: Node) -> str:
    return w.add("Squeeze", [w.value(node.inputs[0]), w.ints(_axes(node), "axes")], "squeeze")


def _broadcast_to(w: _Writer, node: Node) -> str:
    return w.add("Expand", [w.value(node.inputs[0]), w.ints(node.attr("shape"), "shape")],
                 "broadcast_to")


def _broadcast_like(w: _Writer, node: Node) -> str:
    x, ref = node.inputs
    return w.add("Expand", [w.value(x), w.add("Shape", [w.value(ref)])], "broadcast_like")


def _sum_to_like(w: _Writer, node: Node) -> str:
    # The axes to sum come from the static shapes: an unknown size (None) is taken as not 1,
    # the way a batch axis always is.
    x, ref = node.inputs
    lead = x.ndim - ref.ndim
    axes = list(range(lead)) + [lead + i for i, d in enumerate(ref.shape)
                                if d == 1 and x.shape[lead + i] != 1]
    out = w.value(x)
    if axes:
        out = w.add("ReduceSum", [out, w.ints(axes, "axes")], "sum_to_like", keepdims=1)
    return w.add("Reshape", [out, w.add("Shape", [w.value(ref)])], "sum_to_like")


def _axis_size(w: _Writer, node: Node) -> str:
    shape = w.add("Shape", [w.value(node.inputs[0])])
    picked = w.add("Gather", [shape, w.ints(node.attr("axis"), "axes")])
    count = w.add("ReduceProd", [picked], keepdims=0)
    to = w.onnx.helper.np_dtype_to_tensor_dtype(node.dtype)
    return w.add("Cast", [count], "axis_size", to=to)


def _concatenate(w: _Writer, node: Node) -> str:
    return w.add("Concat", [w.value(i, node.dtype) for i in node.inputs], "concatenate",
                 axis=int(node.attr("axis")))


def _stack(w: _Writer, node: Node) -> str:
    axis = int(node.attr("axis"))
    parts = [w.add("Unsqueeze", [w.value(i, node.dtype), w.ints([axis], "axes")])
             for i in node.inputs]
    return w.add("Concat", parts, "stack", axis=axis)


def _one_hot_of(w: _Writer, labels: Node, depth: int, dtype: np.dtype) -> str:
    # one_hot(l, K) -> Cast(Equal(Unsqueeze(l, -1), [0 .. K-1])): onnxruntime's OneHot has
    # kernels for a few dtypes only, Equal and Cast for all
    classes = w.constant(np.arange(depth, dtype=np.int64), "classes")
    column = w.add("Unsqueeze", [w.value(labels, np.dtype(np.int64)), w.ints([-1], "axes")])
    hit = w.add("Equal", [column, classes], "one_hot")
    return w.add("Cast", [hit], "one_hot", to=w.onnx.helper.np_dtype_to_tensor_dtype(dtype))


def _one_hot(w: _Writer, node: Node) -> str:
    return _one_hot_of(w, node.inputs[0], int(node.attr("depth")), node.dtype)


def _full_index(node: Node) -> list[tuple]:
    # The index with its ellipsis spelled out as full slices.
    spec, x = node.attr("index"), node.inputs[0]
    consumed = sum(1 for s in spec if s[0] in ("slice", "int", "array"))
    out: list[tuple] = []
    for s in spec:
        out += [("slice", None, None, None)] * (x.ndim - consumed) if s[0] == "ellipsis" else [s]
    return out


def _getitem(w: _Writer, node: Node) -> str:
    spec = _full_index(node)
    x, arrays = node.inputs[0], node.inputs[1:]
    if arrays:
        return _gather(w, node, spec, x, arrays)
    starts, ends, axes, steps, drop, new = [], [], [], [], [], []
    axis = 0
    out_axis = 0
    for s in spec:
        if s[0] == "newaxis":
            new.append(out_axis)
            out_axis += 1
            continue
        if s[0] == "int":
            i = s[1]
            starts.append(i), ends.append(i + 1 if i != -1 else np.iinfo(np.int64).max)
            axes.append(axis), steps.append(1), drop.append(axis)
        elif s[1:] != (None, None, None):
            step = 1 if s[3] is None else s[3]
            big = np.iinfo(np.int64).max
            start = s[1] if s[1] is not None else (0 if step > 0 else big)
            end = s[2] if s[2] is not None else (big if step > 0 else -big)
            starts.append(start), ends.append(end), axes.append(axis), steps.append(step)
            out_axis += 1
        else:
            out_axis += 1
        axis += 1
    out = w.value(x)
    if axes:
        out = w.add("Slice", [out, w.ints(starts, "starts"), w.ints(ends, "ends"),
                              w.ints(axes, "axes"), w.ints(steps, "steps")], "getitem")
    if drop:
        out = w.add("Squeeze", [out, w.ints(drop, "axes")], "getitem")
    if new:
        out = w.add("Unsqueeze", [out, w.ints(new, "axes")], "getitem")
    return out


def _index_arrays(w: _Writer, node: Node, spec: list[tuple], arrays: Sequence[Node]) -> str:
    # Index arrays at the leading axes, stacked on a last axis for GatherND / ScatterND.
    kinds = [s[0] for s in spec]
    k = len(arrays)
    if kinds[:k] != ["array"] * k or any(s != ("slice", None, None, None) for s in spec[k:]):
        raise _unsupported(node, "only integer arrays at the leading axes (x[rows, cols]) "
                                 "export to ONNX")
    parts = [w.add("Unsqueeze", [w.value(a, np.dtype(np.int64)), w.ints([-1], "axes")])
             for a in arrays]
    return parts[0] if k == 1 else w.add("Concat", parts, "indices", axis=-1)


def _gather(w: _Writer, node: Node, spec: list[tuple], x: Node, arrays: Sequence[Node]) -> str:
    return w.add("GatherND", [w.value(x), _index_arrays(w, node, spec, arrays)], "getitem")


def _getitem_grad(w: _Writer, node: Node) -> str:
    g, ref, *arrays = node.inputs
    if not arrays:
        return _slice_grad(w, node)
    spec = [s for s in node.attr("index")]
    zeros = w.add("ConstantOfShape", [w.add("Shape", [w.value(ref)])], "zeros",
                  value=w.onnx.numpy_helper.from_array(np.zeros(1, node.dtype)))
    indices = _index_arrays(w, node, spec, arrays)
    return w.add("ScatterND", [zeros, indices, w.value(g, node.dtype)], "getitem_grad",
                 reduction="add")


def _slice_grad(w: _Writer, node: Node) -> str:
    # the gradient of basic indexing (slices, ints, None, ...): g added at the positions the
    # index picked, whose flat offsets are known when the shape is: ScatterElements into a
    # flat zero array, reshaped
    from symgraph.ops.shape import _decode_index
    g, ref = node.inputs
    if None in ref.shape:
        raise _unsupported(node, "the gradient of slicing needs the sliced array's static shape")
    size = int(np.prod(ref.shape, dtype=np.int64))
    picked = np.arange(size, dtype=np.int64).reshape(ref.shape)[
        _decode_index(node.attr("index"), [])]
    zeros = w.constant(np.zeros(size, node.dtype), "zeros")
    flat_g = w.add("Reshape", [w.value(g, node.dtype), w.ints([-1], "flat")], "g_flat")
    spread = w.add("ScatterElements", [zeros, w.constant(np.ravel(picked), "picked"), flat_g],
                   "slice_grad_flat", axis=0, reduction="add")
    return w.add("Reshape", [spread, w.ints(list(ref.shape), "shape")], "getitem_grad")


def _conv2d(w: _Writer, node: Node) -> str:
    p, s = int(node.attr("padding")), int(node.attr("stride"))
    return w.add("Conv", [w.value(i, node.dtype) for i in node.inputs], "conv2d",
                 pads=[p, p, p, p], strides=[s, s])


def _static_hw(node: Node, ref: Node) -> tuple[int, int]:
    """The static height and width of ``ref``, which a transposed convolution's output
    size is fixed by (ONNX computes it from ``output_padding``)."""
    h, wd = ref.shape[2], ref.shape[3]
    if h is None or wd is None:
        raise _unsupported(node, "its image size must be static to write ConvTranspose")
    return int(h), int(wd)


def _output_padding(out: tuple[int, int], g: Node, k: int, s: int, p: int) -> list[int]:
    # ConvTranspose gives s * (ho - 1) + k - 2p + output_padding pixels per axis; the rows
    # the forward op's floor division dropped are the padding (always < s)
    return [out[a] - (s * (int(g.shape[2 + a]) - 1) + k - 2 * p) for a in range(2)]


def _conv_input_grad(w: _Writer, node: Node) -> str:
    # conv2d_input_grad(g, W, x) = ConvTranspose(g, W): W's (O, C, kh, kw) is the layout
    # ConvTranspose reads (input channels first)
    g, kernel, ref = node.inputs
    p, s = int(node.attr("padding")), int(node.attr("stride"))
    pad = _output_padding(_static_hw(node, ref), g, int(kernel.shape[2]), s, p)
    return w.add("ConvTranspose", [w.value(g, node.dtype), w.value(kernel, node.dtype)],
                 "conv2d_input_grad", pads=[p, p, p, p], strides=[s, s], output_padding=pad)


def _conv_kernel_grad(w: _Writer, node: Node) -> str:
    # dW[o, c] = sum_n corr(x[n, c], g[n, o]) with g's taps s apart: a Conv of x with the
    # batch as channels ((C, N, H, W)) by g as the kernel ((O, N, ho, wo)), dilated by the
    # stride; its (C, O, ...) output keeps the first kh x kw taps, transposed to (O, C, ...)
    x, g = node.inputs
    p, s = int(node.attr("padding")), int(node.attr("stride"))
    kh, kw = (int(k) for k in node.attr("ksize"))
    xt = w.add("Transpose", [w.value(x, node.dtype)], "x_by_channel", perm=[1, 0, 2, 3])
    gt = w.add("Transpose", [w.value(g, node.dtype)], "g_by_channel", perm=[1, 0, 2, 3])
    full = w.add("Conv", [xt, gt], "kernel_grad_full", pads=[p, p, p, p], dilations=[s, s])
    cut = w.add("Slice", [full, w.ints([0, 0], "starts"), w.ints([kh, kw], "ends"),
                          w.ints([2, 3], "axes")], "kernel_grad_taps")
    return w.add("Transpose", [cut], "conv2d_kernel_grad", perm=[1, 0, 2, 3])


def _spread(w: _Writer, node: Node, value: str, ref: Node, pooled: Node,
            weights: np.ndarray, k: int, s: int) -> str:
    """Window values added back at the pixels each window covered: a ConvTranspose grouped
    by channel whose kernel ``weights`` (``(C * taps, 1, k, k)``) puts each of a channel's
    ``taps`` input channels of ``value`` at its offset in the window; ``pooled`` has the
    pooled size, ``ref`` the image size."""
    c = ref.shape[1]
    if c is None:
        raise _unsupported(node, "its channel count must be static")
    pad = _output_padding(_static_hw(node, ref), pooled, k, s, 0)
    return w.add("ConvTranspose", [value, w.constant(weights.astype(node.dtype), "taps")],
                 node.op, strides=[s, s], group=int(c), output_padding=pad)


def _avg_pool_grad(w: _Writer, node: Node) -> str:
    # avg_pool2d_grad(g, x): g / k^2 spread evenly over each window
    g, ref = node.inputs
    k, s = int(node.attr("size")), int(node.attr("stride"))
    if ref.shape[1] is None:
        raise _unsupported(node, "its channel count must be static")
    scale = w.constant(np.array(1.0 / (k * k), node.dtype), "window_share")
    share = w.add("Mul", [w.value(g, node.dtype), scale], "avg_share")
    return _spread(w, node, share, ref, g, np.ones((int(ref.shape[1]), 1, k, k)), k, s)


def _max_pool_route(w: _Writer, node: Node) -> str:
    # max_pool2d_route(x, g): each window's g shared equally by the pixels holding its
    # maximum, added back there. Per tap t = (i, j): hit_t = (x's tap-t slice == window
    # max); the shares hit_t * g / sum_t hit_t, stacked by channel then tap, spread back
    x, g = node.inputs
    k, s = int(node.attr("size")), int(node.attr("stride"))
    c = x.shape[1]
    if c is None or g.shape[2] is None or g.shape[3] is None:
        raise _unsupported(node, "its channel count and pooled size must be static")
    ho, wo = int(g.shape[2]), int(g.shape[3])
    xv = w.value(x, node.dtype)
    top = w.add("MaxPool", [xv], "window_max", kernel_shape=[k, k], strides=[s, s])
    hits = []
    for i in range(k):
        for j in range(k):
            tap = w.add("Slice", [xv, w.ints([i, j], "starts"),
                                  w.ints([i + s * (ho - 1) + 1, j + s * (wo - 1) + 1], "ends"),
                                  w.ints([2, 3], "axes"), w.ints([s, s], "steps")], "tap")
            hit = w.add("Equal", [tap, top], "is_max")
            hits.append(w.add("Cast", [hit], "hit",
                              to=w.onnx.helper.np_dtype_to_tensor_dtype(node.dtype)))
    stacked = w.add("Concat", [w.add("Unsqueeze", [h, w.ints([2], "axis")], "hit_axis")
                               for h in hits], "hits", axis=2)       # (N, C, k*k, ho, wo)
    count = w.add("ReduceSum", [stacked, w.ints([2], "axis")], "ties", keepdims=1)
    share = w.add("Div", [w.add("Unsqueeze", [w.value(g, node.dtype), w.ints([2], "axis")],
                                "g_axis"), count], "max_share")
    shares = w.add("Mul", [stacked, share], "shares")
    flat = w.add("Reshape", [shares, w.ints([0, int(c) * k * k, ho, wo], "shape")],
                 "shares_by_channel")
    onehot = np.zeros((int(c) * k * k, 1, k, k))
    for ch in range(int(c)):
        for t in range(k * k):
            onehot[ch * k * k + t, 0, t // k, t % k] = 1.0
    return _spread(w, node, flat, x, g, onehot, k, s)


def _pool(op_type: str) -> Converter:
    def emit(w: _Writer, node: Node) -> str:
        k, s = int(node.attr("size")), int(node.attr("stride"))
        return w.add(op_type, [w.value(node.inputs[0])], node.op, kernel_shape=[k, k],
                     strides=[s, s])
    return emit


def _sparse_ce(w: _Writer, node: Node) -> str:
    z, labels = node.inputs
    if z.ndim != 2:
        raise _unsupported(node, "ONNX's SoftmaxCrossEntropyLoss is exported for (N, K) logits")
    return w.add("SoftmaxCrossEntropyLoss", [w.value(z), w.value(labels, np.dtype(np.int64))],
                 "cross_entropy", reduction=node.attr("reduction"))


def _sparse_ce_grad(w: _Writer, node: Node) -> str:
    # g * (softmax(z) - one_hot(labels)), g per row ("none"), g ("sum") or g / rows ("mean")
    z, labels, g = node.inputs
    k = z.shape[-1]
    if k is None:
        raise _unsupported(node, "the number of classes must be known")
    p = w.add("Softmax", [w.value(z)], "softmax", axis=-1)
    y = _one_hot_of(w, labels, k, node.dtype)
    weight = w.value(g, node.dtype)
    reduction = node.attr("reduction")
    if reduction == "none":
        weight = w.add("Unsqueeze", [weight, w.ints([-1], "axes")])
    elif reduction == "mean":
        to = w.onnx.helper.np_dtype_to_tensor_dtype(node.dtype)
        rows = w.add("Cast", [w.add("Size", [w.value(labels)])], "rows", to=to)
        weight = w.add("Div", [weight, rows])
    return w.add("Mul", [w.add("Sub", [p, y]), weight], "cross_entropy_grad")


def _log_base(base: float) -> Converter:
    # log2(x) -> Log(x) / ln 2: ONNX has only the natural logarithm
    def emit(w: _Writer, node: Node) -> str:
        x = w.value(node.inputs[0], node.dtype)
        scale = w.constant(np.array(np.log(base), node.dtype))
        return w.add("Div", [w.add("Log", [x]), scale], node.op)
    return emit


def _exp2(w: _Writer, node: Node) -> str:
    x = w.value(node.inputs[0], node.dtype)
    return w.add("Pow", [w.constant(np.array(2, node.dtype)), x], "exp2")


def _isfinite(w: _Writer, node: Node) -> str:
    x = w.value(node.inputs[0])
    bad = w.add("Or", [w.add("IsNaN", [x]), w.add("IsInf", [x])])
    return w.add("Not", [bad], "isfinite")


def _round(w: _Writer, node: Node) -> str:
    if node.attr("decimals") != 0:
        raise _unsupported(node, "ONNX's Round has no decimals")
    return w.add("Round", [w.value(node.inputs[0], node.dtype)], "round")


def _arg(op_type: str) -> Converter:
    def emit(w: _Writer, node: Node) -> str:
        x, axis = w.value(node.inputs[0]), node.attr("axis")
        if axis is None:
            x, axis = w.add("Reshape", [x, w.ints([-1], "shape")]), 0
        return w.add(op_type, [x], node.op, axis=int(axis),
                     keepdims=int(bool(node.attr("keepdims"))))
    return emit


def _cumsum(w: _Writer, node: Node) -> str:
    axis = w.constant(np.array(node.attr("axis"), np.int64), "axis")
    return w.add("CumSum", [w.value(node.inputs[0], node.dtype), axis], "cumsum",
                 reverse=int(bool(node.attr("reverse"))))


def _einsum(w: _Writer, node: Node) -> str:
    return w.add("Einsum", [w.value(i, node.dtype) for i in node.inputs], "einsum",
                 equation=node.attr("spec"))


CONVERTERS: dict[str, Converter] = {
    "add": _same("Add"), "subtract": _same("Sub"), "multiply": _same("Mul"),
    "divide": _same("Div"), "power": _same("Pow"), "maximum": _same("Max"),
    "minimum": _same("Min"), "negative": _same("Neg"), "reciprocal": _same("Reciprocal"),
    "exp": _same("Exp"), "log": _same("Log"), "sqrt": _same("Sqrt"), "abs": _same("Abs"),
    "sin": _same("Sin"), "cos": _same("Cos"), "tanh": _same("Tanh"),
    "sigmoid": _same("Sigmoid"), "relu": _same("Relu"), "softplus": _same("Softplus"),
    "sign": _same("Sign"), "log1p": _log1p, "expm1": _expm1, "square": _square,
    "where": _where, "clip": _clip, "cast": _cast, "stop_gradient": _identity,
    "equal": _compare("Equal"), "not_equal": _compare("Equal", negate=True),
    "less": _compare("Less"), "less_equal": _compare("LessOrEqual"),
    "greater": _compare("Greater"), "greater_equal": _compare("GreaterOrEqual"),
    "logical_and": _logical("And"), "logical_or": _logical("Or"),
    "logical_not": _logical("Not"),
    "sum": _reduce("ReduceSum"), "mean": _reduce("ReduceMean"), "max": _reduce("ReduceMax"),
    "min": _reduce("ReduceMin"), "logsumexp": _reduce("ReduceLogSumExp"),
    "softmax": _softmax("Softmax"), "log_softmax": _softmax("LogSoftmax"),
    "matmul": _matmul, "reshape": _reshape, "transpose": _transpose,
    "expand_dims": _expand_dims, "squeeze": _squeeze, "broadcast_to": _broadcast_to,
    "broadcast_like": _broadcast_like, "sum_to_like": _sum_to_like, "axis_size": _axis_size,
    "concatenate": _concatenate, "stack": _stack, "one_hot": _one_hot, "getitem": _getitem,
    "getitem_grad": _getitem_grad, "conv2d": _conv2d, "max_pool2d": _pool("MaxPool"),
    "conv2d_input_grad": _conv_input_grad, "conv2d_kernel_grad": _conv_kernel_grad,
    "avg_pool2d_grad": _avg_pool_grad, "max_pool2d_route": _max_pool_route,
    "avg_pool2d": _pool("AveragePool"), "sparse_softmax_cross_entropy": _sparse_ce,
    "sparse_softmax_cross_entropy_grad": _sparse_ce_grad,
    # NumPy's further elementwise functions, reductions and scans, einsum, det, erf
    "tan": _same("Tan"), "arcsin": _same("Asin"), "arccos": _same("Acos"),
    "arctan": _same("Atan"), "sinh": _same("Sinh"), "cosh": _same("Cosh"),
    "arcsinh": _same("Asinh"), "arccosh": _same("Acosh"), "arctanh": _same("Atanh"),
    "floor": _same("Floor"), "ceil": _same("Ceil"), "round": _round,
    "log2": _log_base(2.0), "log10": _log_base(10.0), "exp2": _exp2,
    "isnan": lambda w, n: w.add("IsNaN", [w.value(n.inputs[0])], "isnan"),
    "isinf": lambda w, n: w.add("IsInf", [w.value(n.inputs[0])], "isinf"),
    "isfinite": _isfinite, "logical_xor": _logical("Xor"), "prod": _reduce("ReduceProd"),
    "argmax": _arg("ArgMax"), "argmin": _arg("ArgMin"), "cumsum": _cumsum,
    "einsum": _einsum, "det": _same("Det"), "erf": _same("Erf"),
}


def _unsupported(node: Node, why: str = "") -> OnnxExportError:
    return OnnxExportError(f"export_onnx: {node.op} ({node.label}: {node.type}) has no ONNX "
                           f"counterpart{': ' + why if why else ''}{node.where()}")


def _targets(target: Any, inputs: Any) -> tuple[list[Node], list[Node]]:
    from symgraph.runtime.function import Function
    if isinstance(target, Function):
        outputs = list(target.outputs)
        declared = list(target.inputs) if inputs is None else list(inputs)
    else:
        outputs = [target] if isinstance(target, Node) else [as_node(t) for t in target]
        declared = None if inputs is None else list(inputs)
    if not outputs:
        raise ArgumentError("export_onnx: nothing to export (no outputs)")
    found = [n for n in Graph(outputs).nodes if n.op == "var"]
    if declared is None:
        declared = found
    for v in declared:
        if not isinstance(v, Node) or v.op != "var":
            raise ArgumentError(f"export_onnx: inputs must be sg.var nodes, got {v!r}")
    missing = [v.label for v in found if all(v is not d for d in declared)]
    if missing:
        raise ArgumentError(f"export_onnx: the outputs read inputs not listed in inputs=: "
                         f"{', '.join(missing)}")
    return outputs, declared


def _value_info(onnx: Any, name: str, node: Node) -> Any:
    dims = [d if d is not None else f"{name}_dim{k}" for k, d in enumerate(node.shape)]
    elem = onnx.helper.np_dtype_to_tensor_dtype(node.dtype)
    return onnx.helper.make_tensor_value_info(name, elem, dims)


def export_onnx(target: Any, path: Any = None, inputs: Optional[Sequence[Node]] = None, *,
                output_names: Optional[Sequence[str]] = None, graph_name: str = "symgraph",
                check: bool = True) -> Any:
    """Write ``target`` as an ONNX model and return the ``onnx.ModelProto``.

    ``target`` is a compiled ``sg.function`` (its inputs and outputs; updates are not
    exported) or a node or list of nodes; ``inputs`` orders the model's inputs (default:
    the function's, or the ``sg.var`` nodes in the order they were built). Unknown sizes
    (``None``) become named dimensions, so one model takes any batch size. ``path=None``
    only returns the model. Every op without an ONNX counterpart is listed in one
    ``OnnxExportError``.
    """
    onnx = require_onnx()
    outputs, declared = _targets(target, inputs)
    nodes = Graph(outputs).nodes
    missing = [n for n in nodes if n.op not in CONVERTERS and n.op not in ("var", "param", "const")]
    if missing:
        listed = "\n  ".join(str(_unsupported(n)) for n in missing)
        raise OnnxExportError(f"export_onnx: {len(missing)} node(s) have no ONNX "
                              f"counterpart:\n  {listed}")
    w = _Writer(onnx)
    graph_inputs = []
    for v in declared:
        name = w.fresh(v.name or f"input{len(graph_inputs)}")
        w.names[v.id] = name
        graph_inputs.append(_value_info(onnx, name, v))
    for n in nodes:
        if n.id in w.names:
            continue
        if n.op == "param":
            # the scope path keeps two layers' W apart: mlp/layer1/W, mlp/layer2/W
            label = "/".join(part for part in (n.scope, n.name or "param") if part)
            w.names[n.id] = w.constant(n.value, label)
        elif n.op == "const":
            if not n.type.weak:
                w.names[n.id] = w.constant(n.value, n.name or "const")
        else:
            w.names[n.id] = CONVERTERS[n.op](w, n)
    graph_outputs = []
    names = list(output_names) if output_names is not None else [
        o.name or f"output{k}" for k, o in enumerate(outputs)]
    for k, (o, name) in enumerate(zip(outputs, names)):
        final = w.fresh(name)
        w.nodes.append(onnx.helper.make_node("Identity", [w.value(o)], [final]))
        graph_outputs.append(_value_info(onnx, final, o))
    graph = onnx.helper.make_graph(w.nodes, graph_name, graph_inputs, graph_outputs,
                                   initializer=w.initializers)
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", OPSET)],
                                   producer_name="symgraph")
    # Which initializers were parameters, so import_onnx makes only those trainable again.
    params = [w.names[n.id] for n in nodes if n.op == "param"]
    onnx.helper.set_model_props(model, {PARAMS_KEY: json.dumps(params)})
    if check:
        onnx.checker.check_model(model)
    if path is not None:
        _write_atomically(model.SerializeToString(), path)
    return model


def _write_atomically(data: bytes, path: Any) -> None:
    # A crash while writing never leaves a half-written model under the final name.
    import os
    import tempfile
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".onnx-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
