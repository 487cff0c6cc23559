"""Saving and loading: a safe file format for graphs, compiled functions, models, optimiser
state and training checkpoints (see docs/persistence.md).

``save``/``load`` write and read one zip file; ``dumps``/``loads`` do the same in memory.
The format is plain data (JSON and .npy arrays); reading it never runs code.
"""
from __future__ import annotations

import os
from typing import Any, Sequence

from symgraph.graph import collector_paused
from symgraph.io.schema import MAX_BYTES

# The writer, the reader and the zip and temporary-file modules they use are imported on
# first use: ``import symgraph`` does not pay for them (about 15 ms of a cold start).

__all__ = ["save", "load", "dumps", "loads", "Loaded", "write_atomic", "MAX_BYTES"]


class Loaded(tuple):
    """What ``load`` returns for several items: a tuple of the positional items that also
    holds the named ones (``loaded["model"]`` or ``loaded.model``)."""

    named: dict

    def __new__(cls, items: Sequence[Any], named: dict) -> "Loaded":
        out = super().__new__(cls, items)
        out.named = dict(named)
        return out

    def __getnewargs__(self) -> tuple:
        return tuple(self), self.named

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return self.named[key]
        return super().__getitem__(key)

    def __getattr__(self, key: str) -> Any:
        try:
            return self.__dict__["named"][key]
        except KeyError:
            raise AttributeError(f"nothing was saved under the name {key!r}") from None

    def __repr__(self) -> str:
        return f"Loaded({list(self)!r}, named={self.named!r})"


def dumps(*items: Any, **named: Any) -> bytes:
    """Everything given, in the file format, as bytes (what ``save`` writes to a file).

    Items may be nodes, lists of nodes, ``Graph``s, compiled functions, layers and models,
    optimisers, arrays and plain values (numbers, strings, lists, dicts).
    """
    from symgraph.io.writer import Writer
    with collector_paused():
        return Writer().to_bytes(items, named)


def loads(data: bytes, classes: Sequence[type] = (), max_bytes: int = MAX_BYTES) -> Any:
    """Rebuild what ``dumps`` wrote: one item as itself, several as a ``Loaded`` tuple."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"loads takes the bytes dumps returned, got {type(data).__name__}"
                        + ("; to read a file use sg.load(path)" if isinstance(data, str) else ""))
    return _read(bytes(data), "<bytes>", classes, max_bytes)


def save(path: str | os.PathLike, *items: Any, **named: Any) -> None:
    """Write ``items`` (and ``named`` items) to one file, atomically: a crash while saving
    leaves the previous file, never a broken one."""
    write_atomic(path, dumps(*items, **named))


def load(path: str | os.PathLike, classes: Sequence[type] = (), max_bytes: int = MAX_BYTES) -> Any:
    """Read a file ``save`` wrote: one item as itself, several as a ``Loaded`` tuple.

    Only symgraph's own classes are rebuilt, plus the ``classes`` given (your own layer
    classes); no array, member or node may take more than ``max_bytes`` bytes. A file that
    is corrupted, truncated, from a newer format or otherwise not loadable raises
    ``FormatError``.
    """
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except IsADirectoryError:
        raise IsADirectoryError(f"load: {os.fspath(path)} is a directory, not a saved file") from None
    return _read(data, os.fspath(path), classes, max_bytes)


def _read(data: bytes, source: str, classes: Sequence[type], max_bytes: int) -> Any:
    from symgraph.io.archive import Archive
    from symgraph.io.reader import Reader
    with collector_paused():
        reader = Reader(Archive(data, source, max_bytes), classes=classes)
        items, named = reader.read()
    if len(items) == 1 and not named:
        return items[0]
    return Loaded(items, named)


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and
    ``os.replace``: readers see the old file or the new one, never half of one."""
    import tempfile
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".sgz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
