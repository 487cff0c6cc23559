"""Write docs/api.md: every public name of ``symgraph`` (and of ``symgraph.nn``,
``symgraph.optim``, ``symgraph.train``) with its signature and a one-line summary.

    python scripts/make_api_docs.py          # rewrite docs/api.md
    python scripts/make_api_docs.py --check  # exit 1 if docs/api.md is stale

The page is generated from the code, so it cannot drift; tests/test_docs.py fails when a
public name is missing from it or the page differs from what this script writes.
"""
from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import sys
import types
from typing import Any, Callable

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import symgraph  # noqa: E402
import symgraph.nn  # noqa: E402
import symgraph.optim  # noqa: E402
import symgraph.train  # noqa: E402

PAGE = os.path.join(ROOT, "docs", "api.md")

# Top-level names grouped as a user meets them; the key is the defining module's prefix.
GROUPS: list[tuple[str, tuple[str, ...]]] = [
    ("Leaves: inputs, parameters, constants", ("symgraph.ops.leaves", "symgraph.ops.registry")),
    ("Elementwise functions", ("symgraph.ops.elementwise", "symgraph.ops.elementwise_math",
                               "symgraph.ops.complex")),
    ("Reductions, scans and softmax", ("symgraph.ops.reduce", "symgraph.ops.scan",
                                       "symgraph.ops.nanfunctions")),
    ("Shapes and indexing", ("symgraph.ops.shape",)),
    ("Linear algebra", ("symgraph.ops.linalg", "symgraph.ops.einsum")),
    ("Convolution, pooling and dropout", ("symgraph.ops.nn",)),
    ("Differentiation", ("symgraph.autodiff", "symgraph.testing")),
    ("Compiling and running", ("symgraph.runtime",)),
    ("Graphs and types", ("symgraph.graph", "symgraph.types")),
    ("Drawing", ("symgraph.render",)),
    ("Saving and exchanging models", ("symgraph.onnx", "symgraph.io")),
    ("NumPy's shape, indexing, ordering and creation functions",
     ("symgraph.ops.rearrange", "symgraph.ops.join", "symgraph.ops.indexing",
      "symgraph.ops.ordering", "symgraph.ops.series", "symgraph.ops.creation")),
    ("Errors", ("symgraph.errors",)),
]
# Names whose objects do not say where they come from (plain values, the package's own).
PLACED = {"DEFAULT_HVP_METHOD": "symgraph.autodiff", "HVP_METHODS": "symgraph.autodiff",
          "arange": "symgraph.ops.leaves", "GraphvizError": "symgraph.errors"}

# The elementwise op functions are generated (ops/elementwise.py) and carry no docstring.
UNDOCUMENTED = {
    "relu": "``max(x, 0)`` elementwise.",
    "sigmoid": "The logistic function ``1 / (1 + exp(-x))`` elementwise, computed stably.",
    "softplus": "``log(1 + exp(x))`` elementwise, computed stably.",
    "stop_gradient": "``x`` itself, but no derivative flows through it.",
}


def _summary(obj: Any, name: str, owner: Any = None) -> str:
    if isinstance(obj, (str, tuple, int, float)):
        return f"the value ``{obj!r}``."
    # a class's own docstring only: inspect.getdoc would show its base class's
    doc = inspect.cleandoc(obj.__doc__ or "") if isinstance(obj, type) else inspect.getdoc(obj)
    if doc:
        first = doc.split("\n\n")[0].replace("\n", " ")
        return first if first.endswith((".", ":")) else first + "."
    if owner is not None:   # Node's undocumented NumPy-style methods and properties
        return f"as NumPy's ``ndarray.{name}``." if owner is symgraph.Node and hasattr(
            np.ndarray, name) else ""
    if name in UNDOCUMENTED:
        return UNDOCUMENTED[name]
    if getattr(obj, "__module__", "") == "symgraph.ops.elementwise" and hasattr(np, name):
        return f"NumPy's ``{name}``, elementwise with broadcasting."
    return ""


def _signature(obj: Any) -> str:
    if isinstance(obj, type) and issubclass(obj, BaseException):
        return ""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return ""
    params = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
    if isinstance(obj, types.FunctionType) and params and params[0].name == "self":
        params = params[1:]
    return str(sig.replace(parameters=params, return_annotation=inspect.Signature.empty))


def _entry(qualified: str, obj: Any, short: str, owner: Any = None) -> str:
    callable_ = callable(obj) and not isinstance(obj, (str, tuple))
    head = f"`{qualified}{_signature(obj) if callable_ else ''}`"
    text = _summary(obj, short, owner)
    return f"- {head}" + (f" — {text}" if text else "")


def _members(cls: type) -> list[tuple[str, Any]]:
    """Public methods and properties a class defines itself, in name order."""
    found = []
    for name in sorted(vars(cls), key=str.lower):
        member = vars(cls)[name]
        if name.startswith("_"):
            continue
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if isinstance(member, property) or inspect.isfunction(member):
            found.append((name, member))
    return found


def _entries(prefix: str, names: list[str], module: Any) -> list[str]:
    lines = []
    for name in names:
        obj = getattr(module, name)
        lines.append(_entry(f"{prefix}.{name}", obj, name))
        if isinstance(obj, type) and not issubclass(obj, BaseException):
            for member_name, member in _members(obj):
                qualified = f"{prefix}.{name}.{member_name}"
                if isinstance(member, property):
                    text = _summary(member.fget, member_name, obj) if member.fget else ""
                    lines.append(f"  - `{qualified}`" + (f" — {text}" if text else ""))
                else:
                    lines.append("  " + _entry(qualified, member, member_name, obj))
    return lines


def _top_level() -> list[str]:
    return sorted((n for n in dir(symgraph) if not n.startswith("_")
                   and not isinstance(getattr(symgraph, n), types.ModuleType)), key=str.lower)


def _group_of(name: str) -> str:
    module = PLACED.get(name) or getattr(getattr(symgraph, name), "__module__", "") or ""
    for title, prefixes in GROUPS:
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return title
    raise LookupError(f"make_api_docs: no group for symgraph.{name} (module {module!r}); "
                      f"add its module to GROUPS")


def _subpackages() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(symgraph.__path__)
                  if not m.name.startswith("_"))


def _nn_names() -> tuple[list[str], list[tuple[str, list[str]]]]:
    """``sg.nn``'s own names, and per submodule the functions it does not re-export."""
    nn = symgraph.nn
    direct = [n for n in nn.__all__ if not isinstance(getattr(nn, n), types.ModuleType)]
    exported = {id(getattr(nn, n)) for n in direct}
    subs = []
    for sub in [n for n in nn.__all__ if isinstance(getattr(nn, n), types.ModuleType)]:
        module = getattr(nn, sub)
        own = sorted((n for n, v in vars(module).items() if not n.startswith("_")
                      and callable(v) and getattr(v, "__module__", None) == module.__name__
                      and id(v) not in exported), key=str.lower)
        subs.append((sub, own))
    return direct, subs


def _train_names() -> list[str]:
    train = symgraph.train
    return sorted((n for n, v in vars(train).items() if not n.startswith("_")
                   and getattr(v, "__module__", None) == train.__name__), key=str.lower)


def public_names() -> list[str]:
    """Every name docs/api.md must list, qualified (``sg.add``, ``sg.nn.Dense``, ...)."""
    names = [f"sg.{n}" for n in _top_level()] + [f"symgraph.{m}" for m in _subpackages()]
    direct, subs = _nn_names()
    names += [f"sg.nn.{n}" for n in direct]
    names += [f"sg.nn.{sub}.{n}" for sub, own in subs for n in own]
    names += [f"sg.optim.{n}" for n in symgraph.optim.__all__]
    names += [f"sg.train.{n}" for n in _train_names()]
    return names


def _first_line(module: Any) -> str:
    return (inspect.getdoc(module) or "").split("\n\n")[0].replace("\n", " ")


def render() -> str:
    """The text of docs/api.md."""
    out = ["# API reference", "",
           "Every public name of `symgraph` (imported as `sg`), `sg.nn`, `sg.optim` and "
           "`sg.train`, with its signature and the first line of its docstring. Classes list "
           "the methods and properties they define. Generated by `python "
           "scripts/make_api_docs.py` from the code; do not edit by hand "
           "(`tests/test_docs.py` fails when it is stale).", ""]
    top = _top_level()
    for title, _ in GROUPS:
        names = [n for n in top if _group_of(n) == title]
        out += [f"## {title}", ""] + _entries("sg", names, symgraph) + [""]
    # named in full: ``sg.render`` is the function, ``symgraph.render`` the package
    out += ["## Modules", ""]
    for name in _subpackages():
        module = importlib.import_module(f"symgraph.{name}")
        out.append(f"- `symgraph.{name}` — {_first_line(module)}")
    direct, subs = _nn_names()
    out += ["", "## `sg.nn`: layers, activations, losses, regularisers", "",
            _first_line(symgraph.nn), ""] + _entries("sg.nn", direct, symgraph.nn)
    for sub, own in subs:
        if not own:       # everything it defines is listed above (``sg.nn.losses``)
            continue
        out += ["", f"### `sg.nn.{sub}`", ""]
        out += _entries(f"sg.nn.{sub}", own, getattr(symgraph.nn, sub))
    out += ["", "## `sg.optim`: optimisers", "", _first_line(symgraph.optim), ""]
    out += _entries("sg.optim", list(symgraph.optim.__all__), symgraph.optim)
    out += ["", "## `sg.train`: the training loop", "", _first_line(symgraph.train), ""]
    out += _entries("sg.train", _train_names(), symgraph.train)
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        with open(PAGE, encoding="utf-8") as fh:
            stale = fh.read() != text
        print("docs/api.md is stale: run python scripts/make_api_docs.py" if stale
              else "docs/api.md is up to date")
        return int(stale)
    with open(PAGE, "w", encoding="utf-8") as fh:
        fh.write(text)
    print(f"wrote {os.path.relpath(PAGE)} ({len(public_names())} public names)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
