"""Ops that move data without arithmetic: reshape, transpose, expand_dims, squeeze,
broadcasting, indexing, concatenate, stack, one_hot.

``broadcast_like`` and ``sum_to_like`` read a reference input only for its run-time shape;
they are each other's transpose, and the reverse pass undoes broadcasting with
``sum_to_like`` (see ``unbroadcast`` in ``symgraph.autodiff.reverse``).
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import numpy as np

from symgraph.errors import ArgumentError, IndexingError, ShapeError
from symgraph.graph import Node
from symgraph.ops.registry import Op, apply, as_node, const, register
from symgraph.types import (Shape, TensorType, as_dtype, as_size, broadcast_shapes, format_shape, int_tuple,
                            normalize_axes, promote)


def _same_dtype(types: Sequence[TensorType], shape: Shape) -> TensorType:
    # Never weak: these kernels return NumPy arrays, which NumPy 2 types strongly (a weak
    # result would call x32 * reshape(2.0, (1,)) float32 and run it in float64).
    return TensorType(tuple(shape), types[0].dtype)


# --- reshape ------------------------------------------------------------------------------
def _reshape_infer(types, attrs, where):
    x = types[0]
    shape = attrs["shape"]
    if sum(1 for d in shape if d == -1) > 1 or any(d < -1 for d in shape):
        raise ShapeError(f"reshape: bad target shape {shape}{where}")
    known = [d for d in shape if d != -1]
    if None in x.shape:
        # The size is a multiple of the known sizes, so a fixed target must be one too.
        part = math.prod(d for d in x.shape if d is not None)
        if -1 not in shape and part and math.prod(shape) % part:
            raise ShapeError(f"reshape: cannot reshape {format_shape(x.shape)} (size a "
                             f"multiple of {part}) into {shape} (size {math.prod(shape)}){where}")
        return _same_dtype(types, tuple(None if d == -1 else d for d in shape))
    size = math.prod(x.shape)
    if -1 in shape:
        rest = math.prod(known)
        if rest == 0 or size % rest:
            raise ShapeError(f"reshape: cannot reshape {format_shape(x.shape)} "
                             f"into {shape}{where}")
        return _same_dtype(types, tuple(size // rest if d == -1 else d for d in shape))
    if math.prod(shape) != size:
        raise ShapeError(f"reshape: cannot reshape {format_shape(x.shape)} (size {size}) "
                         f"into {shape} (size {math.prod(shape)}){where}")
    return _same_dtype(types, shape)


def _back_shape(x: Node) -> tuple[int, ...]:
    # The input's shape as a reshape target: one unknown size becomes -1.
    if sum(1 for d in x.shape if d is None) > 1:
        raise ShapeError(f"reshape: cannot differentiate back to {format_shape(x.shape)}: "
                         f"more than one unknown size{x.where()}")
    return tuple(-1 if d is None else d for d in x.shape)


def _reshape_vjp(node, g): return (reshape(g, _back_shape(node.inputs[0])),)
def _reshape_jvp(node, t): return reshape(t[0], node.attr("shape"))


# --- transpose ----------------------------------------------------------------------------
def _transpose_infer(types, attrs, where):
    x = types[0]
    axes = attrs["axes"]
    if sorted(axes) != list(range(x.ndim)):
        raise ShapeError(f"transpose: axes {axes} do not permute the {x.ndim} axes of "
                         f"{format_shape(x.shape)}{where}")
    return _same_dtype(types, tuple(x.shape[a] for a in axes))


def _transpose_vjp(node, g): return (transpose(g, tuple(np.argsort(node.attr("axes")).tolist())),)
def _transpose_jvp(node, t): return transpose(t[0], node.attr("axes"))


# --- expand_dims / squeeze ----------------------------------------------------------------
def _expand_infer(types, attrs, where):
    x = types[0]
    axes = normalize_axes("expand_dims", attrs["axis"], x.ndim + len(attrs["axis"]), where)
    dims = iter(x.shape)
    return _same_dtype(types, tuple(1 if i in axes else next(dims) for i in range(x.ndim + len(axes))))


def _squeeze_infer(types, attrs, where):
    x = types[0]
    axes = normalize_axes("squeeze", attrs["axis"], x.ndim, where)
    for a in axes:
        if x.shape[a] not in (1, None):
            raise ShapeError(f"squeeze: axis {a} of {format_shape(x.shape)} has size "
                             f"{x.shape[a]}, not 1{where}")
    return _same_dtype(types, tuple(d for i, d in enumerate(x.shape) if i not in axes))


def _expand_vjp(node, g): return (squeeze(g, node.attr("axis")),)
def _expand_jvp(node, t): return expand_dims(t[0], node.attr("axis"))
def _squeeze_vjp(node, g): return (expand_dims(g, normalize_axes("squeeze", node.attr("axis"), node.inputs[0].ndim)),)
def _squeeze_jvp(node, t): return squeeze(t[0], node.attr("axis"))


# --- broadcasting -------------------------------------------------------------------------
def _broadcast_to_infer(types, attrs, where):
    x, shape = types[0], attrs["shape"]
    out = broadcast_shapes("broadcast_to", [x.shape, shape], where)
    if len(x.shape) > len(shape) or out != tuple(shape):
        raise ShapeError(f"broadcast_to: cannot broadcast {format_shape(x.shape)} to "
                         f"{format_shape(shape)}{where}")
    return _same_dtype(types, shape)


def _broadcast_to_vjp(node, g): return (sum_to_like(g, node.inputs[0]),)
def _broadcast_to_jvp(node, t): return broadcast_to(t[0], node.attr("shape"))


def _broadcast_like_infer(types, attrs, where):
    x, ref = types
    broadcast_shapes("broadcast_like", [x.shape, ref.shape], where)
    if len(x.shape) > len(ref.shape):
        raise ShapeError(f"broadcast_like: {format_shape(x.shape)} has more axes than "
                         f"{format_shape(ref.shape)}{where}")
    return TensorType(ref.shape, x.dtype)


def _broadcast_like_kernel(x, ref):
    return np.broadcast_to(x, np.shape(ref))


def _broadcast_like_vjp(node, g): return (sum_to_like(g, node.inputs[0]), None)
def _broadcast_like_jvp(node, t): return None if t[0] is None else broadcast_like(t[0], node.inputs[1])


def _sum_to_like_infer(types, attrs, where):
    x, ref = types
    broadcast_shapes("sum_to_like", [x.shape, ref.shape], where)
    return TensorType(ref.shape, x.dtype)


def _sum_to_like_kernel(x, ref):
    target = np.shape(ref)
    if x.shape == target:
        return x
    lead = x.ndim - len(target)
    axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(target)
                                      if d == 1 and x.shape[lead + i] != 1)
    out = np.sum(x, axis=axes, keepdims=True)
    return out.reshape(target)


def _sum_to_like_vjp(node, g): return (broadcast_like(g, node.inputs[0]), None)
def _sum_to_like_jvp(node, t): return None if t[0] is None else sum_to_like(t[0], node.inputs[1])


# --- indexing -----------------------------------------------------------------------------
def _encode_index(index: Any) -> tuple[tuple, list[Node]]:
    """Turn a NumPy index into a hashable spec plus the integer-array nodes it uses."""
    items = index if isinstance(index, tuple) else (index,)
    spec: list[tuple] = []
    arrays: list[Node] = []
    for item in items:
        if item is None:
            spec.append(("newaxis",))
        elif item is Ellipsis:
            spec.append(("ellipsis",))
        elif isinstance(item, slice):
            for part in (item.start, item.stop, item.step):
                if part is not None and not isinstance(part, (int, np.integer)):
                    raise ArgumentError(f"getitem: slice bounds must be Python ints, got {item}")
            spec.append(("slice", item.start, item.stop, item.step))
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            spec.append(("int", int(item)))
        else:
            node = as_node(np.asarray(item) if isinstance(item, list) else item)
            if node.dtype.kind not in "iu":
                raise ArgumentError(f"getitem: index arrays must hold integers, got "
                                f"{node.dtype} (boolean masks have data-dependent shapes; "
                                f"use sg.where)")
            spec.append(("array", len(arrays)))
            arrays.append(node)
    if sum(1 for s in spec if s[0] == "ellipsis") > 1:
        raise IndexingError("getitem: an index can only have a single ellipsis ('...')")
    return tuple(spec), arrays


def _decode_index(spec: tuple, arrays: Sequence[np.ndarray]) -> tuple:
    out: list[Any] = []
    for s in spec:
        kind = s[0]
        if kind == "slice":
            out.append(slice(s[1], s[2], s[3]))
        elif kind == "int":
            out.append(s[1])
        elif kind == "newaxis":
            out.append(None)
        elif kind == "ellipsis":
            out.append(Ellipsis)
        else:
            out.append(arrays[s[1]])
    return tuple(out)


def _index_shape(x_shape: Shape, spec: tuple, array_shapes: Sequence[Shape], where: str) -> Shape:
    consumed = sum(1 for s in spec if s[0] in ("slice", "int", "array"))
    if consumed > len(x_shape):
        raise IndexingError(f"getitem: too many indices ({consumed}) for shape "
                         f"{format_shape(x_shape)}{where}")
    full: list[tuple] = []
    for s in spec:
        if s[0] == "ellipsis":
            full.extend([("slice", None, None, None)] * (len(x_shape) - consumed))
        else:
            full.append(s)
    if not any(s[0] == "ellipsis" for s in spec):
        full.extend([("slice", None, None, None)] * (len(x_shape) - consumed))
    has_array = any(s[0] == "array" for s in full)
    pieces: list[tuple[str, Shape]] = []  # ("basic", dims) or ("adv", ()) markers in order
    adv_shapes: list[Shape] = []
    axis = 0
    for s in full:
        if s[0] == "newaxis":
            pieces.append(("basic", (1,)))
            continue
        d = x_shape[axis]
        if s[0] == "slice":
            if d is None:
                pieces.append(("basic", (None,)))
            else:
                pieces.append(("basic", (len(range(*slice(s[1], s[2], s[3]).indices(d))),)))
        elif s[0] == "int":
            if d is not None and not -d <= s[1] < d:
                raise IndexingError(f"getitem: index {s[1]} is out of bounds for axis {axis} "
                                 f"with size {d}{where}")
            if has_array:  # NumPy counts integers as advanced indices beside arrays
                pieces.append(("adv", ()))
                adv_shapes.append(())
        else:
            pieces.append(("adv", ()))
            adv_shapes.append(array_shapes[s[1]])
        axis += 1
    if not has_array:
        return tuple(d for _, dims in pieces for d in dims)
    bshape = broadcast_shapes("getitem", adv_shapes, where)
    adv_pos = [i for i, p in enumerate(pieces) if p[0] == "adv"]
    adjacent = adv_pos == list(range(adv_pos[0], adv_pos[-1] + 1))
    basic_before = [d for p in pieces[:adv_pos[0]] for d in p[1]]
    basic_after = [d for p in pieces[adv_pos[-1] + 1:] for d in p[1]]
    basic_between = [d for p in pieces[adv_pos[0]:adv_pos[-1] + 1] if p[0] == "basic" for d in p[1]]
    if adjacent:
        return tuple(basic_before) + bshape + tuple(basic_after)
    return bshape + tuple(basic_before + basic_between + basic_after)


def _getitem_infer(types, attrs, where):
    x = types[0]
    shape = _index_shape(x.shape, attrs["index"], [t.shape for t in types[1:]], where)
    return TensorType(shape, x.dtype)   # an array at run time, so never weak


def _getitem_kernel(x, *arrays, index=()):
    return np.asarray(x)[_decode_index(index, arrays)]   # x may be a Python scalar


def _distinct_positions(x: Node, spec: tuple, arrays: Sequence[Node]) -> bool:
    """True when an index provably picks each position of ``x`` at most once.

    Basic indices always do. With integer arrays it holds when one array is a constant of
    distinct in-range values whose shape is the broadcast shape of all of them, as the
    ``arange(n)`` in ``logp[arange(n), labels]`` is: then every picked row differs.
    """
    if not arrays:
        return True
    shapes = [a.shape for a in arrays]
    try:
        full = broadcast_shapes("getitem", shapes)
    except ShapeError:
        return False
    axis_of = {}
    axis = 0
    for s in spec:
        if s[0] == "ellipsis":
            axis += x.ndim - sum(1 for t in spec if t[0] in ("slice", "int", "array"))
        elif s[0] != "newaxis":
            if s[0] == "array":
                axis_of[s[1]] = axis
            axis += 1
    for k, a in enumerate(arrays):
        size = x.shape[axis_of[k]]
        if a.op != "const" or a.type.weak or a.shape != full or size is None:
            continue
        values = np.asarray(a.payload).ravel()
        if values.size and (values.min() < -size or values.max() >= size):
            continue
        if np.unique(np.mod(values, size)).size == values.size:
            return True
    return False


def _getitem_vjp(node, g):
    x, *arrays = node.inputs
    spec = node.attr("index")
    grad = apply("getitem_grad", [g, x, *arrays], index=spec,
                 distinct=_distinct_positions(x, spec, arrays))
    return (grad,) + (None,) * len(arrays)


def _getitem_jvp(node, t):
    return None if t[0] is None else apply("getitem", [t[0], *node.inputs[1:]], index=node.attr("index"))


def _getitem_grad_infer(types, attrs, where):
    return TensorType(types[1].shape, types[0].dtype)


def _getitem_grad_kernel(g, ref, *arrays, index=(), distinct=False):
    out = np.zeros(np.shape(ref), dtype=g.dtype)
    idx = _decode_index(index, arrays)
    if arrays and not distinct:
        np.add.at(out, idx, g)   # repeated indices must add up
    else:
        out[idx] = g
    return out


def _getitem_grad_vjp(node, g):
    _, ref, *arrays = node.inputs
    return (apply("getitem", [g, *arrays], index=node.attr("index")), None) + (None,) * len(arrays)


def _getitem_grad_jvp(node, t):
    if t[0] is None:
        return None
    return apply("getitem_grad", [t[0], *node.inputs[1:]], index=node.attr("index"),
                 distinct=node.attr_dict.get("distinct", False))


# --- concatenate / stack ------------------------------------------------------------------
def _concat_infer(types, attrs, where):
    axis = attrs["axis"]
    first = types[0]
    ax = normalize_axes("concatenate", axis, first.ndim, where)[0]
    for t in types[1:]:
        if t.ndim != first.ndim or any(
                a != b and a is not None and b is not None
                for i, (a, b) in enumerate(zip(t.shape, first.shape)) if i != ax):
            raise ShapeError(f"concatenate: shapes {format_shape(first.shape)} and "
                             f"{format_shape(t.shape)} differ off axis {ax}{where}")
    sizes = [t.shape[ax] for t in types]
    total = None if None in sizes else sum(sizes)
    shape = list(broadcast_shapes("concatenate", [t.shape[:ax] + (1,) + t.shape[ax + 1:] for t in types], where))
    shape[ax] = total
    return TensorType(tuple(shape), promote("concatenate", types, where).dtype)


def _concat_kernel(*xs, axis=0):
    return np.concatenate(xs, axis=axis)


def _concat_vjp(node, g):
    ax = normalize_axes("concatenate", node.attr("axis"), node.ndim)[0]
    if any(x.shape[ax] is None for x in node.inputs):
        # Offsets known only at run time: each part is cut by the shapes the inputs have then.
        return tuple(apply("concat_part", [g, *node.inputs], axis=ax, index=k)
                     for k in range(len(node.inputs)))
    out, start = [], 0
    for x in node.inputs:
        index = (slice(None),) * ax + (slice(start, start + x.shape[ax]),)
        out.append(getitem(g, index))
        start += x.shape[ax]
    return tuple(out)


def _concat_jvp(node, t):
    if all(ti is None for ti in t):
        return None
    parts = [ti if ti is not None else zeros_like(x) for ti, x in zip(t, node.inputs)]
    return concatenate(parts, axis=node.attr("axis"))


def _concat_part_infer(types, attrs, where):
    g, parts = types[0], types[1:]
    ax, k = attrs["axis"], attrs["index"]
    shape = list(g.shape)
    shape[ax] = parts[k].shape[ax]
    return TensorType(tuple(shape), g.dtype)


def _concat_part_kernel(g, *parts, axis=0, index=0):
    start = sum(np.shape(p)[axis] for p in parts[:index])
    return g[(slice(None),) * axis + (slice(start, start + np.shape(parts[index])[axis]),)]


def _concat_part_vjp(node, gg):
    # The part back in its place, zeros of the other parts' sizes around it.
    g, *parts = node.inputs
    zero = const(np.zeros((), gg.dtype))
    pieces = [gg if j == node.attr("index") else broadcast_like(zero, p)
              for j, p in enumerate(parts)]
    return (concatenate(pieces, axis=node.attr("axis")),) + (None,) * len(parts)


def _concat_part_jvp(node, t):
    if t[0] is None:
        return None
    return apply("concat_part", [t[0], *node.inputs[1:]], axis=node.attr("axis"),
                 index=node.attr("index"))


def _stack_infer(types, attrs, where):
    shape = broadcast_shapes("stack", [t.shape for t in types], where)
    for t in types:
        if t.ndim != len(shape) or any(a not in (b, None) and b is not None for a, b in zip(t.shape, shape)):
            raise ShapeError(f"stack: all inputs need one shape, got "
                             f"{', '.join(format_shape(t.shape) for t in types)}{where}")
    ax = normalize_axes("stack", attrs["axis"], len(shape) + 1, where)[0]
    out = shape[:ax] + (len(types),) + shape[ax:]
    return TensorType(out, promote("stack", types, where).dtype)


def _stack_kernel(*xs, axis=0):
    return np.stack(xs, axis=axis)


def _stack_vjp(node, g):
    ax = normalize_axes("stack", node.attr("axis"), node.ndim)[0]
    return tuple(getitem(g, (slice(None),) * ax + (i,)) for i in range(len(node.inputs)))


def _stack_jvp(node, t):
    if all(ti is None for ti in t):
        return None
    parts = [ti if ti is not None else zeros_like(x) for ti, x in zip(t, node.inputs)]
    return stack(parts, axis=node.attr("axis"))


# --- one_hot ------------------------------------------------------------------------------
def _one_hot_infer(types, attrs, where):
    if types[0].dtype.kind not in "iu":
        raise ShapeError(f"one_hot: labels must be integers, got {types[0].dtype}{where}")
    return TensorType(types[0].shape + (attrs["depth"],), attrs["dtype"])


def _one_hot_kernel(labels, depth=0, dtype=None):
    return (np.asarray(labels)[..., None] == np.arange(depth)).astype(dtype)


register(Op("reshape", _reshape_infer, lambda x, shape=(): np.reshape(x, shape), _reshape_vjp, _reshape_jvp, complex_ok=True))
register(Op("transpose", _transpose_infer, lambda x, axes=(): np.transpose(x, axes), _transpose_vjp, _transpose_jvp, complex_ok=True))
register(Op("expand_dims", _expand_infer, lambda x, axis=(): np.expand_dims(x, axis), _expand_vjp, _expand_jvp, complex_ok=True))
register(Op("squeeze", _squeeze_infer, lambda x, axis=(): np.squeeze(x, axis), _squeeze_vjp, _squeeze_jvp, complex_ok=True))
register(Op("broadcast_to", _broadcast_to_infer, lambda x, shape=(): np.broadcast_to(x, shape),
            _broadcast_to_vjp, _broadcast_to_jvp, complex_ok=True))
register(Op("broadcast_like", _broadcast_like_infer, _broadcast_like_kernel, _broadcast_like_vjp,
            _broadcast_like_jvp, shape_only_inputs=(1,), complex_ok=True))
register(Op("sum_to_like", _sum_to_like_infer, _sum_to_like_kernel, _sum_to_like_vjp,
            _sum_to_like_jvp, shape_only_inputs=(1,), complex_ok=True))
register(Op("getitem", _getitem_infer, _getitem_kernel, _getitem_vjp, _getitem_jvp, complex_ok=True))
register(Op("getitem_grad", _getitem_grad_infer, _getitem_grad_kernel, _getitem_grad_vjp,
            _getitem_grad_jvp, shape_only_inputs=(1,), complex_ok=True))
register(Op("concatenate", _concat_infer, _concat_kernel, _concat_vjp, _concat_jvp, complex_ok=True))
register(Op("concat_part", _concat_part_infer, _concat_part_kernel, _concat_part_vjp,
            _concat_part_jvp, shape_only_inputs=(1,), doc="part k of a concatenation's cotangent", complex_ok=True))
register(Op("stack", _stack_infer, _stack_kernel, _stack_vjp, _stack_jvp, complex_ok=True))
register(Op("one_hot", _one_hot_infer, _one_hot_kernel, differentiable=False))


# --- the public functions ------------------------------------------------------------------
def reshape(x: Any, shape: Sequence[int], name_: Optional[str] = None) -> Node:
    """``x`` with a new shape; one size may be -1."""
    shape = int_tuple("reshape", "the shape", shape)
    if any(d < -1 for d in shape) or shape.count(-1) > 1:
        raise ShapeError(f"reshape: sizes are >= 0 with at most one -1, got {shape}")
    return apply("reshape", [as_node(x)], name_, shape=shape)


def transpose(x: Any, axes: Optional[Sequence[int]] = None, name_: Optional[str] = None) -> Node:
    """``x`` with its axes permuted (reversed by default)."""
    x = as_node(x)
    if axes is None:
        axes = tuple(range(x.ndim))[::-1]
    # Only negative axes wrap; an axis past the end stays out of range for the type rule
    # to reject (``% ndim`` would silently turn axis 3 of a matrix into axis 1).
    axes = tuple(a + x.ndim if a < 0 else a for a in int_tuple("transpose", "axes", axes))
    return apply("transpose", [x], name_, axes=axes)


def swapaxes_last(x: Node) -> Node:
    """``x`` with its last two axes swapped (the matrix transpose of a batch)."""
    axes = list(range(x.ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return transpose(x, axes)


def expand_dims(x: Any, axis: int | Sequence[int], name_: Optional[str] = None) -> Node:
    """``x`` with new axes of size 1 at ``axis`` (positions in the result)."""
    axis = int_tuple("expand_dims", "axis", axis)
    return apply("expand_dims", [as_node(x)], name_, axis=axis)


def squeeze(x: Any, axis: int | Sequence[int], name_: Optional[str] = None) -> Node:
    """``x`` without the size-1 axes ``axis``."""
    axis = int_tuple("squeeze", "axis", axis)
    return apply("squeeze", [as_node(x)], name_, axis=axis)


def broadcast_to(x: Any, shape: Sequence[int], name_: Optional[str] = None) -> Node:
    """``x`` broadcast to the static ``shape``."""
    shape = int_tuple("broadcast_to", "the shape", shape)
    if any(d < 0 for d in shape):
        raise ShapeError(f"broadcast_to: sizes are >= 0, got {shape} (for a size known only "
                         f"at run time use broadcast_like)")
    return apply("broadcast_to", [as_node(x)], name_, shape=shape)


def broadcast_like(x: Any, ref: Node, name_: Optional[str] = None) -> Node:
    """``x`` broadcast to ``ref``'s run-time shape."""
    return apply("broadcast_like", [as_node(x), ref], name_)


def sum_to_like(x: Any, ref: Node, name_: Optional[str] = None) -> Node:
    """``x`` summed over the axes that broadcasting to ``ref``'s shape added or stretched."""
    return apply("sum_to_like", [as_node(x), ref], name_)


def zeros_like(x: Node) -> Node:
    """Zeros of ``x``'s shape and dtype."""
    x = as_node(x)
    return broadcast_like(const(np.zeros((), x.dtype)), x)


def getitem(x: Any, index: Any, name_: Optional[str] = None) -> Node:
    """NumPy indexing: ints, slices, ``None``, ``...`` and integer arrays (or nodes)."""
    spec, arrays = _encode_index(index)
    return apply("getitem", [as_node(x), *arrays], name_, index=spec)


def concatenate(xs: Sequence[Any], axis: int = 0, name_: Optional[str] = None) -> Node:
    """Join ``xs`` along an existing axis."""
    if not xs:
        raise ArgumentError("concatenate: needs at least one input")
    return apply("concatenate", [as_node(x) for x in xs], name_, axis=int(axis))


def stack(xs: Sequence[Any], axis: int = 0, name_: Optional[str] = None) -> Node:
    """Join same-shape ``xs`` along a new axis."""
    if not xs:
        raise ArgumentError("stack: needs at least one input")
    return apply("stack", [as_node(x) for x in xs], name_, axis=int(axis))


def one_hot(labels: Any, depth: int, dtype: Any = "float64", name_: Optional[str] = None) -> Node:
    """``labels`` (integers) as one-hot rows of length ``depth``."""
    depth = as_size("one_hot", "depth (the number of classes)", depth, least=1)
    return apply("one_hot", [as_node(labels)], name_, depth=depth, dtype=as_dtype(dtype))
