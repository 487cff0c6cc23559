"""Writing: nodes, graphs, compiled functions, models and plain values to the zip format.

Everything saved together shares one node table (topological order, inputs by position),
so a parameter read by several outputs, functions or layers is stored once and comes back
as one parameter. Objects (functions, graphs, layers, optimisers) go in an object table,
each once however often it is referred to. The walk over objects is a worklist, and the
node table comes from ``toposort``: nothing here recurses over a graph.
"""
from __future__ import annotations

import io
import json
import types
import zipfile
from typing import Any, Callable, Optional, Sequence

import numpy as np

from symgraph.graph import Graph, Node
from symgraph.io import schema
from symgraph.io.schema import Ref, encode
from symgraph.runtime.function import Function

# Fixed member timestamps: the same things saved twice give the same bytes.
_EPOCH = (1980, 1, 1, 0, 0, 0)


class Writer:
    """Collects what is saved, then writes it as one archive (``to_bytes``).

    ``externals`` are nodes written as references (``{"ext": k}``) instead of values, their
    inputs left out: the pickle path passes parameters, inputs and nodes held by other
    pickled bundles that way, so pickle's own memo keeps them shared between the objects
    of one pickle.
    """

    def __init__(self, externals: Sequence[Node] = ()) -> None:
        self.arrays: list[np.ndarray] = []
        self.objects: list[Optional[dict]] = []
        self._object_index: dict[int, int] = {}
        self._pending: list[tuple[int, Any, str]] = []
        self._keep: list[Any] = []          # keeps saved objects alive while ids are keys
        self._nodes: list[Node] = []
        self._node_seen: set[int] = set()
        self._externals = {id(n): k for k, n in enumerate(externals)}
        self._types: dict = {}                   # TensorType -> its JSON form
        self._files: dict[str, int] = {}         # file name -> position in "files"

    # --- values --------------------------------------------------------------------------
    def value(self, value: Any, path: str) -> Any:
        """``value`` encoded for graph.json; objects it refers to are queued for writing."""
        out = encode(value, self._refer, path)
        self._drain()
        return out

    def _refer(self, value: Any, path: str) -> Any:
        if isinstance(value, Node):
            if id(value) not in self._node_seen:
                self._node_seen.add(id(value))
                self._nodes.append(value)
            return Ref("n", value)
        if isinstance(value, np.ndarray):
            return {"$a": self.array(value, path)}
        if isinstance(value, types.FunctionType) or isinstance(value, types.BuiltinFunctionType):
            name = function_name(value)
            if name is None:
                raise TypeError(f"{path}: cannot save the function {value!r}: only symgraph's "
                                "own functions (activations, ops, losses) are saved by name")
            return {"$fn": name}
        if isinstance(value, (Function, Graph)) or _saveable_object(value):
            return {"$o": self._object(value, path)}
        raise TypeError(f"{path}: cannot save a {type(value).__name__} ({_short(value)})")

    def array(self, arr: np.ndarray, path: str) -> int:
        if arr.dtype.kind not in "biufc":
            raise TypeError(f"{path}: cannot save an array of dtype {arr.dtype}")
        schema.dtype_name(arr.dtype)
        self.arrays.append(arr)
        return len(self.arrays) - 1

    def _object(self, obj: Any, path: str) -> int:
        k = self._object_index.get(id(obj))
        if k is None:
            k = len(self.objects)
            self._object_index[id(obj)] = k
            self._keep.append(obj)
            self.objects.append(None)
            self._pending.append((k, obj, path))
        return k

    def _drain(self) -> None:
        # Objects met while encoding are written here, one after another (no recursion).
        while self._pending:
            k, obj, path = self._pending.pop()
            self.objects[k] = self._describe(obj, path)

    def _describe(self, obj: Any, path: str) -> dict:
        if isinstance(obj, Function):
            return {"kind": "function",
                    "inputs": encode(list(obj.inputs), self._refer, f"{path}.inputs"),
                    "outputs": encode(list(obj.outputs), self._refer, f"{path}.outputs"),
                    "single": bool(obj._single),
                    "updates": encode([[p, e] for p, e in obj.updates], self._refer,
                                      f"{path}.updates"),
                    "optimize": bool(getattr(obj, "optimize", True)),
                    "check_nan": bool(obj.check_nan),
                    "name": obj.name if isinstance(obj.name, str) else None,
                    "at": self.location(obj.location)}
        if isinstance(obj, Graph):
            return {"kind": "graph", "outputs": encode(list(obj.outputs), self._refer,
                                                      f"{path}.outputs")}
        cls = type(obj)
        fields = encode(dict(vars(obj)), self._refer, f"{path}({cls.__name__})")
        return {"kind": "object", "class": class_name(cls), "fields": fields}

    def location(self, loc: Any) -> Optional[list]:
        """``[k, line]``: file names are listed once, in the document's ``files``."""
        if loc is None:
            return None
        k = self._files.setdefault(str(loc.filename), len(self._files))
        return [k, int(loc.lineno)]

    # --- the archive -----------------------------------------------------------------------
    def document(self, items: Sequence[Any], named: dict) -> dict:
        """The graph.json document for ``items`` and ``named`` (encodes them first)."""
        encoded_items = [self.value(v, f"item {k}") for k, v in enumerate(items)]
        encoded_named = [[name, self.value(v, name)] for name, v in named.items()]
        order = _toposort(self._nodes, self._externals)
        self.order = order
        index = {id(n): i for i, n in enumerate(order)}
        nodes = [self._node_entry(n, index) for n in order]

        def resolve(ref: Any) -> Any:
            if isinstance(ref, Ref):
                return {"$n": index[id(ref.target)]}
            raise TypeError(f"cannot encode {ref!r}")

        doc = {"format": schema.MAGIC, "version": schema.VERSION, "files": list(self._files),
               "nodes": nodes, "objects": self.objects, "items": encoded_items, "named": encoded_named,
               "arrays": len(self.arrays)}
        self._resolve = resolve
        return doc

    def _node_entry(self, n: Node, index: dict) -> dict:
        ext = self._externals.get(id(n))
        kind = self._types.get(n.type)
        if kind is None:
            kind = self._types[n.type] = [list(n.shape), schema.dtype_name(n.dtype),
                                          bool(n.type.weak)]
        if ext is not None:
            return {"ext": ext, "type": kind}
        entry: dict[str, Any] = {"op": n.op, "type": kind}
        if n.inputs:
            entry["in"] = [index[id(i)] for i in n.inputs]
        if n.attrs:
            entry["attrs"] = [[k, encode(v, _no_refs(n), f"attribute {k!r} of {n.op}")]
                              for k, v in n.attrs]
        if n.name is not None:
            entry["name"] = n.name
        if n.scope:
            entry["scope"] = n.scope
        if n.is_grad:
            entry["grad"] = True
        if n.location is not None:
            entry["at"] = self.location(n.location)
        if n.op == "param":
            entry["value"] = {"$a": self.array(np.asarray(n.payload.value), n.label)}
        elif n.op == "const":
            if n.type.weak:     # a Python number (a NumPy scalar here would be a slip)
                payload = n.payload.item() if isinstance(n.payload, np.generic) else n.payload
                entry["value"] = encode(payload, _no_refs(n), f"constant {n.label}")
            else:
                entry["value"] = {"$a": self.array(np.asarray(n.payload), n.label)}
        return entry

    def to_bytes(self, items: Sequence[Any], named: dict) -> bytes:
        doc = self.document(items, named)
        text = json.dumps(doc, separators=(",", ":"), default=self._resolve, allow_nan=False)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            _put(zf, schema.GRAPH_MEMBER, text.encode("utf-8"), zipfile.ZIP_DEFLATED)
            for k, arr in enumerate(self.arrays):
                data = io.BytesIO()
                np.lib.format.write_array(data, arr, allow_pickle=False)
                _put(zf, f"arrays/{k}.npy", data.getvalue(), zipfile.ZIP_STORED)
        return buf.getvalue()


def _put(zf: zipfile.ZipFile, name: str, data: bytes, method: int) -> None:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.compress_type = method
    info.external_attr = 0o644 << 16
    zf.writestr(info, data)


def _toposort(nodes: list[Node], stop: dict) -> list[Node]:
    """Every node ``nodes`` reach, in creation (topological) order, without walking past
    the nodes in ``stop`` (written as references, their inputs are not part of the file)."""
    seen: set[int] = set()
    found: list[Node] = []
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        found.append(node)
        if id(node) not in stop:
            stack.extend(node.inputs)
    found.sort(key=_by_id)
    return found


def _by_id(node: Node) -> int:
    return node.id


def _no_refs(node: Node) -> Callable[[Any, str], Any]:
    def refer(value: Any, path: str) -> Any:
        raise TypeError(f"node {node.label} ({node.op}): cannot save {path} of type "
                        f"{type(value).__name__}: attributes hold ints, floats, bools, "
                        "strings, None, dtypes, slices and tuples of these")
    return refer


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- what may be saved by name or by fields -------------------------------------------------
def class_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _saveable_object(obj: Any) -> bool:
    """Objects saved field by field: instances of plain classes with a ``__dict__``."""
    cls = type(obj)
    return (hasattr(obj, "__dict__") and not isinstance(obj, type)
            and "<locals>" not in cls.__qualname__ and cls.__module__ != "builtins"
            and not isinstance(obj, (types.ModuleType, np.random.Generator)))


_FUNCTIONS: dict[str, Any] = {}
_NAMES: dict[int, str] = {}      # id(function) -> its name (functions live as long as modules)


def known_functions() -> dict[str, Any]:
    """symgraph's functions that may be saved by name, ``"module.name" -> function``: the
    ops and the model layer's activations, losses, regularisers and initialisers. Nothing
    that reads or writes files (save, render, ...) is on the list, so a file cannot make a
    loaded layer call one."""
    if not _FUNCTIONS:
        import importlib
        for module_name in ("symgraph", "symgraph.nn.activations", "symgraph.nn.losses",
                            "symgraph.nn.regularizers", "symgraph.nn.init"):
            module = importlib.import_module(module_name)
            # Named by where the user finds them ("symgraph.relu"): several reductions are
            # closures of one factory and share a __qualname__.
            for attr, fn in sorted(vars(module).items()):
                if isinstance(fn, types.FunctionType) and not attr.startswith("_") and \
                        fn.__module__.startswith(("symgraph.ops.", "symgraph.nn.")):
                    _FUNCTIONS.setdefault(f"{module_name}.{attr}", fn)
            _NAMES.update({id(fn): name for name, fn in _FUNCTIONS.items()
                           if id(fn) not in _NAMES})
    return _FUNCTIONS


def function_name(fn: Any) -> Optional[str]:
    known_functions()
    name = _NAMES.get(id(fn))
    return name if name is not None and _FUNCTIONS[name] is fn else None
