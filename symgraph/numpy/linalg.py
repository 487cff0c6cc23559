"""``snp.linalg``: NumPy's ``numpy.linalg`` names resolved to ``symgraph.linalg`` when it is present."""
from __future__ import annotations

from typing import Any

from symgraph.numpy._resolve import lookup


def __getattr__(name: str) -> Any:
    return lookup("linalg", name)
