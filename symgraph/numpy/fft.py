"""``snp.fft``: NumPy's ``numpy.fft`` names resolved to ``symgraph.fft`` when it is present."""
from __future__ import annotations

from typing import Any

from symgraph.numpy._resolve import lookup


def __getattr__(name: str) -> Any:
    return lookup("fft", name)
