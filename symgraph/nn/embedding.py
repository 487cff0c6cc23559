"""Embedding: a table of learned vectors, one row per token id."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

import symgraph as sg
from symgraph.nn.layers import Layer, _rng, unique_name
from symgraph.errors import ArgumentError


class Embedding(Layer):
    """``W[ids]``: integer ids of any shape (...) become vectors (..., dim).

    The gradient with respect to ``W`` adds each row's cotangents into the rows the ids
    picked (ids that repeat add up). Rows start from N(0, 1), as in PyTorch.
    """

    def __init__(self, num_embeddings: int, dim: int, seed: Any = None, dtype: str = "float64",
                 name: Optional[str] = None, W: Any = None) -> None:
        super().__init__(name or unique_name("embedding"))
        if int(num_embeddings) < 1 or int(dim) < 1:
            raise ArgumentError(f"Embedding: num_embeddings and dim must be positive, got "
                             f"{num_embeddings!r} and {dim!r}")
        self.num_embeddings, self.dim = int(num_embeddings), int(dim)
        w0 = _rng(seed).standard_normal((self.num_embeddings, self.dim)) if W is None else W
        with sg.scope(self.name):
            self.W = sg.param(np.asarray(w0, dtype=dtype), name="W")
        if self.W.shape != (self.num_embeddings, self.dim):
            raise sg.ShapeError(f"Embedding {self.name}: W must have shape "
                                f"{(self.num_embeddings, self.dim)}, got {self.W.shape}")

    def params(self) -> list[sg.Node]:
        return [self.W]

    def weights(self) -> list[sg.Node]:
        return [self.W]

    def forward(self, ids: sg.Node, training: bool) -> sg.Node:
        if ids.dtype.kind not in "iu":
            raise sg.DTypeError(f"Embedding {self.name}: ids must be integers, got "
                                f"{ids.dtype}{ids.where()}")
        return self.W[ids]
