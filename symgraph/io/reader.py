"""Reading: a strict, safe loader for the zip format.

Nothing in a file is executed or unpickled. The archive (``archive.py``) accepts only the
members the format names and parses arrays itself; this module decodes every value by its
type tag and rebuilds each node through its registered op: the op's type rule runs again
and must give the type the file states. Inputs must come before the node that reads them,
so a cycle or a missing node cannot be described. Whatever is wrong raises one
``FormatError`` naming the source, the entry and the problem.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from symgraph.errors import FormatError
from symgraph.graph import Graph, Location, Node, ParamCell
from symgraph.io import schema
from symgraph.io.archive import Archive
from symgraph.io.schema import Decoder
from symgraph.ops.registry import REGISTRY, _freeze
from symgraph.types import TensorType


class Reader:
    """Rebuilds nodes, objects and items from one archive's document."""

    def __init__(self, archive: Archive, externals: Sequence[Node] = (),
                 classes: Sequence[type] = ()) -> None:
        self.archive = archive
        self.source = archive.source
        self.externals = list(externals)
        self.nodes: list[Node] = []
        self.objects: list[Any] = []
        self._arrays: dict[int, np.ndarray] = {}
        self._classes = {_class_name(c): c for c in classes}
        self.doc = archive.document()
        self.dec = Decoder(self._resolve, self.source)
        self.dec.mapping(self.doc, schema.GRAPH_MEMBER, ("format", "version"),
                         ("files", "nodes", "objects", "items", "named", "arrays"))
        self._files = [self.dec.string(f, "files") for f in
                       self.dec.listing(self.doc.get("files", []), "files")]
        self._types: dict[tuple, TensorType] = {}
        self._locations: dict[tuple, Location] = {}
        # (op, ids of input types, attrs) -> (type, the input types, kept so ids stay theirs)
        self._inferred: dict[tuple, tuple] = {}
        self._n_arrays = self.dec.integer(self.doc.get("arrays", 0), "arrays", 0, 1 << 30)
        self._building_objects = False

    def fail(self, where: str, what: str) -> FormatError:
        return FormatError(f"{self.source}: {where}: {what}")

    def read(self) -> tuple[list, dict]:
        """Everything in the file: ``(items, named)``."""
        try:
            self.read_nodes()
            self.read_objects()
            return self.items()
        finally:
            # The decoder calls back into the reader (a reference cycle): break it, so the
            # parsed document is freed now rather than by a later cyclic collection.
            self.dec = self.doc = None

    # --- references inside values ----------------------------------------------------------
    def _resolve(self, tag: str, payload: Any, where: str) -> Any:
        if tag == "$a":
            k = self.dec.integer(payload, where, 0, self._n_arrays - 1)
            if k not in self._arrays:
                self._arrays[k] = self.archive.array(k, where)
            return self._arrays[k]
        if tag == "$n":
            i = self.dec.integer(payload, where, 0, max(len(self.nodes) - 1, 0))
            if not self.nodes:
                raise self.fail(where, "refers to a node, but the file has none")
            return self.nodes[i]
        if tag == "$o":
            if not self._building_objects:
                raise self.fail(where, "an object reference where none may be")
            k = self.dec.integer(payload, where, 0, max(len(self.objects) - 1, 0))
            if not self.objects:
                raise self.fail(where, "refers to an object, but the file has none")
            return self.objects[k]
        if tag == "$fn":
            from symgraph.io.writer import known_functions
            fn = known_functions().get(payload) if type(payload) is str else None
            if fn is None:
                raise self.fail(where, f"unknown function {str(payload)[:80]!r}")
            return fn
        raise self.fail(where, f"unknown reference {tag!r}")

    # --- nodes -----------------------------------------------------------------------------
    def read_nodes(self) -> None:
        entries = self.dec.listing(self.doc.get("nodes", []), "nodes")
        for i, entry in enumerate(entries):
            self.nodes.append(self._node(i, entry))

    def _type(self, data: Any, where: str) -> TensorType:
        # Most nodes share a few types: each distinct one is checked once. The key holds
        # only JSON scalars of exact types, so a cached type is one that passed the checks.
        if type(data) is list and len(data) == 3 and type(data[0]) is list:
            dims = data[0]
            if all(d is None or type(d) is int for d in dims) and type(data[1]) is str \
                    and type(data[2]) is bool:
                known = self._types.get((tuple(dims), data[1], data[2]))
                if known is not None:
                    return known
        parts = self.dec.listing(data, where)
        if len(parts) != 3:
            raise self.fail(where, "a type is [shape, dtype, weak]")
        dims = self.dec.listing(parts[0], f"{where} shape")
        if len(dims) > schema.MAX_NDIM:
            raise self.fail(where, f"more than {schema.MAX_NDIM} dimensions")
        shape = tuple(None if d is None else self.dec.integer(d, f"{where} shape", 0, 1 << 62)
                      for d in dims)
        dtype = self.dec.dtype(parts[1], f"{where} dtype")
        weak = self.dec.boolean(parts[2], f"{where} weak")
        size = schema.finite_size(shape, dtype.itemsize)
        if size > self.archive.max_bytes:
            raise self.fail(where, f"shape {shape} of {dtype} would take {size:.3g} bytes, "
                                   f"over the limit of {self.archive.max_bytes} (max_bytes)")
        out = TensorType(shape, dtype, weak)
        self._types[(tuple(dims), parts[1], weak)] = out
        return out

    def _node(self, i: int, entry: Any) -> Node:
        where = f"node {i}"
        if type(entry) is dict and "ext" in entry:
            self.dec.mapping(entry, where, ("ext", "type"))
            k = self.dec.integer(entry["ext"], where, 0, len(self.externals) - 1) \
                if self.externals else None
            if k is None:
                raise self.fail(where, "refers to an outside node, which only pickle provides")
            node = self.externals[k]
            if self._type(entry["type"], where) != node.type:
                raise self.fail(where, "an outside node's type does not match")
            return node
        if type(entry) is not dict or not entry.keys() <= _NODE_KEYS:
            self.dec.mapping(entry, where, ("op", "type"), tuple(sorted(_NODE_KEYS)))
        if "op" not in entry or "type" not in entry:
            raise self.fail(where, f"missing field {'op' if 'op' not in entry else 'type'!r}")
        op_name = entry["op"]
        op = REGISTRY.get(op_name) if type(op_name) is str else None
        if op is None:
            raise self.fail(where, f"unknown op {str(op_name)[:80]!r} (not registered in this "
                                   f"symgraph)")
        where = f"node {i} ({op_name})"
        stated = self._type(entry["type"], where)
        # The checks below run once per node: plain type tests, with the decoder's helpers
        # (which build messages) only called to report a failure.
        name = entry.get("name")
        if name is not None and (type(name) is not str or len(name) > schema.MAX_STR):
            self.dec.string(name, f"{where} name")
        scope = entry.get("scope", "")
        if type(scope) is not str or len(scope) > schema.MAX_STR:
            self.dec.string(scope, f"{where} scope")
        is_grad = entry.get("grad", False)
        if type(is_grad) is not bool:
            self.dec.boolean(is_grad, f"{where} grad")
        location = self._location(entry.get("at"), where)
        inputs = []
        nodes = self.nodes
        links = entry.get("in", ())
        if type(links) is not list and links != ():
            self.dec.listing(links, f"{where} inputs")
        for k in links:
            if type(k) is not int or not 0 <= k < i:
                raise self.fail(where, f"input {str(k)[:40]} is not an earlier node (a cycle, a "
                                       f"forward reference or a missing node)")
            inputs.append(nodes[k])
        attrs = self._attrs(entry["attrs"], where) if "attrs" in entry else ()
        if op.leaf:
            if inputs or attrs:
                raise self.fail(where, "a leaf has no inputs or attributes")
            node = self._leaf(op_name, entry, stated, name, location, where)
        else:
            if "value" in entry:
                raise self.fail(where, "only constants and parameters hold a value")
            # A type rule is a function of the input types and attributes only, so each
            # distinct (op, input types, attributes) is checked once: a long chain of one op
            # runs its rule once instead of once per node. Types are keyed by identity (the
            # reader hands out one object per distinct type; TensorType hashes in Python).
            key = (op_name, tuple([id(n.type) for n in inputs]), attrs)
            inferred = self._inferred.get(key)
            if inferred is None:
                try:
                    inferred = op.infer([n.type for n in inputs], dict(attrs), f" (in {where})")
                except Exception as exc:   # the op's own rule rejects what the file describes
                    raise self.fail(where, f"the op's type rule rejects it: "
                                           f"{type(exc).__name__}: {str(exc)[:300]}") from None
                if inferred == stated:
                    inferred = stated          # the shared object, so later checks are `is`
                self._inferred[key] = (inferred, [n.type for n in inputs])
            else:
                inferred = inferred[0]
            if inferred is not stated and inferred != stated:
                raise self.fail(where, f"the file says {_type_text(stated)}, the op's type rule "
                                       f"gives {_type_text(inferred)}")
            node = Node(op_name, inputs, attrs, inferred, name=name, location=location)
        object.__setattr__(node, "scope", scope)
        object.__setattr__(node, "is_grad", is_grad)
        return node

    def _attrs(self, data: Any, where: str) -> tuple:
        out = {}
        for k, pair in enumerate(self.dec.listing(data, f"{where} attrs")):
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                raise self.fail(where, f"attribute {k} is not [name, value]")
            key = pair[0]
            if key in out:
                raise self.fail(where, f"attribute {key[:80]!r} is given twice")
            value = _freeze(Decoder(self._no_ref, self.source).value(
                pair[1], f"{where} attribute {key[:80]!r}"))
            try:
                hash(value)     # the compiler keys nodes on their attributes
            except TypeError:
                raise self.fail(where, f"attribute {key[:80]!r} holds an unhashable "
                                       f"{type(value).__name__}") from None
            out[key] = value
        return tuple(sorted(out.items()))

    def _no_ref(self, tag: str, payload: Any, where: str) -> Any:
        raise self.fail(where, "attributes hold plain values, not references")

    def _location(self, data: Any, where: str) -> Optional[Location]:
        if data is None:
            return None
        if type(data) is list and len(data) == 2 and type(data[0]) is int \
                and type(data[1]) is int:
            loc = self._locations.get((data[0], data[1]))
            if loc is not None:
                return loc
        parts = self.dec.listing(data, f"{where} location")
        if len(parts) != 2:
            raise self.fail(where, "a location is [file, line]")
        file = self.dec.integer(parts[0], f"{where} location", 0, len(self._files) - 1)
        line = self.dec.integer(parts[1], f"{where} location", 0, 1 << 31)
        loc = self._locations.get((file, line))
        if loc is None:
            loc = self._locations[(file, line)] = Location(self._files[file], line)
        return loc

    def _leaf(self, op: str, entry: dict, stated: TensorType, name: Optional[str],
              location: Optional[Location], where: str) -> Node:
        if op == "var":
            if not name or stated.weak or "value" in entry:
                raise self.fail(where, "an input needs a name, no value and a strong type")
            return Node("var", (), (), stated, name=name, location=location)
        if "value" not in entry:
            raise self.fail(where, "a constant or parameter needs a value")
        if op == "const" and stated.weak:
            value = Decoder(self._no_ref, self.source).value(entry["value"], f"{where} value")
            kinds = {bool: "b", int: "iu", float: "f", complex: "c"}
            if stated.shape != () or type(value) not in kinds or \
                    stated.dtype.kind not in kinds[type(value)]:
                raise self.fail(where, f"a weak constant is a Python number of its dtype, got "
                                       f"{type(value).__name__} for {_type_text(stated)}")
            return Node("const", (), (), stated, name=name, payload=value, location=location)
        data = entry["value"]
        if type(data) is not dict or list(data) != ["$a"]:
            raise self.fail(where, "a value is stored as an array member")
        arr = self._resolve("$a", data["$a"], f"{where} value")
        if stated.weak or arr.shape != stated.shape or arr.dtype != stated.dtype:
            raise self.fail(where, f"its data is {arr.dtype}{arr.shape}, the node says "
                                   f"{_type_text(stated)}")
        if op == "param":
            return Node("param", (), (), stated, name=name,
                        payload=ParamCell(np.array(arr, copy=True)), location=location)
        const = np.array(arr, copy=True)
        const.setflags(write=False)
        return Node("const", (), (), stated, name=name, payload=const, location=location)

    # --- objects and items -------------------------------------------------------------------
    def read_objects(self) -> None:
        entries = self.dec.listing(self.doc.get("objects", []), "objects")
        fill: list[tuple[Any, Any, str]] = []
        self.objects = [None] * len(entries)
        self._building_objects = True
        # First every object exists (functions and graphs whole, others empty), then the
        # others get their fields: objects may refer to each other in any order.
        for k, entry in enumerate(entries):
            where = f"object {k}"
            kind = self.dec.mapping(entry, where, ("kind",), _OBJECT_FIELDS).get("kind")
            if kind == "function":
                self.objects[k] = self._function(entry, where)
            elif kind == "graph":
                outs = self._nodes_of(entry.get("outputs"), f"{where} outputs")
                self.objects[k] = Graph(outs)
            elif kind == "object":
                cls = self._class(entry.get("class"), where)
                try:
                    self.objects[k] = object.__new__(cls)
                    self.objects[k].__dict__
                except (TypeError, AttributeError):
                    raise self.fail(where, f"class {cls.__name__} is not saved field by "
                                           f"field") from None
                fill.append((self.objects[k], entry.get("fields"), f"{where} ({cls.__name__})"))
            else:
                raise self.fail(where, f"unknown object kind {str(kind)[:40]!r}")
        for obj, fields, where in fill:
            values = self.dec.value(fields, f"{where} fields")
            if type(values) is not dict or any(type(k) is not str for k in values):
                raise self.fail(where, "an object's fields are a dict keyed by names")
            obj.__dict__.update(values)

    def _nodes_of(self, data: Any, where: str) -> list[Node]:
        values = self.dec.value(data, where)
        if type(values) is not list or any(not isinstance(v, Node) for v in values):
            raise self.fail(where, "expected a list of nodes")
        return values

    def _function(self, entry: dict, where: str) -> Any:
        from symgraph.runtime.function import function
        self.dec.mapping(entry, where, ("kind", "inputs", "outputs", "single", "updates"),
                         ("optimize", "check_nan", "name", "at"))
        inputs = self._nodes_of(entry["inputs"], f"{where} inputs")
        outputs = self._nodes_of(entry["outputs"], f"{where} outputs")
        single = self.dec.boolean(entry["single"], f"{where} single")
        pairs = self.dec.value(entry["updates"], f"{where} updates")
        if type(pairs) is not list or any(
                type(p) is not list or len(p) != 2 or not all(isinstance(n, Node) for n in p)
                for p in pairs):
            raise self.fail(where, "updates are a list of [parameter, expression] nodes")
        name = entry.get("name")
        if name is not None:
            name = self.dec.string(name, f"{where} name")
        if single and len(outputs) != 1:
            raise self.fail(where, "a single-output function has one output")
        options = {"optimize": self.dec.boolean(entry.get("optimize", True), where),
                   "check_nan": self.dec.boolean(entry.get("check_nan", False), where),
                   "name": name}
        try:
            f = function(inputs, outputs[0] if single else outputs,
                         updates={p: e for p, e in pairs}, **options)
        except Exception as exc:    # the compiler's own checks reject what the file holds
            raise self.fail(where, f"cannot compile it: {type(exc).__name__}: "
                                   f"{str(exc)[:300]}") from None
        f.location = self._location(entry.get("at"), where)
        return f

    def _class(self, name: Any, where: str) -> type:
        name = self.dec.string(name, f"{where} class")
        cls = self._classes.get(name) or builtin_classes().get(name)
        if cls is None:
            # A class saved from a script (``__main__.MyLayer``) and given from a module:
            # the classes the caller passed are trusted, so match them by their own name.
            given = [c for c in self._classes.values()
                     if c.__qualname__ == name.rsplit(".", 1)[-1]]
            cls = given[0] if len(given) == 1 else None
        if cls is None:
            raise self.fail(where, f"class {name[:120]!r} is not one symgraph loads; pass it "
                                   f"to load(..., classes=[...]) if you trust it")
        return cls

    def items(self) -> tuple[list, dict]:
        self._building_objects = True
        items = [self.dec.value(v, f"item {k}")
                 for k, v in enumerate(self.dec.listing(self.doc.get("items", []), "items"))]
        named = {}
        for k, pair in enumerate(self.dec.listing(self.doc.get("named", []), "named")):
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                raise self.fail(f"named item {k}", "expected [name, value]")
            named[pair[0]] = self.dec.value(pair[1], f"named item {pair[0][:80]!r}")
        return items, named


_NODE_KEYS = frozenset(("op", "type", "in", "attrs", "name", "scope", "grad", "at", "value"))
_OBJECT_FIELDS = ("inputs", "outputs", "single", "updates", "optimize", "check_nan", "name",
                  "at", "class", "fields")


def _type_text(t: TensorType) -> str:
    return f"{t}{' (weak)' if t.weak else ''}"


def _class_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


_CLASSES: dict[str, type] = {}
# Never rebuilt field by field: they have their own entries (nodes, graphs, functions) or
# hold what only symgraph itself may create.
_NOT_OBJECTS = ("symgraph.graph.Node", "symgraph.graph.Graph", "symgraph.graph.ParamCell",
                "symgraph.runtime.function.Function")


# The modules whose public classes are plain data worth saving: the model layer and what
# its objects hold (not the compiler's or the renderer's machinery).
_OBJECT_MODULES = ("symgraph.nn", "symgraph.optim", "symgraph.train", "symgraph.autodiff",
                   "symgraph.runtime.hvp_operator", "symgraph.types")


def builtin_classes() -> dict[str, type]:
    """The classes ``load`` rebuilds by default: the public classes of the model layer
    (layers, optimisers, schedules, the training history) and of what they hold (the
    Hessian operator, its linearisation), found among modules already imported (loading
    never imports a module a file names)."""
    import importlib
    import inspect
    import sys
    for module_name in ("symgraph.nn", "symgraph.optim", "symgraph.train"):
        importlib.import_module(module_name)
    for module_name, module in list(sys.modules.items()):
        if module is None or not module_name.startswith(_OBJECT_MODULES):
            continue
        for value in list(vars(module).values()):
            if inspect.isclass(value) and value.__module__ == module_name \
                    and not issubclass(value, BaseException) \
                    and not value.__qualname__.startswith("_") and "<" not in value.__qualname__:
                name = _class_name(value)
                if name not in _NOT_OBJECTS:
                    _CLASSES[name] = value
    return _CLASSES
