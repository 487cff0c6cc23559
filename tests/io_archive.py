"""Helpers for the loader's tests: open a saved file's members, change them, zip them again
(with correct checksums, so the reader's own checks are what is tested)."""
from __future__ import annotations

import io
import json
import zipfile
from typing import Callable, Optional

import numpy as np

import symgraph as sg


def members(blob: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def pack(files: dict[str, bytes] | list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    items = files.items() if isinstance(files, dict) else files
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in items:
            zf.writestr(name, data)
    return buf.getvalue()


def document(blob: bytes) -> dict:
    return json.loads(members(blob)["graph.json"])


def with_document(blob: bytes, change: Callable[[dict], Optional[dict]]) -> bytes:
    files = members(blob)
    doc = json.loads(files["graph.json"])
    out = change(doc)               # a change edits the document or returns a new one
    doc = out if isinstance(out, dict) and "format" in out else doc
    files["graph.json"] = json.dumps(doc).encode()
    return pack(files)


def npy(arr: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


def sample_graph() -> bytes:
    """A graph using attributes of every kind: tuples, dtypes, strings, index specs,
    weak and array constants, parameters, names, scopes and gradient nodes."""
    x = sg.var("x", (None, 3))
    W = sg.param(np.arange(6.0).reshape(3, 2), name="W")
    with sg.scope("layer"):
        h = sg.tanh(x @ W + np.array([0.5, -0.5]))
        z = sg.sum(h[:, 1:] * 2.0, axis=1)
        c = sg.cast(sg.reshape(z, (-1, 1)), "float32")
    g = sg.grad(sg.sum(c), W)
    return sg.dumps(c, g)


def sample_function() -> bytes:
    x = sg.var("x", (None, 2))
    W = sg.param(np.ones((2, 2)), name="W")
    y = sg.sum(sg.relu(x @ W))
    return sg.dumps(sg.function([x], y, updates={W: W - 0.1 * sg.grad(y, W)}))
