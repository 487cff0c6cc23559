"""Lower pipeline stages never import higher ones at module level (DESIGN 2a).

Imports made inside a function body (graph.py's operators, which build op nodes) are
allowed: they run after every module has loaded and are listed in docs/architecture.md.
"""
from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "symgraph"

# Rank of each stage: a module may import its own rank or lower ones.
RANKS = {
    "errors": 0, "types": 0, "random": 0,
    "graph": 1,
    "ops": 2,
    "linalg": 2, "fft": 2, "special": 2,   # public namespaces of ops (sg.linalg, ...)
    "autodiff": 3,
    "passes": 4,
    "runtime": 5,
    "render": 6,
    "numpy": 7,   # symgraph.numpy: NumPy names over the public functions (np-shape)
    "onnx": 6,
    "testing": 6,
    "nn": 7, "optim": 7, "train": 7,
    "io": 7,
    "demo": 8, "__main__": 8, "__init__": 8,
    "dask": 8,   # symgraph.dask: the optional Dask extra, built on the public API
}


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        name = ".".join(rel.parts)
        if name.endswith(".__init__"):
            name = name[: -len(".__init__")]
        yield name, path


def _top_level_imports(path: pathlib.Path) -> list[str]:
    tree = ast.parse(path.read_text())
    out = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("symgraph"):
            out.append(node.module)
        elif isinstance(node, ast.Import):
            out += [a.name for a in node.names if a.name.startswith("symgraph")]
    return out


@pytest.mark.parametrize("module,path", list(_modules()), ids=lambda v: str(v))
def test_module_imports_only_lower_stages(module, path):
    stage = _stage(module)
    if stage not in RANKS:
        pytest.fail(f"{module}: stage {stage!r} has no rank in tests/test_layering.py; add it")
    mine = RANKS[stage]
    for imported in _top_level_imports(path):
        if imported == "symgraph" and mine >= RANKS["nn"]:
            continue   # the model layer (nn, optim, train) is built on the public API
        other = _stage(imported)
        assert other in RANKS, f"{module} imports unknown stage {imported}"
        assert RANKS[other] <= mine, (
            f"{module} (stage {stage}) imports {imported} (stage {other}), a higher stage")
