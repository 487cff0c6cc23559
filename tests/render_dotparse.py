"""A tiny reader for the DOT text symgraph writes (one statement per line), so rendering
tests can check nodes, edges and attributes without Graphviz."""
from __future__ import annotations

import re

_NODE = re.compile(r'^\s*(\w+) \[(.*)\];$')
_EDGE = re.compile(r'^\s*(\w+) -> (\w+)(?: \[(.*)\])?;$')
_ATTR = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def attrs(text: str) -> dict[str, str]:
    """``key="value", ...`` as a dict (escapes kept as written)."""
    return {k: v for k, v in _ATTR.findall(text or "")}


def nodes(dot: str, legend: bool = False) -> dict[str, dict[str, str]]:
    """DOT id -> attributes of every node statement (legend boxes left out by default)."""
    out = {}
    for line in dot.splitlines():
        m = _NODE.match(line)
        if m and m.group(1) not in ("graph", "node", "edge"):
            if legend or not m.group(1).startswith("legend"):
                out[m.group(1)] = attrs(m.group(2))
    return out


def edges(dot: str) -> list[tuple[str, str, dict[str, str]]]:
    """(source id, target id, attributes) of every visible edge outside the legend."""
    out = []
    for line in dot.splitlines():
        m = _EDGE.match(line)
        if m and not m.group(1).startswith("legend") and "style=invis" not in line:
            out.append((m.group(1), m.group(2), attrs(m.group(3))))
    return out


def labels(dot: str) -> list[str]:
    """Every node label with DOT's ``\\n`` turned back into newlines."""
    return [a.get("label", "").replace("\\n", "\n") for a in nodes(dot).values()]
