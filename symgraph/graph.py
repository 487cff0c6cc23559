"""Frozen graph nodes, the read-only Graph view, name scopes and source locations.

Nodes never change once built. A node refers to its inputs; a graph is the set of nodes an
output list reaches, listed in topological order. Every traversal here is iterative, so a
chain of a million nodes is no harder than a chain of three.
"""
from __future__ import annotations

import contextlib
import contextvars
import gc
import itertools
import math
import operator
import os
import sys
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Optional, Sequence

import numpy as np

from symgraph.types import TensorType, format_shape
from symgraph.errors import ArgumentError

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
# Frames that are never the user's line: the package's own, and contextlib's (a ``with``
# block of the package, such as ``building_gradient``, enters through it).
_NOT_USER = (_PACKAGE_DIR, contextlib.__file__)
_ids = itertools.count()
# Per context (each thread, each asyncio task): a graph built in one thread never picks up
# the scope, the gradient mark or the pinned location another thread has open.
_scope_var: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "symgraph_scope", default=())
_grad_var: contextvars.ContextVar[bool] = contextvars.ContextVar("symgraph_grad", default=False)
# the user's location while differentiation builds nodes
_pinned_var: contextvars.ContextVar[Optional["Location"]] = contextvars.ContextVar(
    "symgraph_pinned", default=None)


@dataclass(frozen=True)
class Location:
    """Where the user built a node: the first stack frame outside the symgraph package."""

    filename: str
    lineno: int

    def __str__(self) -> str:
        return f"{self.filename}:{self.lineno}"


# (filename, line) -> its Location: a loop or a derivative builds thousands of nodes on
# one user line, and a dict look-up is cheaper than a new frozen object each time.
_locations: dict[tuple[str, int], Location] = {}


def _user_location() -> Optional[Location]:
    pinned = _pinned_var.get()
    if pinned is not None:
        return pinned
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_NOT_USER):
        frame = frame.f_back
    if frame is None:
        return None
    key = (frame.f_code.co_filename, frame.f_lineno)
    loc = _locations.get(key)
    if loc is None:
        if len(_locations) > 65536:
            _locations.clear()
        loc = _locations[key] = Location(*key)
    return loc


@contextlib.contextmanager
def scope(name: str) -> Iterator[str]:
    """Build the nodes of the ``with`` block in name scope ``name`` (scopes nest with ``/``)."""
    if not isinstance(name, str) or not name or "/" in name:
        raise ArgumentError(f"scope names are non-empty and hold no '/': {name!r}")
    token = _scope_var.set(_scope_var.get() + (name,))
    try:
        yield current_scope()
    finally:
        _scope_var.reset(token)


@contextlib.contextmanager
def scope_path(path: str) -> Iterator[str]:
    """Build the nodes of the ``with`` block in the scope ``path`` exactly (``"a/b"``),
    whatever scopes are open around it; "" is the top level."""
    token = _scope_var.set(tuple(part for part in path.split("/") if part))
    try:
        yield current_scope()
    finally:
        _scope_var.reset(token)


def current_scope() -> str:
    """The scope new nodes are built in, e.g. ``"mlp/layer1"`` ("" at top level)."""
    return "/".join(_scope_var.get())


@contextlib.contextmanager
def building_gradient() -> Iterator[None]:
    """Mark the nodes built in the block as gradient nodes (appended by differentiation)."""
    # Every node differentiation builds is at the user's line that asked for it: find it
    # once here rather than walking the stack again for each of thousands of nodes.
    pinned = _pinned_var.set(_user_location())
    token = _grad_var.set(True)
    try:
        yield
    finally:
        _grad_var.reset(token)
        _pinned_var.reset(pinned)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with Python's cyclic garbage collector off (restored after).

    Differentiating and compiling allocate millions of small objects that all stay alive;
    each automatic collection walks every one of them, so on big graphs the collector
    made these stages grow faster than the graph (25% of a 100k-node compile). Nothing
    they build is a garbage cycle worth collecting early.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class ParamCell:
    """The mutable value a parameter node holds (like a Theano shared variable)."""

    # Keep ``value`` a plain slot: runtime/commit.py stores a call's updates in one C-level
    # call and relies on assigning it running no Python code (no interrupt can land inside).
    __slots__ = ("value",)

    def __init__(self, value: np.ndarray) -> None:
        self.value = value


class Node:
    """One value in the graph: an op applied to input nodes, with a static type.

    Read-only facts: ``op`` (name), ``inputs``, ``attrs`` (hashable ``(key, value)``
    pairs), ``type`` (``shape``, ``dtype``), ``name``, ``scope``, ``location`` (user's
    file:line), ``is_grad`` (built by differentiation) and ``id`` (creation order, which is
    always a topological order).
    """

    __slots__ = ("id", "op", "inputs", "attrs", "type", "name", "scope", "location",
                 "is_grad", "payload", "__weakref__")

    # --- NumPy dispatch (NEP 13 and 18): np.exp(node), np.sum(node), array + node ----------
    # Each builds graph nodes through symgraph.numpy, a higher stage loaded on first use.
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from symgraph.numpy._dispatch import array_ufunc
        return array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        from symgraph.numpy._dispatch import array_function
        return array_function(func, types, args, kwargs)

    def __array__(self, dtype=None, copy=None):
        from symgraph.errors import UnsupportedError
        raise UnsupportedError(
            f"{self!r} is symbolic: it holds no data until it is evaluated, so NumPy cannot "
            f"convert it to an array; evaluate it (node.eval({{...}}) or sg.function), or keep "
            f"building: np.exp(node), np.sum(node) and symgraph.numpy build nodes{self.where()}")

    def __init__(self, op: str, inputs: Sequence["Node"], attrs: tuple, type_: TensorType,
                 name: Optional[str] = None, payload: Any = None,
                 location: Optional[Location] = None) -> None:
        put = object.__setattr__
        put(self, "id", next(_ids))
        put(self, "op", op)
        put(self, "inputs", tuple(inputs))
        put(self, "attrs", attrs)
        put(self, "type", type_)
        put(self, "name", name)
        scope = _scope_var.get()
        put(self, "scope", "/".join(scope) if scope else "")
        put(self, "location", location if location is not None else _user_location())
        put(self, "is_grad", _grad_var.get())
        put(self, "payload", payload)

    def __setattr__(self, key: str, value: Any) -> None:
        if key == "value" and self.op == "param":
            self._set_value(value)
            return
        raise AttributeError(f"symgraph nodes are immutable: cannot set {key!r}")

    def __delattr__(self, key: str) -> None:
        raise AttributeError(f"symgraph nodes are immutable: cannot delete {key!r}")

    def with_inputs(self, inputs: Sequence["Node"]) -> "Node":
        """A copy of this node reading ``inputs`` (same op, attrs, type, name, scope, origin)."""
        node = Node(self.op, inputs, self.attrs, self.type, name=self.name,
                    payload=self.payload, location=self.location)
        object.__setattr__(node, "scope", self.scope)
        object.__setattr__(node, "is_grad", self.is_grad)
        return node

    # --- facts -----------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.type.shape

    @property
    def dtype(self) -> np.dtype:
        return self.type.dtype

    @property
    def ndim(self) -> int:
        return len(self.type.shape)

    def attr(self, key: str) -> Any:
        """The value of attribute ``key``."""
        for k, v in self.attrs:
            if k == key:
                return v
        raise KeyError(f"{self.op} has no attribute {key!r}")

    @property
    def attr_dict(self) -> dict:
        return dict(self.attrs)

    @property
    def label(self) -> str:
        """The node's name, or ``op#id`` when it has none."""
        return self.name if self.name else f"{self.op}#{self.id}"

    def where(self) -> str:
        """`` (built at file:line)`` for error messages, or "" when unknown."""
        return f" (built at {self.location})" if self.location else ""

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        """Jupyter display: the graph this node reaches, as SVG (or DOT text)."""
        from symgraph.render.svg import mimebundle  # render is a higher stage
        return mimebundle(self)

    def __repr__(self) -> str:
        name = f" {self.name!r}" if self.name else ""
        return f"<Node {self.op}{name} {self.type.dtype.name}{format_shape(self.shape)} #{self.id}>"

    def __bool__(self) -> bool:
        raise ArgumentError(f"the truth value of symbolic {self!r} is unknown until it is evaluated; "
                        "use sg.where for choices inside a graph")

    __hash__ = object.__hash__

    # --- pickle and copy (through the file format: symgraph.io.pickling) ------------------
    def __reduce__(self) -> tuple:
        from symgraph.io.pickling import reduce_node  # io is a higher stage
        return reduce_node(self)

    def __copy__(self) -> "Node":
        return self   # nodes are immutable: a shallow copy is the node itself

    # --- parameters ------------------------------------------------------------------------
    @property
    def value(self) -> np.ndarray:
        """A parameter's current value, or a constant's value."""
        if self.op == "param":
            return self.payload.value
        if self.op == "const":
            return np.asarray(self.payload)
        raise AttributeError(f"only parameters and constants hold a value, not {self!r}")

    def _set_value(self, value: Any) -> None:
        from symgraph.errors import DTypeError, ShapeError
        arr = np.asarray(value)
        if arr.shape != self.shape:
            raise ShapeError(f"parameter {self.label}: new value has shape {arr.shape}, "
                             f"the parameter has shape {self.shape}{self.where()}")
        if not np.can_cast(arr.dtype, self.dtype, "same_kind"):
            raise DTypeError(f"parameter {self.label}: cannot store {arr.dtype} in a "
                             f"{self.dtype} parameter{self.where()}")
        self.payload.value = np.array(arr, dtype=self.dtype, copy=True)

    # --- evaluation ------------------------------------------------------------------------
    def eval(self, inputs: Optional[dict] = None) -> np.ndarray:
        """Evaluate this node once: ``y.eval({x: data})``."""
        from symgraph.runtime.function import function
        inputs = inputs or {}
        keys = list(inputs)
        return function(keys, [self])(*[inputs[k] for k in keys])[0]

    # --- NumPy-style operators (the op functions live in symgraph.ops) ---------------------
    def __add__(self, other): return _ops().add(self, other)
    def __radd__(self, other): return _ops().add(other, self)
    def __sub__(self, other): return _ops().subtract(self, other)
    def __rsub__(self, other): return _ops().subtract(other, self)
    def __mul__(self, other): return _ops().multiply(self, other)
    def __rmul__(self, other): return _ops().multiply(other, self)
    def __truediv__(self, other): return _ops().divide(self, other)
    def __rtruediv__(self, other): return _ops().divide(other, self)
    def __pow__(self, other): return _ops().power(self, other)
    def __rpow__(self, other): return _ops().power(other, self)
    def __matmul__(self, other): return _ops().matmul(self, other)
    def __rmatmul__(self, other): return _ops().matmul(other, self)
    def __neg__(self): return _ops().negative(self)
    def __pos__(self): return self
    def __abs__(self): return _ops().abs(self)
    def __lt__(self, other): return _ops().less(self, other)
    def __le__(self, other): return _ops().less_equal(self, other)
    def __gt__(self, other): return _ops().greater(self, other)
    def __ge__(self, other): return _ops().greater_equal(self, other)
    def __getitem__(self, index): return _ops().getitem(self, index)
    # ndarray's indexing methods (np-shape); the other shape methods sit with ndarray's
    # further methods further down
    def take(self, indices, axis=None): return _ops().take(self, indices, axis)
    def argsort(self, axis=-1): return _ops().argsort(self, axis)
    def squeeze(self, axis=None):
        if axis is None:   # every axis of size 1, as ndarray.squeeze
            axis = tuple(i for i, d in enumerate(self.shape) if d == 1)
        return _ops().squeeze(self, axis)

    @property
    def at(self):
        """JAX-style updates that build new nodes: ``x.at[idx].add(v)``, ``x.at[idx].get()``."""
        from symgraph.ops.indexing import IndexUpdateHelper
        return IndexUpdateHelper(self)

    def __len__(self) -> int:
        if not self.shape or self.shape[0] is None:
            raise ArgumentError(f"len() of {self!r} is not known statically")
        return self.shape[0]

    def __iter__(self):
        raise ArgumentError(f"symbolic {self!r} cannot be iterated; index it instead")

    @property
    def T(self): return _ops().transpose(self)

    # Reductions take ndarray's argument order: (axis, dtype, out, keepdims); out= must stay
    # None, as nothing is written in place.
    def sum(self, axis=None, dtype=None, out=None, keepdims=False):
        return _ops().sum(self, axis, _no_out(keepdims, out, "sum"), dtype=dtype)
    def mean(self, axis=None, dtype=None, out=None, keepdims=False):
        return _ops().mean(self, axis, _no_out(keepdims, out, "mean"), dtype=dtype)
    def max(self, axis=None, out=None, keepdims=False):
        return _ops().max(self, axis, _no_out(keepdims, out, "max"))
    def min(self, axis=None, out=None, keepdims=False):
        return _ops().min(self, axis, _no_out(keepdims, out, "min"))
    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops().reshape(self, shape)
    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _ops().transpose(self, axes or None)
    def astype(self, dtype): return _ops().cast(self, dtype)

    # --- more of ndarray's methods (np-elementwise); ravel, flatten, trace, diagonal,
    # swapaxes and repeat call the shape ops of symgraph.ops by name ---
    @property
    def size(self) -> Optional[int]:
        """The number of elements, or ``None`` while some size is unknown."""
        return None if None in self.shape else math.prod(self.shape)
    @property
    def real(self): return _ops().real(self)
    @property
    def imag(self): return _ops().imag(self)
    def conj(self): return _ops().conj(self)
    def conjugate(self): return _ops().conj(self)
    def __mod__(self, other): return _ops().remainder(self, other)
    def __rmod__(self, other): return _ops().remainder(other, self)
    def __floordiv__(self, other): return _ops().floor_divide(self, other)
    def __rfloordiv__(self, other): return _ops().floor_divide(other, self)
    def __divmod__(self, other): return _ops().divmod(self, other)
    def __rdivmod__(self, other): return _ops().divmod(other, self)
    def __round__(self, ndigits=None): return _ops().round(self, ndigits or 0)
    def dot(self, other): return _ops().dot(self, other)
    def prod(self, axis=None, dtype=None, out=None, keepdims=False):
        return _ops().prod(self, axis, dtype, out, keepdims)
    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        return _ops().variance(self, axis, dtype, out, ddof, keepdims)
    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        return _ops().std(self, axis, dtype, out, ddof, keepdims)
    def argmax(self, axis=None, out=None, keepdims=False):
        return _ops().argmax(self, axis, out, keepdims=keepdims)
    def argmin(self, axis=None, out=None, keepdims=False):
        return _ops().argmin(self, axis, out, keepdims=keepdims)
    def all(self, axis=None, out=None, keepdims=False):
        return _ops().all(self, axis, out, keepdims)
    def any(self, axis=None, out=None, keepdims=False):
        return _ops().any(self, axis, out, keepdims)
    def cumsum(self, axis=None, dtype=None, out=None):
        return _ops().cumsum(self, axis, dtype, out)
    def cumprod(self, axis=None, dtype=None, out=None):
        return _ops().cumprod(self, axis, dtype, out)
    def clip(self, min=None, max=None, out=None):  # noqa: A002 - ndarray's names
        return _ops().clip(self, min, _no_out(max, out, "clip"))
    def round(self, decimals=0, out=None): return _ops().round(self, decimals, out)
    def ravel(self): return _ops().ravel(self)
    def flatten(self): return _ops().flatten(self)
    def trace(self, offset=0, axis1=0, axis2=1): return _ops().trace(self, offset, axis1, axis2)
    def diagonal(self, offset=0, axis1=0, axis2=1):
        return _ops().diagonal(self, offset, axis1, axis2)
    def swapaxes(self, axis1, axis2): return _ops().swapaxes(self, axis1, axis2)
    def repeat(self, repeats, axis=None): return _ops().repeat(self, repeats, axis)


def _no_out(value: Any, out: Any, method: str) -> Any:
    """``value``, after checking that ``out=`` was not given (nodes are never written)."""
    _ops().registry.no_out(f"Node.{method}", out)
    return value


def _ops():
    # Imported at call time: ops are built on this module, so it cannot import them first.
    import symgraph.ops as ops
    return ops


def toposort(outputs: Sequence[Node]) -> list[Node]:
    """Every node ``outputs`` reach, inputs before users; deterministic.

    Node ids grow with creation and a node's inputs exist before it, so ascending id is a
    topological order that does not depend on how the graph is walked.
    """
    # Nodes hash and compare by identity, so the set holds them directly; the bound
    # methods save attribute look-ups in the hot loop (this runs once per pass).
    seen: set[Node] = set()
    found: list[Node] = []
    stack = list(outputs)
    pop, push, mark, keep = stack.pop, stack.extend, seen.add, found.append
    while stack:
        node = pop()
        if node in seen:
            continue
        mark(node)
        keep(node)
        push(node.inputs)
    found.sort(key=_by_id)
    return found


_by_id = operator.attrgetter("id")


class Graph:
    """A read-only view of the nodes that ``outputs`` reach, in topological order."""

    def __init__(self, outputs: Node | Iterable[Node]) -> None:
        outs = [outputs] if isinstance(outputs, Node) else list(outputs)
        for o in outs:
            if not isinstance(o, Node):
                raise ArgumentError(f"Graph takes nodes, got {type(o).__name__}")
        self._outputs = tuple(outs)
        self._nodes = tuple(toposort(outs))
        self._index = {id(n): i for i, n in enumerate(self._nodes)}

    @property
    def outputs(self) -> tuple[Node, ...]:
        return self._outputs

    @property
    def nodes(self) -> tuple[Node, ...]:
        return self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(self._nodes)

    def __contains__(self, node: object) -> bool:
        return id(node) in self._index

    def index(self, node: Node) -> int:
        """Position of ``node`` in the topological order."""
        return self._index[id(node)]

    def count(self, op: str) -> int:
        """How many nodes apply ``op``."""
        return sum(1 for n in self._nodes if n.op == op)

    @property
    def inputs(self) -> tuple[Node, ...]:
        return tuple(n for n in self._nodes if n.op == "var")

    @property
    def params(self) -> tuple[Node, ...]:
        return tuple(n for n in self._nodes if n.op == "param")

    def users(self) -> dict[int, list[Node]]:
        """``id(node) -> nodes that read it``, each list in topological order."""
        out: dict[int, list[Node]] = {id(n): [] for n in self._nodes}
        for n in self._nodes:
            for i in n.inputs:
                users = out[id(i)]
                if not users or users[-1] is not n:
                    users.append(n)
        return out

    def to_networkx(self):
        """A ``networkx.DiGraph``: nodes keyed by topological position, edges input -> user."""
        import networkx as nx
        g = nx.DiGraph()
        for i, n in enumerate(self._nodes):
            g.add_node(i, op=n.op, shape=n.shape, dtype=n.dtype.name, name=n.name,
                       scope=n.scope, is_grad=n.is_grad, location=str(n.location or ""))
        for i, n in enumerate(self._nodes):
            for k, src in enumerate(n.inputs):
                g.add_edge(self._index[id(src)], i, argnum=k)
        return g

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        """Jupyter display: the graph as SVG (or DOT text when Graphviz is missing)."""
        from symgraph.render.svg import mimebundle  # render is a higher stage
        return mimebundle(self)

    def __reduce__(self) -> tuple:
        from symgraph.io.pickling import reduce_graph  # io is a higher stage
        return reduce_graph(self)

    def __repr__(self) -> str:
        return f"<Graph {len(self)} nodes, {len(self._outputs)} outputs>"
