"""The words inside and beside drawn nodes: names, types, constant values and tooltips."""
from __future__ import annotations

import functools
import os
from typing import Any, Optional

import numpy as np

from symgraph.graph import Node
from symgraph.types import format_shape


def type_text(node: Node) -> str:
    """``float64 (?, 2)``: dtype and shape, unknown sizes as ``?``."""
    return _type_text(node.dtype, node.shape)


@functools.lru_cache(maxsize=4096)
def _type_text(dtype: np.dtype, shape: tuple) -> str:
    # Cached: big graphs repeat a handful of types, and dtype.name is slow in NumPy.
    return f"{dtype.name} {format_shape(shape)}"


def where_text(node: Node) -> str:
    """The user's file:line, with the file relative to the working folder when it is inside
    it and its base name otherwise, so drawings do not depend on the machine."""
    loc = node.location
    if loc is None:
        return ""
    return f"{_display_path(loc.filename, os.getcwd())}:{loc.lineno}"


@functools.lru_cache(maxsize=1024)
def _display_path(name: str, cwd: str) -> str:
    if os.path.isabs(name) and name.startswith(cwd + os.sep):
        return os.path.relpath(name, cwd)
    if os.path.isabs(name):
        return os.path.basename(name)
    return name


def const_text(node: Node) -> str:
    """A constant's value when it is small enough to read, else its type."""
    value = np.asarray(node.payload)
    if value.size == 1:
        item = value.reshape(()).item()
        return f"{item:g}" if isinstance(item, float) else str(item)
    if value.size <= 4 and value.ndim == 1:
        return "[" + ", ".join(f"{v:g}" for v in value.tolist()) + "]"
    return f"const {format_shape(node.shape)}"


def name_map(names: Optional[dict]) -> dict[int, str]:
    """The caller's ``{node: label}`` keyed by object identity (nodes hash by identity)."""
    return {id(k): str(v) for k, v in (names or {}).items()}


def given_name(node: Node, names: dict[int, str]) -> Optional[str]:
    """The label the caller gave ``node``, else the node's own name."""
    return names.get(id(node), node.name)


def attr_text(node: Node) -> str:
    """Attributes worth seeing in a label, e.g. ``axis=1``."""
    parts = []
    for key, value in node.attrs:
        if value is None or value is False or value == ():
            continue
        parts.append(f"{key}={_short(value)}")
    return ", ".join(parts)


def _short(value: Any) -> str:
    text = value.name if isinstance(value, np.dtype) else repr(value)
    return text if len(text) <= 24 else text[:21] + "..."


def tooltip(node: Node, locations: bool) -> str:
    """Op, dtype, shape, scope and (optionally) where the user built the node."""
    lines = [f"{node.op}: {type_text(node)}"]
    if node.name:
        lines.insert(0, node.name)
    if node.scope:
        lines.append(f"scope {node.scope}")
    if node.is_grad:
        lines.append("built by differentiation")
    if locations and node.location is not None:
        lines.append(where_text(node))
    return "\n".join(lines)


def leaf_names(leaves: list[Node], names: dict[int, str]) -> dict[int, str]:
    """Names for parameters (or inputs) that tell them apart: a name two of them share is
    written with the scope, ``hidden/W`` and ``output/W``, less the scope they all share
    (``mlp/layer1/W`` and ``mlp/layer2/W`` read ``layer1/W`` and ``layer2/W``). Keyed by
    ``id(node)``."""
    plain = {id(p): given_name(p, names) or "θ" for p in leaves}
    seen: dict[str, int] = {}
    for p in leaves:
        seen[plain[id(p)]] = seen.get(plain[id(p)], 0) + 1
    scoped = [p for p in leaves if seen[plain[id(p)]] > 1 and p.scope]
    common = _common_parts([p.scope.split("/") for p in scoped])
    out = {}
    for p in leaves:
        if seen[plain[id(p)]] > 1 and p.scope:
            rest = "/".join(p.scope.split("/")[common:])
            out[id(p)] = f"{rest}/{plain[id(p)]}" if rest else f"{p.scope}/{plain[id(p)]}"
        else:
            out[id(p)] = plain[id(p)]
    return out


def _common_parts(paths: list[list[str]]) -> int:
    """How many leading scope parts all ``paths`` share (0 for fewer than two paths)."""
    if len(paths) < 2:
        return 0
    k = 0
    while all(len(p) > k and p[k] == paths[0][k] for p in paths):
        k += 1
    return k
