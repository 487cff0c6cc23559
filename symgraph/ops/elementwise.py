"""Elementwise ops with NumPy broadcasting: arithmetic, transcendental functions,
activations, comparisons, ``where``, ``clip`` and ``cast``.

Each op's derivative rules sit beside its kernel. A rule may return a cotangent of the
broadcast output shape: the reverse pass sums it back to the input's shape in one helper.
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import numpy as np

from symgraph.graph import Node
from symgraph.ops.registry import Op, apply, as_node, const, register
from symgraph.types import TensorType, as_dtype, broadcast_shapes, is_float
from symgraph.errors import ArgumentError

_EXAMPLE = {"b": False, "i": 0, "u": 0, "f": 0.0, "c": 0j}


def _example(t: TensorType) -> Any:
    # An empty array of the dtype, or a Python scalar for weak types, so NumPy's own
    # promotion decides the result dtype exactly as the kernel will at run time.
    return _EXAMPLE[t.dtype.kind] if t.weak else np.empty((0,), t.dtype)


def _elementwise_infer(name: str, kernel: Callable[..., Any], weak_results: bool = True):
    # Result dtypes depend only on input dtypes, weak flags and attrs: ask NumPy once each.
    dtypes: dict[tuple, np.dtype] = {}

    # Whole results too: derivative graphs apply the same op to the same types thousands
    # of times, and a dict look-up costs a tenth of broadcasting the shapes again.
    results: dict[tuple, TensorType] = {}

    def infer(types: Sequence[TensorType], attrs: dict, where: str) -> TensorType:
        # TensorType's dataclass hash runs in Python; a tuple of its fields hashes in C
        key = (tuple([(t.shape, t.dtype, t.weak) for t in types]),
               tuple(attrs.items()) if attrs else ())
        known = results.get(key)
        if known is not None:
            return known
        out = _infer(types, attrs, where)
        if len(results) > 4096:      # bounded: shapes with many sizes come and go
            results.clear()
        results[key] = out
        return out

    def _infer(types: Sequence[TensorType], attrs: dict, where: str) -> TensorType:
        shape = broadcast_shapes(name, [t.shape for t in types], where)
        key = (tuple((t.dtype, t.weak) for t in types), tuple(attrs.items()))
        dtype = dtypes.get(key)
        if dtype is None:
            with np.errstate(all="ignore"):
                dtype = np.asarray(kernel(*[_example(t) for t in types], **attrs)).dtype
            dtypes[key] = dtype
        return TensorType(shape, dtype, weak=weak_results and all(t.weak for t in types))
    return infer


_PY_SCALARS = (bool, int, float, complex)


def _keep_weak(kernel: Callable[..., Any]) -> Callable[..., Any]:
    """``kernel`` returning a Python scalar when every input is one.

    The type rule calls such a result weak; NumPy returns a strongly typed NumPy scalar
    (``np.subtract(3, 1)`` is an int64), which would turn ``x32 ** (3 - 1)`` into float64
    at run time while the static dtype says float32.
    """
    def run(*args: Any, **attrs: Any) -> Any:
        out = kernel(*args, **attrs)
        # Arrays with axes (the usual case) pass after two cheap checks.
        if (type(out) is not np.ndarray or not out.shape) and all(
                type(a) in _PY_SCALARS for a in args):
            return np.asarray(out).item()
        return out
    # The runtime calls the ufunc itself (with ``out=``) when some input is an array.
    run.__wrapped__ = kernel  # type: ignore[attr-defined]
    return run


def _declare(name: str, kernel: Callable[..., Any], vjp=None, jvp=None, *,
             differentiable: bool = True, commutative: bool = False, doc: str = "",
             weak_results: bool = True, complex_ok: bool = False) -> Op:
    # weak_results=False: the op makes strongly typed values even from Python scalars.
    if weak_results:
        kernel = _keep_weak(kernel)
    return register(Op(name, _elementwise_infer(name, kernel, weak_results), kernel, vjp, jvp,
                       differentiable=differentiable, commutative=commutative,
                       elementwise=True, doc=doc, complex_ok=complex_ok))


def _unary(name: str, summary: str):
    def fn(x: Any, name_: Optional[str] = None) -> Node:
        return apply(name, [as_node(x)], name_)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"{summary}, elementwise."
    return fn


def _binary(name: str, summary: str):
    def fn(a: Any, b: Any, name_: Optional[str] = None) -> Node:
        return apply(name, [as_node(a), as_node(b)], name_)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"{summary}, elementwise with broadcasting."
    return fn


def _or_zero(t: Optional[Node]) -> Node:
    return t if t is not None else const(0.0)


def _sum_tangents(*terms: Optional[Node]) -> Optional[Node]:
    present = [t for t in terms if t is not None]
    if not present:
        return None
    out = present[0]
    for t in present[1:]:
        out = add(out, t)
    return out


def _scale(t: Optional[Node], factor: Node) -> Optional[Node]:
    return None if t is None else multiply(t, factor)


# --- kernels that are not single NumPy ufuncs ---------------------------------------------
def _sigmoid_kernel(x):
    # Two branches keep both tails accurate: exp never overflows and 1 - s never cancels.
    x = np.asarray(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(np.result_type(x, 0.0), copy=False)


def _softplus_kernel(x):
    return np.logaddexp(0, x)


def _relu_kernel(x):
    return np.maximum(x, 0)


def _clip_kernel(x, lo=None, hi=None):
    return np.clip(x, lo, hi)


def _cast_kernel(x, dtype=None):
    x = np.asarray(x)
    if x.dtype.kind == "c" and np.dtype(dtype).kind != "c":
        x = x.real    # complex to real keeps the real part, as astype does, without its warning
    return x.astype(dtype, copy=False)


# --- arithmetic ---------------------------------------------------------------------------
def _add_vjp(node, g): return (g, g)
def _add_jvp(node, t): return _sum_tangents(*t)
def _subtract_vjp(node, g): return (g, negative(g))
def _subtract_jvp(node, t): return _sum_tangents(t[0], None if t[1] is None else negative(t[1]))


def _multiply_vjp(node, g):
    a, b = node.inputs
    return (multiply(g, b), multiply(g, a))


def _multiply_jvp(node, t):
    a, b = node.inputs
    return _sum_tangents(_scale(t[0], b), _scale(t[1], a))


def _divide_vjp(node, g):
    a, b = node.inputs
    return (divide(g, b), negative(divide(multiply(g, node), b)))


def _divide_jvp(node, t):
    a, b = node.inputs
    ta = None if t[0] is None else divide(t[0], b)
    tb = None if t[1] is None else negative(divide(multiply(t[1], node), b))
    return _sum_tangents(ta, tb)


def _const_without_zeros(x: Node) -> bool:
    return x.op == "const" and bool(np.all(np.asarray(x.payload) != 0))


def _power_da(node: Node) -> Node:
    # d/da a**b = b a**(b-1). Where a == 0 and b == 0 that is 0 * inf: the base is swapped
    # for 1 there, so d/dx x**0 at x = 0 is 0 (without folding) and every other point keeps
    # the plain rule and its derivatives.
    a, b = node.inputs
    if not _const_without_zeros(b):
        a = where(logical_and(equal(a, 0), equal(b, 0)), 1, a)
    return multiply(b, power(a, subtract(b, 1)))


def _power_db(node: Node) -> Node:
    # d/db a**b = log(a) a**b, taken as 0 where a == 0: log(0) * 0**b would be NaN (JAX's
    # convention; 0**b is flat in b for b > 0).
    a = node.inputs[0]
    if not _const_without_zeros(a):
        a = where(equal(a, 0), 1, a)
    return multiply(log(a), node)


def _power_vjp(node, g):
    b = node.inputs[1]
    db = multiply(g, _power_db(node)) if is_float(b.dtype) and b.op != "const" else None
    return (multiply(g, _power_da(node)), db)


def _power_jvp(node, t):
    ta = None if t[0] is None else multiply(t[0], _power_da(node))
    tb = None if t[1] is None else multiply(t[1], _power_db(node))
    return _sum_tangents(ta, tb)


def _negative_vjp(node, g): return (negative(g),)
def _negative_jvp(node, t): return negative(t[0])


def _tie_split(a_wins: Node, tie: Node, g: Node) -> tuple[Node, Node]:
    """The cotangent ``g`` of a two-way pick, all of it to the winner and half of it to
    each at a tie: the average of the one-sided derivatives, what central differences
    measure there (JAX, autograd and PyTorch split ties the same way)."""
    half = multiply(g, 0.5)
    return (where(a_wins, g, where(tie, half, 0.0)),
            where(logical_or(a_wins, tie), where(tie, half, 0.0), g))


def _tie_tangent(a_wins: Node, tie: Node, ta: Optional[Node], tb: Optional[Node]) -> Node:
    """The tangent of a two-way pick: the winner's, the mean of both at a tie."""
    ta, tb = _or_zero(ta), _or_zero(tb)
    return where(a_wins, ta, where(tie, multiply(add(ta, tb), 0.5), tb))


def _maximum_vjp(node, g):
    a, b = node.inputs
    return _tie_split(greater(a, b), equal(a, b), g)


def _maximum_jvp(node, t):
    a, b = node.inputs
    return _tie_tangent(greater(a, b), equal(a, b), t[0], t[1])


def _minimum_vjp(node, g):
    a, b = node.inputs
    return _tie_split(less(a, b), equal(a, b), g)


def _minimum_jvp(node, t):
    a, b = node.inputs
    return _tie_tangent(less(a, b), equal(a, b), t[0], t[1])


# --- unary functions: each VJP is g * f'(x), each JVP t * f'(x) ---------------------------
def _unary_rules(derivative: Callable[[Node], Node]):
    """VJP and JVP of an elementwise f from f'(x), given as a node builder."""
    def vjp(node, g):
        return (multiply(g, derivative(node)),)

    def jvp(node, t):
        return multiply(t[0], derivative(node))
    return vjp, jvp


_exp_vjp, _exp_jvp = _unary_rules(lambda y: y)
_log_vjp, _log_jvp = _unary_rules(lambda y: reciprocal(y.inputs[0]))
_log1p_vjp, _log1p_jvp = _unary_rules(lambda y: reciprocal(add(y.inputs[0], 1)))
_expm1_vjp, _expm1_jvp = _unary_rules(lambda y: add(y, 1))
_sqrt_vjp, _sqrt_jvp = _unary_rules(lambda y: divide(0.5, y))
_square_vjp, _square_jvp = _unary_rules(lambda y: multiply(2, y.inputs[0]))
_sin_vjp, _sin_jvp = _unary_rules(lambda y: cos(y.inputs[0]))
_cos_vjp, _cos_jvp = _unary_rules(lambda y: negative(sin(y.inputs[0])))
_tanh_vjp, _tanh_jvp = _unary_rules(lambda y: subtract(1, square(y)))
_sigmoid_vjp, _sigmoid_jvp = _unary_rules(lambda y: multiply(y, subtract(1, y)))
_softplus_vjp, _softplus_jvp = _unary_rules(lambda y: sigmoid(y.inputs[0]))
_reciprocal_vjp, _reciprocal_jvp = _unary_rules(lambda y: negative(square(y)))


def _abs_direction(node: Node) -> Node:
    # conj(z)/|z|, written |z|/z; 0 at z = 0 as sign(0) = 0 is for reals
    z = node.inputs[0]
    return divide(node, where(equal(z, 0), 1, z))


def _abs_vjp(node, g):
    x = node.inputs[0]
    if x.dtype.kind == "c":
        # |z| is not holomorphic: the cotangent is g (d|z|/dx - i d|z|/dy) = g conj(z)/|z|
        # (docs/higher-order.md, "Complex numbers")
        return (multiply(g, _abs_direction(node)),)
    return (multiply(g, sign(x)),)


def _abs_jvp(node, t):
    x = node.inputs[0]
    if x.dtype.kind == "c":
        # d|z| = Re(conj(z) dz) / |z|
        from symgraph.ops.complex import real
        return real(multiply(t[0], _abs_direction(node)))
    return multiply(t[0], sign(x))


def _relu_vjp(node, g):
    return (where(greater(node.inputs[0], 0), g, 0.0),)


def _relu_jvp(node, t):
    return where(greater(node.inputs[0], 0), t[0], 0.0)


def _where_vjp(node, g):
    c = node.inputs[0]
    return (None, where(c, g, 0.0), where(c, 0.0, g))


def _where_jvp(node, t):
    if t[1] is None and t[2] is None:
        return None
    return where(node.inputs[0], _or_zero(t[1]), _or_zero(t[2]))


def _clip_mask(node):
    x = node.inputs[0]
    lo, hi = node.attr("lo"), node.attr("hi")
    inside = None
    if lo is not None:
        inside = greater_equal(x, lo)
    if hi is not None:
        upper = less_equal(x, hi)
        inside = upper if inside is None else logical_and(inside, upper)
    return inside


def _clip_vjp(node, g):
    mask = _clip_mask(node)
    return (g if mask is None else where(mask, g, 0.0),)


def _clip_jvp(node, t):
    mask = _clip_mask(node)
    return t[0] if mask is None else where(mask, t[0], 0.0)


def _cast_vjp(node, g):
    x = node.inputs[0]
    if not (is_float(x.dtype) and is_float(node.dtype)):
        return (None,)
    return (cast(g, x.dtype),)


def _cast_jvp(node, t):
    if not (is_float(node.inputs[0].dtype) and is_float(node.dtype)):
        return None
    return cast(t[0], node.dtype)


def _stop_gradient_vjp(node, g): return (None,)
def _stop_gradient_jvp(node, t): return None


# --- declarations: one line an op --------------------------------------------------------
_declare("add", np.add, _add_vjp, _add_jvp, commutative=True, complex_ok=True)
_declare("subtract", np.subtract, _subtract_vjp, _subtract_jvp, complex_ok=True)
_declare("multiply", np.multiply, _multiply_vjp, _multiply_jvp, commutative=True, complex_ok=True)
_declare("divide", np.divide, _divide_vjp, _divide_jvp, complex_ok=True)
_declare("power", np.power, _power_vjp, _power_jvp, complex_ok=True)
_declare("maximum", np.maximum, _maximum_vjp, _maximum_jvp, commutative=True)
_declare("minimum", np.minimum, _minimum_vjp, _minimum_jvp, commutative=True)
_declare("negative", np.negative, _negative_vjp, _negative_jvp, complex_ok=True)
_declare("reciprocal", lambda x: np.divide(1, x), _reciprocal_vjp, _reciprocal_jvp, complex_ok=True)
_declare("exp", np.exp, _exp_vjp, _exp_jvp, complex_ok=True)
_declare("log", np.log, _log_vjp, _log_jvp, complex_ok=True)
_declare("log1p", np.log1p, _log1p_vjp, _log1p_jvp, complex_ok=True)
_declare("expm1", np.expm1, _expm1_vjp, _expm1_jvp, complex_ok=True)
_declare("sqrt", np.sqrt, _sqrt_vjp, _sqrt_jvp, complex_ok=True)
_declare("square", np.square, _square_vjp, _square_jvp, complex_ok=True)
_declare("abs", np.abs, _abs_vjp, _abs_jvp, complex_ok=True)
_declare("sin", np.sin, _sin_vjp, _sin_jvp, complex_ok=True)
_declare("cos", np.cos, _cos_vjp, _cos_jvp, complex_ok=True)
_declare("tanh", np.tanh, _tanh_vjp, _tanh_jvp, complex_ok=True)
_declare("sigmoid", _sigmoid_kernel, _sigmoid_vjp, _sigmoid_jvp)
_declare("relu", _relu_kernel, _relu_vjp, _relu_jvp)
_declare("softplus", _softplus_kernel, _softplus_vjp, _softplus_jvp)
_declare("where", np.where, _where_vjp, _where_jvp, complex_ok=True)
_declare("clip", _clip_kernel, _clip_vjp, _clip_jvp)
# An explicit cast asks for a dtype, so its result is strong: x16 * cast(2, "float32") is
# float32, as with NumPy's np.float32(2).
_declare("cast", _cast_kernel, _cast_vjp, _cast_jvp, weak_results=False, complex_ok=True)
_declare("stop_gradient", lambda x: x, _stop_gradient_vjp, _stop_gradient_jvp, complex_ok=True)
_declare("sign", np.sign, differentiable=False)
for _name, _fn in [("equal", np.equal), ("not_equal", np.not_equal), ("less", np.less),
                   ("less_equal", np.less_equal), ("greater", np.greater),
                   ("greater_equal", np.greater_equal), ("logical_and", np.logical_and),
                   ("logical_or", np.logical_or)]:
    _declare(_name, _fn, differentiable=False, commutative=_name in
             ("equal", "not_equal", "logical_and", "logical_or"))
_declare("logical_not", np.logical_not, differentiable=False)

# --- the public functions ------------------------------------------------------------------
add = _binary("add", 'a + b')
subtract = _binary("subtract", 'a - b')
multiply = _binary("multiply", 'a * b')
divide = _binary("divide", 'a / b')
true_divide = divide
power = _binary("power", 'a ** b')
maximum = _binary("maximum", 'The larger of a and b')
minimum = _binary("minimum", 'The smaller of a and b')
equal = _binary("equal", 'a == b (no derivative)')
not_equal = _binary("not_equal", 'a != b (no derivative)')
less = _binary("less", 'a < b (no derivative)')
less_equal = _binary("less_equal", 'a <= b (no derivative)')
greater = _binary("greater", 'a > b (no derivative)')
greater_equal = _binary("greater_equal", 'a >= b (no derivative)')
logical_and = _binary("logical_and", 'a and b (no derivative)')
logical_or = _binary("logical_or", 'a or b (no derivative)')
logical_not = _unary("logical_not", 'not x (no derivative)')
negative = _unary("negative", '-x')
reciprocal = _unary("reciprocal", '1 / x')
exp = _unary("exp", 'e ** x')
log = _unary("log", 'The natural logarithm of x')
log1p = _unary("log1p", 'log(1 + x), accurate for small x')
expm1 = _unary("expm1", 'exp(x) - 1, accurate for small x')
sqrt = _unary("sqrt", 'The square root of x')
square = _unary("square", 'x * x')
abs = _unary("abs", '|x|')  # noqa: A001 - NumPy's name
absolute = fabs = abs
sign = _unary("sign", 'The sign of x, -1, 0 or 1 (no derivative)')
sin = _unary("sin", 'sin(x)')
cos = _unary("cos", 'cos(x)')
tanh = _unary("tanh", 'tanh(x)')
sigmoid = _unary("sigmoid", 'The logistic function 1 / (1 + exp(-x)), accurate in both tails')
relu = _unary("relu", 'max(x, 0)')
softplus = _unary("softplus", 'log(1 + exp(x)), without overflow')
stop_gradient = _unary("stop_gradient", 'x unchanged, with no derivative flowing through it')


def where(condition: Any, a: Any = None, b: Any = None, name_: Optional[str] = None) -> Node:
    """``a`` where ``condition`` holds, else ``b`` (broadcasting all three)."""
    if a is None or b is None:
        from symgraph.errors import UnsupportedError
        raise UnsupportedError(
            "where(condition) with one argument is NumPy's nonzero(condition): integer "
            "positions whose count depends on the data, so it is not differentiable and has "
            "no static shape; give where(condition, a, b) to choose between values")
    return apply("where", [as_node(condition), as_node(a), as_node(b)], name_)


def clip(x: Any, lo: Optional[float] = None, hi: Optional[float] = None,
         name_: Optional[str] = None) -> Node:
    """``x`` limited to ``[lo, hi]`` (``None`` for no bound). Python numbers make one clip
    node; array or node bounds (broadcasting, as NumPy allows) make
    ``minimum(maximum(x, lo), hi)``. The derivative is 1 inside the bounds and 0 outside;
    exactly at a bound the clip op gives 1 and the minimum/maximum form shares it (1/2)."""
    if lo is None and hi is None:
        raise ArgumentError("clip: give lo, hi or both")
    if all(b is None or type(b) in (int, float) for b in (lo, hi)):
        return apply("clip", [as_node(x)], name_, lo=lo, hi=hi)
    out = as_node(x) if lo is None else maximum(x, lo)
    return out if hi is None else minimum(out, hi, name_)


def cast(x: Any, dtype: Any, name_: Optional[str] = None) -> Node:
    """``x`` converted to ``dtype``."""
    return apply("cast", [as_node(x)], name_, dtype=as_dtype(dtype))
