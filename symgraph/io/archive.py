"""The archive a saved file is: a zip holding ``graph.json`` and ``arrays/<k>.npy``, checked
before anything is read from it.

Only the members the format names are accepted (nothing is ever extracted to disk, so a
member called ``../x`` is simply refused); every member's size is checked against the
allocation limit before it is read, and checksums are verified as it is. Arrays are parsed
here from their .npy bytes: the header must describe a numeric dtype and exactly the bytes
that follow, so an object array (a pickle) is refused before any of its data is touched.
"""
from __future__ import annotations

import ast
import io
import json
import os
import zipfile
import zlib
from typing import Any

import numpy as np

from symgraph.errors import FormatError
from symgraph.io import schema


class Archive:
    """The members of one saved file, checked before anything is read from them."""

    def __init__(self, data: bytes | str, source: str, max_bytes: int) -> None:
        self.source, self.max_bytes = source, int(max_bytes)
        self._read = 0
        try:
            fh = io.BytesIO(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
            self._zip = zipfile.ZipFile(fh)
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
                NotImplementedError, KeyError, IndexError) as exc:
            raise FormatError(f"{source}: not a symgraph file (not a readable zip archive: "
                              f"{exc})") from None
        self.members: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = info.filename
            if name != schema.GRAPH_MEMBER and not schema.ARRAY_MEMBER.fullmatch(name):
                raise FormatError(f"{source}: unexpected member {name[:200]!r} (a symgraph file "
                                  f"holds only {schema.GRAPH_MEMBER} and arrays/<k>.npy)")
            if name in self.members:
                raise FormatError(f"{source}: member {name!r} appears twice")
            if info.flag_bits & 0x1:
                raise FormatError(f"{source}: member {name!r} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise FormatError(f"{source}: member {name!r} uses an unsupported compression")
            if info.file_size > self.max_bytes:
                raise FormatError(f"{source}: member {name!r} holds {info.file_size} bytes, "
                                  f"over the limit of {self.max_bytes} (max_bytes)")
            self.members[name] = info

    def read(self, name: str) -> bytes:
        info = self.members.get(name)
        if info is None:
            raise FormatError(f"{self.source}: member {name!r} is missing")
        self._read += info.file_size
        if self._read > self.max_bytes:
            raise FormatError(f"{self.source}: reading {name!r} would take the total past "
                              f"the limit of {self.max_bytes} bytes (max_bytes)")
        try:
            with self._zip.open(info) as fh:
                data = fh.read(info.file_size + 1)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error,
                NotImplementedError, RuntimeError) as exc:
            raise FormatError(f"{self.source}: member {name!r} is corrupted ({exc})") from None
        if len(data) != info.file_size:
            raise FormatError(f"{self.source}: member {name!r} is truncated or corrupted")
        return data

    def document(self) -> dict:
        raw = self.read(schema.GRAPH_MEMBER)
        try:
            doc = json.loads(raw.decode("utf-8"), parse_constant=_no_constant,
                             object_pairs_hook=_unique_keys)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise FormatError(f"{self.source}: {schema.GRAPH_MEMBER} is not valid JSON "
                              f"({str(exc)[:200]})") from None
        if type(doc) is not dict or doc.get("format") != schema.MAGIC:
            raise FormatError(f"{self.source}: {schema.GRAPH_MEMBER} is not a symgraph document")
        version = doc.get("version")
        if type(version) is not int or version < 1:
            raise FormatError(f"{self.source}: format version {version!r} is not valid")
        if version > schema.VERSION:
            raise FormatError(f"{self.source}: written in format version {version}, newer than "
                              f"this symgraph reads ({schema.VERSION}); upgrade symgraph")
        return doc

    def array(self, k: int, where: str) -> np.ndarray:
        name = f"arrays/{k}.npy"
        return parse_npy(self.read(name), f"{self.source}: {name} ({where})", self.max_bytes)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _unique_keys(pairs: list) -> dict:
    # JSON itself lets a key repeat (the last one wins): a file saying two things is refused
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set = set()
        key = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"key {key[:40]!r} appears twice in one object")
    return out


def parse_npy(data: bytes, where: str, max_bytes: int) -> np.ndarray:
    """An array from .npy bytes, checking the header and size; never unpickles."""
    if data[:6] != b"\x93NUMPY" or len(data) < 10:
        raise FormatError(f"{where}: not a .npy array")
    major = data[6]
    if major == 1:
        hlen, start = int.from_bytes(data[8:10], "little"), 10
    elif major in (2, 3):
        hlen, start = int.from_bytes(data[8:12], "little"), 12
    else:
        raise FormatError(f"{where}: unknown .npy version {major}")
    if start + hlen > len(data) or hlen > 65535 * 16:
        raise FormatError(f"{where}: .npy header is truncated")
    try:
        header = ast.literal_eval(data[start:start + hlen].decode("latin1"))
    except (ValueError, SyntaxError, MemoryError, RecursionError, UnicodeDecodeError):
        raise FormatError(f"{where}: .npy header is not readable") from None
    if type(header) is not dict or sorted(header) != ["descr", "fortran_order", "shape"]:
        raise FormatError(f"{where}: .npy header is not readable")
    descr, fortran, shape = header["descr"], header["fortran_order"], header["shape"]
    if type(descr) is not str or type(fortran) is not bool or type(shape) is not tuple \
            or len(shape) > schema.MAX_NDIM or any(type(d) is not int or d < 0 for d in shape):
        raise FormatError(f"{where}: .npy header has a bad dtype, order or shape")
    try:
        dtype = np.dtype(descr)
    except (TypeError, ValueError):
        raise FormatError(f"{where}: .npy dtype {descr[:40]!r} is not a dtype") from None
    native = dtype.newbyteorder("=")
    if dtype.kind not in "biufc" or native.name not in schema.DTYPES \
            or native != schema.DTYPES[native.name]:
        raise FormatError(f"{where}: arrays hold numeric dtypes, not {descr[:40]!r}")
    nbytes = schema.finite_size(shape, dtype.itemsize)
    if nbytes > max_bytes:
        raise FormatError(f"{where}: an array of shape {shape} would take {nbytes:.0f} bytes, "
                          f"over the limit of {max_bytes} (max_bytes)")
    body = start + hlen
    if len(data) - body != int(nbytes):
        raise FormatError(f"{where}: .npy data holds {len(data) - body} bytes, its header "
                          f"says {int(nbytes)}")
    flat = np.frombuffer(data, dtype=dtype, count=int(np.prod(shape)) if shape else 1,
                         offset=body)
    arr = flat.reshape(shape, order="F" if fortran else "C")
    return np.array(arr, dtype=native, copy=True, order="C")


def source_name(path: Any) -> str:
    return os.fspath(path) if isinstance(path, (str, os.PathLike)) else "<bytes>"
