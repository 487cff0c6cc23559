"""The package's random generator, which layers draw their initial weights from.

Every layer built without an explicit ``seed`` takes a fresh child of this generator, so
two layers of one shape start different, and ``sg.random.seed(s)`` at the top of a script
makes all of them reproducible (as ``torch.manual_seed`` or Keras's
``set_random_seed`` do). It starts seeded with 0, so a script gives the same weights on
every run until it asks otherwise.
"""
from __future__ import annotations

import threading

import numpy as np

from symgraph.errors import DTypeError

_lock = threading.Lock()         # layers may be built from several threads
_root = [np.random.default_rng(0)]


def seed(value: int) -> None:
    """Restart the package generator from ``value`` (a non-negative int)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise DTypeError(f"random.seed: the seed is a non-negative int, got {value!r}")
    with _lock:
        _root[0] = np.random.default_rng(int(value))


def generator() -> np.random.Generator:
    """A new generator, the next child of the package generator: independent of the
    ones handed out before it, and the same after the same ``seed``."""
    with _lock:
        return _root[0].spawn(1)[0]
