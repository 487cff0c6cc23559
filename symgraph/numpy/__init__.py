"""NumPy's names and signatures on symgraph nodes: ``import symgraph.numpy as snp``.

``snp.sum(x, axis=0)``, ``snp.var(x)``, ``snp.linalg.norm(A)`` read exactly as NumPy does and
build graph nodes. The namespace holds no rules of its own: each name resolves, when first
read, to symgraph's public function of that name (see ``_resolve`` for the order), so a
function added to symgraph appears here without an edit. A small table covers the names and
signatures where NumPy and symgraph differ (``snp.var`` is ``sg.variance``; ``sg.var`` makes
an input). NumPy's constants and dtypes (``snp.pi``, ``snp.float32``) are NumPy's own.

The same resolution serves ``np.exp(node)`` and ``np.sum(node, axis=0)``: NumPy hands calls
with a node among their arguments to symgraph (NEP 13 and NEP 18), which looks them up here.
"""
from __future__ import annotations

import importlib
from typing import Any

from symgraph.numpy._resolve import lookup

_SUBSPACES = ("linalg", "fft")


def __getattr__(name: str) -> Any:
    if name in _SUBSPACES:
        # snp.linalg / snp.fft: namespaces resolving to symgraph.linalg / symgraph.fft
        return importlib.import_module(f"symgraph.numpy.{name}")
    return lookup("numpy", name)


def __dir__() -> list[str]:
    import numpy as np
    names = []
    for name in dir(np):
        try:
            lookup("numpy", name)
        except AttributeError:
            continue
        names.append(name)
    return sorted(set(names) | set(_SUBSPACES))
