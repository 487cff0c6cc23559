"""Storing a call's parameter updates all at once, even under Ctrl-C and threads.

A compiled call first computes every new parameter value (into the function's spare
buffers or into fresh arrays) while the live values stay untouched; a failure there
changes nothing. Only then are the new values stored, by ``commit``: every assignment in
one call to C code. Python runs signal handlers (so raises KeyboardInterrupt) and hands
the interpreter to another thread only between bytecodes, never inside a call to C code
(see the ``signal`` module's documentation), so no interrupt and no other thread can see
some parameters at step k and others at step k+1. Holding SIGINT back around a loop of
assignments would do the same at ~10 us a call (two ``signal.signal`` calls); this costs
about what the assignments cost.
"""
from __future__ import annotations

import sys
from collections import deque
from itertools import repeat
from typing import Any, Sequence

import numpy as np

def _count(buffers: list, j: int) -> int:
    return sys.getrefcount(buffers[j])


# What ``_count`` gives for an array that only its list holds, measured once through the
# very same code (interpreters differ in the references a call's arguments hold).
UNSHARED_REFS = _count([np.empty(1)], 0)


def alone(buffers: list, j: int) -> bool:
    """Nobody but ``buffers`` holds ``buffers[j]``: no snapshot taken from ``p.value``, no
    returned output, no view, no reader in another thread. Only then may it be written."""
    return _count(buffers, j) <= UNSHARED_REFS


_consume = deque(maxlen=0).extend       # runs an iterator to its end, in C


def commit(cells: Sequence[Any], values: Sequence[Any]) -> None:
    """``cells[k].value = values[k]`` for every k, as one C-level call (map over the
    builtin ``setattr``, consumed by a deque method): nothing runs between two of them."""
    _consume(map(setattr, cells, repeat("value"), values))
