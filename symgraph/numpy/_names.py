"""How a NumPy name finds its symgraph function: the small tables where NumPy's name or
signature differs, the functions without a derivative, and the reasons for what is left out.

Nothing here declares an op or states a derivative: every entry calls symgraph's public
functions, which are built from the op registry.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from symgraph.errors import ArgumentError, ShapeError, UnsupportedError
from symgraph.graph import Node
from symgraph import ops

# NumPy name -> symgraph's name for the same function (same signature).
ALIASES: dict[str, str] = {
    "var": "variance",            # sg.var makes an input placeholder
    "absolute": "abs", "fabs": "abs",
    "amax": "max", "amin": "min",
    "true_divide": "divide",
    "concat": "concatenate",
    "permute_dims": "transpose",
    "row_stack": "vstack",
    "asin": "arcsin", "acos": "arccos", "atan": "arctan", "atan2": "arctan2",
    "asinh": "arcsinh", "acosh": "arccosh", "atanh": "arctanh",
    "pow": "power",
    "around": "round",
    "conjugate": "conj",
    "degrees": "rad2deg", "radians": "deg2rad",
    "cumulative_sum": "cumsum", "cumulative_prod": "cumprod",
    "remainder": "mod",
}
# NumPy names that must not resolve to the symgraph function of the same name.
NOT_BY_NAME: frozenset[str] = frozenset({"var"})   # sg.var is an input placeholder

# NumPy's names whose results carry no derivative (integer, boolean or piecewise constant).
NO_DERIVATIVE: frozenset[str] = frozenset("""
    argmax argmin argsort argpartition nanargmax nanargmin sign floor ceil rint round around
    trunc fix equal not_equal less less_equal greater greater_equal logical_and logical_or
    logical_not logical_xor isnan isinf isfinite isneginf isposinf signbit all any
    count_nonzero searchsorted digitize array_equal array_equiv allclose isclose heaviside
    zeros ones full empty eye identity arange linspace logspace geomspace tri zeros_like
    ones_like full_like empty_like shape ndim size floor_divide isreal iscomplex
    tril_indices_from triu_indices_from diag_indices_from einsum_path matrix_rank
    """.split())

# NumPy's own functions that take dtypes, sizes or index arrays, not data: passed through, and
# their NumPy results act as constants in a graph.
NUMPY_OWN: frozenset[str] = frozenset("""
    dtype finfo iinfo result_type promote_types can_cast issubdtype isdtype min_scalar_type
    common_type mintypecode isscalar iterable broadcast_shapes errstate
    indices diag_indices tril_indices triu_indices mask_indices ix_ ravel_multi_index
    unravel_index bartlett blackman hamming hanning kaiser
    fromfunction fftfreq rfftfreq
    """.split())
# (fromfunction calls its function once on NumPy index grids: a function of nodes returns a node)

_IO = "file input/output: a graph holds no data until evaluated; evaluate, then use NumPy"
_DATA_SHAPE = "its output's shape depends on the input's values, which a static graph cannot know"
_MUTATES = "it writes into its argument; nodes are immutable (use sg.index_add or x.at[i].add)"
_PRINT = "printing or configuration, not array math"
_PYTHON = "it calls Python code per element or per slice; write the function with snp directly"
_INT = "integer bit manipulation: no derivative and no float meaning"
_TIME = "dates, strings and buffers are not numeric tensors"
_MEMORY = "it is about memory layout, which a node does not have"

# NumPy function -> why symgraph leaves it out on purpose.
LEFT_OUT: dict[str, str] = {
    **dict.fromkeys("save savetxt savez savez_compressed load loadtxt genfromtxt fromfile "
                    "fromregex frombuffer fromstring from_dlpack".split(), _IO),
    **dict.fromkeys("nonzero argwhere flatnonzero extract compress unique unique_all "
                    "unique_counts unique_inverse unique_values intersect1d union1d setdiff1d "
                    "setxor1d trim_zeros histogram histogram2d histogramdd histogram_bin_edges "
                    "bincount".split(), _DATA_SHAPE),
    **dict.fromkeys("put put_along_axis putmask place copyto fill_diagonal".split(), _MUTATES),
    **dict.fromkeys("array2string array_repr array_str format_float_positional "
                    "format_float_scientific set_printoptions get_printoptions printoptions "
                    "setbufsize getbufsize seterr geterr seterrcall geterrcall show_config "
                    "show_runtime info typename base_repr binary_repr get_include test".split(),
                    _PRINT),
    **dict.fromkeys("apply_along_axis apply_over_axes piecewise fromiter "
                    "frompyfunc vectorize nested_iters".split(), _PYTHON),
    **dict.fromkeys("bitwise_and bitwise_or bitwise_xor bitwise_not bitwise_invert "
                    "bitwise_count bitwise_left_shift bitwise_right_shift left_shift right_shift "
                    "invert packbits unpackbits gcd lcm".split(), _INT),
    **dict.fromkeys("busday_count busday_offset is_busday datetime_as_string datetime_data "
                    "isnat".split(), _TIME),
    **dict.fromkeys("isfortran may_share_memory shares_memory".split(), _MEMORY),
    **dict.fromkeys("asmatrix bmat".split(), "np.matrix has no symgraph form; use 2-d arrays"),
}


# NumPy's objects that are not functions but build arrays: symgraph's versions.
OBJECTS: dict[str, Any] = {"r_": ops.r_, "c_": ops.c_}


def _no_out(name: str, out: Any) -> None:
    if out is not None:
        raise UnsupportedError(f"snp.{name}: out= cannot hold a symbolic result (a node has "
                               f"no value until evaluated); use the returned node")


# --- functions whose NumPy signature differs from symgraph's ---------------------------------
def squeeze(a: Any, axis: Any = None) -> Node:
    x = ops.as_node(a)
    if axis is None:
        if None in x.shape:
            raise ShapeError(f"squeeze: axis=None needs every size of {x.shape} when the graph "
                             f"is built; name the axes")
        axis = tuple(i for i, d in enumerate(x.shape) if d == 1)
    return ops.squeeze(x, axis)


def reshape(a: Any, shape: Any = None, order: str = "C", *, newshape: Any = None,
            copy: Optional[bool] = None) -> Node:
    if order != "C":
        raise UnsupportedError(f"snp.reshape: order={order!r} is not supported (row-major only)")
    if shape is None and newshape is None:
        raise ArgumentError("snp.reshape: give the new shape")
    return ops.reshape(a, newshape if shape is None else shape)


def asarray(a: Any, dtype: Any = None, order: Any = None, *, copy: Any = None,
            device: Any = None, like: Any = None) -> Node:
    if isinstance(a, Node):
        return a if dtype is None or np.dtype(dtype) == a.dtype else ops.cast(a, dtype)
    if isinstance(a, (list, tuple)) and any(isinstance(v, Node) for v in _leaves(a)):
        return ops.stack([asarray(v, dtype) for v in a])   # a nested list holding nodes
    return ops.const(np.asarray(a, dtype=dtype))


def _leaves(seq: Any) -> list:
    out, stack = [], [seq]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        else:
            out.append(item)
    return out


def array(obj: Any, dtype: Any = None, *, copy: bool = True, order: str = "K", subok: bool = False,
          ndmin: int = 0, like: Any = None) -> Node:
    out = asarray(obj, dtype)
    return ops.expand_dims(out, tuple(range(ndmin - out.ndim))) if out.ndim < ndmin else out


def copy(a: Any, order: str = "K", subok: bool = False) -> Node:
    return ops.as_node(a)   # nodes are immutable: a copy is the node itself


def astype(x: Any, dtype: Any, *, copy: bool = True, device: Any = None) -> Node:
    return ops.cast(x, dtype)


def shape(a: Any) -> tuple:
    return ops.as_node(a).shape


def ndim(a: Any) -> int:
    return ops.as_node(a).ndim


def size(a: Any, axis: Optional[int] = None) -> int:
    x = ops.as_node(a)
    dims = x.shape if axis is None else (x.shape[axis],)
    if None in dims:
        raise ShapeError(f"snp.size: {x!r} has a size known only at run time")
    return int(np.prod(dims, dtype=np.int64))


def concatenate(arrays: Any, axis: Optional[int] = 0, out: Any = None, *, dtype: Any = None,
                casting: str = "same_kind") -> Node:
    _no_out("concatenate", out)
    if isinstance(arrays, Node):    # a node passed whole is the sequence of its rows
        arrays = ops.unstack(arrays, 0)
    parts = [ops.as_node(v) for v in arrays]
    if axis is None:
        parts, axis = [ops.ravel(p) for p in parts], 0
    if dtype is not None:
        parts = [ops.cast(p, dtype) for p in parts]
    return ops.concatenate(parts, axis)


def clip(a: Any, a_min: Any = None, a_max: Any = None, out: Any = None, *, min: Any = None,
         max: Any = None, **kwargs: Any) -> Node:
    _no_out("clip", out)
    lo = a_min if a_min is not None else min
    hi = a_max if a_max is not None else max
    x = ops.as_node(a)
    if all(b is None or isinstance(b, (int, float)) for b in (lo, hi)):
        return ops.clip(x, lo, hi)
    # array or node bounds: clip is max(lo, min(x, hi))
    if hi is not None:
        x = ops.minimum(x, hi)
    return x if lo is None else ops.maximum(x, lo)


def dot(a: Any, b: Any, out: Any = None) -> Node:
    _no_out("dot", out)
    return ops.dot(a, b)


def outer(a: Any, b: Any, out: Any = None) -> Node:
    _no_out("outer", out)
    return ops.outer(ops.ravel(a), ops.ravel(b))


def zeros_like(a: Any, dtype: Any = None, order: str = "K", subok: bool = True,
               shape: Any = None, **kwargs: Any) -> Node:
    return ops.full_like(a, 0, dtype) if shape is None else ops.zeros(shape, dtype or ops.as_node(a).dtype)


def ones_like(a: Any, dtype: Any = None, order: str = "K", subok: bool = True,
              shape: Any = None, **kwargs: Any) -> Node:
    return ops.full_like(a, 1, dtype) if shape is None else ops.ones(shape, dtype or ops.as_node(a).dtype)


def full_like(a: Any, fill_value: Any, dtype: Any = None, order: str = "K", subok: bool = True,
              shape: Any = None, **kwargs: Any) -> Node:
    if shape is not None:
        return ops.full(shape, fill_value, dtype or ops.as_node(a).dtype)
    return ops.full_like(a, fill_value, dtype)


empty_like = zeros_like


def stack(arrays: Any, axis: int = 0, out: Any = None, *, dtype: Any = None,
          casting: str = "same_kind") -> Node:
    _no_out("stack", out)
    parts = ops.unstack(arrays, 0) if isinstance(arrays, Node) else arrays
    return ops.stack([ops.as_node(p) if dtype is None else ops.cast(p, dtype) for p in parts], axis)


def fliplr(m: Any) -> Node:
    return ops.flip(m, 1)


def flipud(m: Any) -> Node:
    return ops.flip(m, 0)


def matrix_transpose(x: Any) -> Node:
    return ops.swapaxes(x, -1, -2)


def positive(x: Any) -> Node:
    return ops.as_node(x)


def _reduction_input(name: str, a: Any, dtype: Any, out: Any, where: Any) -> Node:
    _no_out(name, out)
    if where is not True:
        raise UnsupportedError(f"snp.{name}: where= is not supported on symbolic nodes (masked "
                               f"entries would be left undefined; use snp.where(cond, x, 0))")
    x = ops.as_node(a)
    return x if dtype is None else ops.cast(x, dtype)


def _initial(name: str, out: Node, initial: Any, combine: Any) -> Node:
    return out if initial is None or initial is getattr(np, "_NoValue", None) else combine(out, initial)


# sum, mean, max and min in NumPy's positional order (symgraph's take axis, keepdims)
def sum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
        initial: Any = None, where: Any = True) -> Node:  # noqa: A001 - NumPy's name
    x = _reduction_input("sum", a, dtype, out, where)
    return _initial("sum", ops.sum(x, axis, keepdims), initial, ops.add)


def mean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
         *, where: Any = True) -> Node:
    return ops.mean(_reduction_input("mean", a, dtype, out, where), axis, keepdims)


def max(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, initial: Any = None,
        where: Any = True) -> Node:  # noqa: A001 - NumPy's name
    x = _reduction_input("max", a, None, out, where)
    return _initial("max", ops.max(x, axis, keepdims), initial, ops.maximum)


def min(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, initial: Any = None,
        where: Any = True) -> Node:  # noqa: A001 - NumPy's name
    x = _reduction_input("min", a, None, out, where)
    return _initial("min", ops.min(x, axis, keepdims), initial, ops.minimum)


def einsum_path(*operands: Any, optimize: Any = "greedy", einsum_call: bool = False) -> Any:
    # the contraction order depends on shapes only: NumPy plans it on empty stand-ins
    stand_ins = []
    for op in operands:
        if isinstance(op, Node):
            if None in op.shape:
                raise ShapeError(f"snp.einsum_path: {op!r} has a size known only at run time")
            op = np.empty(op.shape, op.dtype)
        stand_ins.append(op)
    return np.einsum_path(*stand_ins, optimize=optimize, einsum_call=einsum_call)


def linalg_diagonal(x: Any, *, offset: int = 0) -> Node:
    return ops.diagonal(x, offset, -2, -1)


def linalg_trace(x: Any, *, offset: int = 0, dtype: Any = None) -> Node:
    return ops.trace(x, offset, -2, -1, dtype)


# NumPy name -> the function above that gives NumPy's signature
SIGNATURES: dict[str, Any] = {
    f.__name__: f for f in (squeeze, reshape, asarray, array, copy, astype, shape, ndim,
                            size, concatenate, clip, dot, outer, zeros_like, ones_like,
                            full_like, fliplr, flipud, matrix_transpose, positive, sum, mean,
                            max, min, stack, einsum_path)
}
# a node has no memory layout, so the layout-making conversions are asarray
SIGNATURES.update(asanyarray=asarray, empty_like=empty_like, concat=concatenate,
                  asarray_chkfinite=asarray, ascontiguousarray=asarray, asfortranarray=asarray,
                  require=asarray, amax=max, amin=min)
LINALG_SIGNATURES: dict[str, Any] = {"diagonal": linalg_diagonal, "trace": linalg_trace,
                                     "matrix_transpose": matrix_transpose}
