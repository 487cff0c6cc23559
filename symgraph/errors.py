"""Exception types shared by every stage of the pipeline.

Every symgraph error names the function the user called and the user's line: a message
that lacks them gets them added here, once, from the stack (``_context``), so a check deep
inside a helper (a shape, an axis, a dtype) still reads ``reshape: ... (at train.py:12)``.
"""
from __future__ import annotations

import os
import sys

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
# Operator methods of Node, by the op (or action) a user reads them as.
_DUNDER = {"__add__": "add", "__radd__": "add", "__sub__": "subtract", "__rsub__": "subtract",
           "__mul__": "multiply", "__rmul__": "multiply", "__truediv__": "divide",
           "__rtruediv__": "divide", "__pow__": "power", "__rpow__": "power",
           "__matmul__": "matmul", "__rmatmul__": "matmul", "__neg__": "negative",
           "__abs__": "abs", "__lt__": "less", "__le__": "less_equal", "__gt__": "greater",
           "__ge__": "greater_equal", "__getitem__": "getitem", "__call__": "call",
           "__setattr__": "setattr", "__len__": "len", "__iter__": "iter", "__bool__": "bool"}


# A package function run by a thread or an executor has no user line above it.
_NOT_USER = ("threading.py", "thread.py", "process.py")


def _context(message: str) -> str:
    """``message`` with the called function's name in front and the user's line at the end,
    where it lacks them. The called function is the outermost symgraph frame."""
    frame = sys._getframe(2)
    outer = None
    while frame is not None and (frame.f_code.co_filename.startswith(_PACKAGE_DIR)
                                 or frame.f_code.co_filename.endswith("contextlib.py")):
        if frame.f_code.co_filename.startswith(_PACKAGE_DIR):
            outer = frame
        frame = frame.f_back
    if outer is None:       # raised by the user's own code (a test, say)
        return message
    name = outer.f_code.co_name
    if name in ("fn", "reduce") and isinstance(outer.f_locals.get("name"), str):
        name = outer.f_locals["name"]       # an op function built by a factory
    if name == "__init__":
        owner = outer.f_locals.get("self")
        name = type(owner).__name__ if owner is not None else name
    name = _DUNDER.get(name, name)
    if name == "call":
        name = "compiled function call"
    # Other special methods (NumPy's __array_function__, say) are not names a user called.
    if not name.startswith("__") and name.lower() not in message.lower():
        message = f"{name}: {message}"
    if frame is not None and not frame.f_code.co_filename.endswith(_NOT_USER):
        where = f"{frame.f_code.co_filename}:{frame.f_lineno}"
        if where not in message:
            message = f"{message} (at {where})"
    return message


class SymgraphError(Exception):
    """Base class of every error symgraph raises on purpose."""

    def __init__(self, *args: object) -> None:
        if len(args) == 1 and isinstance(args[0], str):
            args = (_context(args[0]),)
        super().__init__(*args)


class ShapeError(SymgraphError, ValueError):
    """Shapes that an op cannot combine (raised when the graph is built)."""


class DTypeError(SymgraphError, TypeError):
    """Dtypes that an op cannot combine or accept."""


class IndexingError(SymgraphError, IndexError):
    """An index that does not fit the indexed node's static shape."""


class ArgumentError(SymgraphError, ValueError, TypeError):
    """An argument of the wrong kind or value (a name, an option, a size, a list where a
    node was expected). It is both a ValueError and a TypeError, as callers of the
    functions that raised either before expect."""


class InputError(SymgraphError, ValueError):
    """A compiled function was called with arguments it cannot take."""


class UnsupportedError(SymgraphError, TypeError):
    """A NumPy function or argument that symgraph does not offer on nodes (np.* dispatch)."""


class DisconnectedError(SymgraphError, ValueError):
    """A derivative was asked for with respect to a node the output does not depend on."""


class EvaluationError(SymgraphError, RuntimeError):
    """A kernel failed while a compiled function ran."""


class DisconnectedWarning(UserWarning):
    """``grad``/``vjp`` was asked for a derivative with respect to a node that is not in
    the outputs' graph at all (its derivative is zeros)."""


class FormatError(SymgraphError, ValueError):
    """A saved file (or bytes) that symgraph will not load: truncated, corrupted, from a newer
    format, or describing something it cannot rebuild safely. The message names the file,
    the entry and what is wrong."""
