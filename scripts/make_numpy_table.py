"""Write the table of docs/numpy.md: every NumPy function (``dir(numpy)``, ``numpy.linalg``,
``numpy.fft``) and what ``symgraph.numpy`` does with it.

    python scripts/make_numpy_table.py          # rewrite the table in docs/numpy.md
    python scripts/make_numpy_table.py --check  # exit 1 if the table is stale

A row's status comes from resolving the name in ``symgraph.numpy`` as a user would, so the
table says what the code does: supported (with or without a derivative), NumPy's own object
(dtype utilities), left out on purpose (with the reason), or not yet.
"""
from __future__ import annotations

import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import symgraph.numpy as snp  # noqa: E402
from symgraph.numpy import _names  # noqa: E402

PAGE = os.path.join(ROOT, "docs", "numpy.md")
START, END = "<!-- numpy-table:start -->", "<!-- numpy-table:end -->"


def numpy_functions() -> list[tuple[str, str]]:
    """(space, name) of every public NumPy function, ufunc included, classes left aside."""
    out = []
    for space, module in (("numpy", np), ("linalg", np.linalg), ("fft", np.fft)):
        for name in sorted(dir(module)):
            obj = getattr(module, name)
            if name.startswith("_") or not callable(obj) or isinstance(obj, type) or name == "test":
                continue
            out.append((space, name))
    return out


def status(space: str, name: str) -> tuple[str, str]:
    """(status, note) of one NumPy function in symgraph.numpy."""
    namespace = snp if space == "numpy" else getattr(snp, space)
    try:
        found = getattr(namespace, name)
    except AttributeError as exc:
        reason = _names.LEFT_OUT.get(name) if space == "numpy" else None
        if reason:
            return "left out", reason
        return "not yet", "" if "not in this installation" not in str(exc) else \
            f"needs symgraph.{space}"
    if not hasattr(found, "__symgraph_numpy__"):
        return "NumPy's own", "takes dtypes, sizes or index arrays, not data; its result is a constant"
    if name in _names.NO_DERIVATIVE:
        return "yes", "no derivative (integer, boolean or piecewise constant result)"
    return "yes", "differentiable"


def rows() -> list[tuple[str, str, str]]:
    out = []
    for space, name in numpy_functions():
        qualified = name if space == "numpy" else f"{space}.{name}"
        out.append((qualified, *status(space, name)))
    return out


def render() -> str:
    found = rows()
    counts = {s: sum(1 for r in found if r[1] == s) for s in
              ("yes", "NumPy's own", "left out", "not yet")}
    lines = [START, "",
             f"{len(found)} NumPy functions: {counts['yes']} supported on nodes, "
             f"{counts['NumPy' + chr(39) + 's own']} NumPy's own (dtypes, sizes, index helpers), "
             f"{counts['left out']} left out on purpose, {counts['not yet']} not yet.", "",
             "| NumPy function | On nodes | Notes |", "|---|---|---|"]
    lines += [f"| `{q}` | {s} | {n} |" for q, s, n in found]
    return "\n".join(lines + ["", END])


def updated_page() -> str:
    with open(PAGE, encoding="utf-8") as fh:
        text = fh.read()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return head + render() + tail


def main(argv: list[str]) -> int:
    page = updated_page()
    with open(PAGE, encoding="utf-8") as fh:
        current = fh.read()
    if "--check" in argv:
        return 0 if page == current else 1
    with open(PAGE, "w", encoding="utf-8") as fh:
        fh.write(page)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
