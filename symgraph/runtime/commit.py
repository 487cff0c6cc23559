"""Storing a call's parameter updates all at once, even under Ctrl-C.

A compiled call first computes every new parameter value (into the function's spare
buffers or into fresh arrays) while the live values stay untouched; a failure there
changes nothing. Only then are the new values stored, by reference assignments that
``commit`` runs with SIGINT held back: Python runs signal handlers between bytecodes, so a
KeyboardInterrupt could otherwise land between two assignments and leave some parameters
at step k and others at step k+1. The interrupt is delivered right after the commit.
"""
from __future__ import annotations

import signal
import sys
import threading
from typing import Any, Callable

# Buffers the caller may write into are referenced only by the caller's list, its loop
# variable and ``getrefcount``'s own argument; one more reference means someone outside
# holds the array (a snapshot taken from ``p.value``, an output, a view) and it must not
# be written.
UNSHARED_REFS = 3
refcount = sys.getrefcount


def commit(write: Callable[[], None]) -> None:
    """Run ``write`` (plain assignments, nothing that can fail) with SIGINT deferred."""
    if threading.get_ident() != threading.main_thread().ident:
        write()                 # signals are handled on the main thread only
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is None:        # a handler installed from C: we could not restore it
        write()
        return
    caught: list[tuple[int, Any]] = []
    signal.signal(signal.SIGINT, lambda signum, frame: caught.append((signum, frame)))
    try:
        write()
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        _deliver(previous, *caught[0])


def _deliver(handler: Any, signum: int, frame: Any) -> None:
    """Hand a deferred SIGINT to the handler that was installed when it arrived."""
    if callable(handler):
        handler(signum, frame)          # default_int_handler raises KeyboardInterrupt
    elif handler == signal.SIG_DFL:
        signal.raise_signal(signum)
