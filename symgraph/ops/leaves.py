"""Leaves of the graph: input placeholders, parameters and constants."""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from symgraph.graph import Node, ParamCell
from symgraph.errors import ArgumentError
from symgraph.ops.registry import Op, numeric_array, register
from symgraph.types import TensorType, as_dtype, as_shape


def _leaf_infer(types, attrs, where):  # leaves get their type when built, never inferred
    raise ArgumentError("leaves are built by var(), param() and const()")


register(Op("var", _leaf_infer, None, leaf=True, doc="an input given at call time"))
register(Op("param", _leaf_infer, None, leaf=True, doc="a node holding a mutable value"))
register(Op("const", _leaf_infer, None, leaf=True, doc="a fixed value"))


def var(name: str, shape: Sequence[Optional[int]] = (), dtype: Any = "float64") -> Node:
    """An input placeholder; ``None`` in ``shape`` is a size known only at call time."""
    if not isinstance(name, str) or not name:
        raise ArgumentError(f"var() needs a name as its first argument, got {name!r}")
    return Node("var", (), (), TensorType(as_shape(shape), as_dtype(dtype)), name=name)


def param(value: Any, name: Optional[str] = None, dtype: Any = None) -> Node:
    """A parameter: a node whose value lives in a cell, read and written as ``p.value``."""
    arr = numeric_array(value, None if dtype is None else as_dtype(dtype), "param")
    return Node("param", (), (), TensorType(arr.shape, arr.dtype), name=name,
                payload=ParamCell(arr))
