"""ONNX exchange: ``export_onnx`` writes a symgraph graph as an ONNX model and
``import_onnx`` builds a symgraph graph from one.

``onnx`` (and ``onnxruntime``, to run exported models) is the optional extra
``pip install symgraph[onnx]``; this package imports it only when one of the two functions
is called, so ``import symgraph`` never needs it.
"""
from __future__ import annotations

from typing import Any


def require_onnx() -> Any:
    """The ``onnx`` module, or one clear error naming the extra that brings it."""
    try:
        import onnx
    except ImportError:
        raise ImportError("ONNX exchange needs the onnx package: "
                          "pip install symgraph[onnx]") from None
    return onnx


def export_onnx(target: Any, path: Any = None, inputs: Any = None, **options: Any) -> Any:
    """Write ``target`` (a compiled function, a node or a list of nodes) as an ONNX model;
    see ``symgraph.onnx.export.export_onnx``."""
    from symgraph.onnx.export import export_onnx as _export
    return _export(target, path, inputs, **options)


def import_onnx(source: Any, **options: Any) -> Any:
    """Build symgraph nodes from an ONNX model (a path, bytes or a ModelProto); see
    ``symgraph.onnx.importer.import_onnx``."""
    from symgraph.onnx.importer import import_onnx as _import
    return _import(source, **options)
