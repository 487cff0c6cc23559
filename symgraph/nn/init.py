"""Weight initialisers: Glorot (Xavier) for sigmoid/tanh layers, He for ReLU layers.

Each takes a shape and a NumPy ``Generator`` and returns an array; layers wrap it in a
parameter. The fans of a dense ``(fan_in, fan_out)`` matrix are its two sizes; a
convolution kernel ``(O, C, kh, kw)`` has fan_in ``C*kh*kw`` and fan_out ``O*kh*kw``.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
from symgraph.errors import ArgumentError

Initializer = Callable[[tuple, np.random.Generator], np.ndarray]


def fans(shape: tuple) -> tuple[int, int]:
    """(fan_in, fan_out) of a dense matrix or a convolution kernel."""
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    if len(shape) == 4:
        field = int(shape[2]) * int(shape[3])
        return int(shape[1]) * field, int(shape[0]) * field
    size = int(np.prod(shape)) if shape else 1
    return size, size


def glorot_uniform(shape: tuple, rng: np.random.Generator) -> np.ndarray:
    """U(-a, a) with a = sqrt(6 / (fan_in + fan_out)): variance 2 / (fan_in + fan_out)."""
    fan_in, fan_out = fans(shape)
    a = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, shape)


def glorot_normal(shape: tuple, rng: np.random.Generator) -> np.ndarray:
    """N(0, 2 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(shape)
    return rng.normal(0.0, math.sqrt(2.0 / (fan_in + fan_out)), shape)


def he_normal(shape: tuple, rng: np.random.Generator) -> np.ndarray:
    """N(0, 2 / fan_in): keeps the variance of ReLU activations constant through depth."""
    fan_in, _ = fans(shape)
    return rng.normal(0.0, math.sqrt(2.0 / fan_in), shape)


def he_uniform(shape: tuple, rng: np.random.Generator) -> np.ndarray:
    """U(-a, a) with a = sqrt(6 / fan_in): variance 2 / fan_in."""
    fan_in, _ = fans(shape)
    a = math.sqrt(6.0 / fan_in)
    return rng.uniform(-a, a, shape)


def zeros(shape: tuple, rng: np.random.Generator) -> np.ndarray:
    """All zeros (biases)."""
    return np.zeros(shape)


INITIALIZERS: dict[str, Initializer] = {
    "glorot_uniform": glorot_uniform, "glorot_normal": glorot_normal,
    "he_normal": he_normal, "he_uniform": he_uniform, "zeros": zeros,
}


def get(init: str | Initializer) -> Initializer:
    """An initialiser by name, or the callable itself."""
    if callable(init):
        return init
    try:
        return INITIALIZERS[init]
    except KeyError:
        raise ArgumentError(f"unknown initialiser {init!r}; choose from "
                         f"{', '.join(sorted(INITIALIZERS))}") from None
