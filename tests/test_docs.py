"""The docs are true to the code: every Python snippet runs, the values its comments claim
are the values it computes, the REPL transcripts print what they show, README starts with
the setup commands and links every page, and docs/api.md lists every public name."""
from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import shutil
import sys
import tokenize
from typing import Any, Optional

import numpy as np
import pytest

import symgraph as sg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = ["README.md"] + sorted(f"docs/{n}" for n in os.listdir(os.path.join(ROOT, "docs"))
                               if n.endswith(".md"))

# Some pages show fragments that read names the prose introduces (the rendering page's
# overview draws "your" `y` and `g`); these lines define them before the page's snippets run.
SETUP = {
    "docs/rendering.md": """
import numpy as np
import symgraph as sg
x = sg.var("x", (None, 2)); W1 = sg.param(np.ones((2, 3)), name="W1")
W2 = sg.param(np.ones(3), name="W2")
y = sg.sum(sg.tanh(x @ W1) @ W2); loss = y; g = sg.grad(y, W1)
f = sg.function([x], [y, g]); g1, g2 = y, [y, g]
out = sg.tanh(x @ W1) * sg.tanh(x @ W1)
""",
    "docs/models.md": """
import numpy as np
_rng = np.random.default_rng(0)
X_train = _rng.standard_normal((64, 64)); y_train = _rng.integers(0, 10, 64)
""",
}


# Pages whose snippets need a part of symgraph that another branch adds; skipped until present.
# Pages whose snippets use an optional extra: without it installed, they are skipped (the
# core's own pages always run).
NEEDS = {"docs/numpy.md": ("symgraph.linalg", "symgraph.ops.einsum"),
         "docs/linalg.md": ("scipy",), "docs/onnx.md": ("onnx", "onnxruntime"),
         "docs/scaling.md": ("dask", "distributed")}


def _missing_parts(page: str) -> list[str]:
    import importlib.util
    return [m for m in NEEDS.get(page, ()) if importlib.util.find_spec(m) is None]


def _read(page: str) -> str:
    with open(os.path.join(ROOT, page), encoding="utf-8") as fh:
        return fh.read()


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", text, re.S | re.M)


def _leading_literal(comment: str) -> Optional[Any]:
    """The longest start of ``comment`` that is a Python literal (``array(...)`` allowed)."""
    text = comment.strip()
    for end in range(len(text), 0, -1):
        try:
            tree = ast.parse(text[:end].strip(), mode="eval")
        except SyntaxError:
            continue
        try:
            if (isinstance(tree.body, ast.Call) and isinstance(tree.body.func, ast.Name)
                    and tree.body.func.id == "array" and len(tree.body.args) == 1):
                return np.array(ast.literal_eval(tree.body.args[0]))
            return ast.literal_eval(tree.body)
        except (ValueError, TypeError, SyntaxError):
            continue
    return None


def _claims(source: str) -> dict[int, Any]:
    """Line (1-based) of each top-level expression statement -> the value its comment claims:
    the comment at the end of its line, or a comment line right below starting ``array(``."""
    comments: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string[1:]
    claims: dict[int, Any] = {}
    for stmt in ast.parse(source).body:
        if not isinstance(stmt, ast.Expr):
            continue
        end = stmt.end_lineno or stmt.lineno
        below = comments.get(end + 1, "").strip()
        text = below if below.startswith("array(") else comments.get(end)
        value = _leading_literal(text) if text else None
        if value is not None:
            claims[stmt.lineno] = value
    return claims


def _close(actual: Any, claimed: Any) -> bool:
    actual = actual if isinstance(actual, (list, tuple)) else [actual]
    claimed = claimed if isinstance(claimed, (list, tuple)) else [claimed]
    try:
        a = np.concatenate([np.asarray(v, dtype=float).ravel() for v in actual])
        c = np.concatenate([np.asarray(v, dtype=float).ravel() for v in claimed])
    except (TypeError, ValueError):
        return False
    if a.shape != c.shape:
        return False
    # the docs print 4-6 significant digits
    return bool(np.allclose(a, c, rtol=1e-4, atol=1e-5))


def _run_checking_claims(source: str, name: str, ns: dict) -> None:
    claims = _claims(source)
    tree = ast.parse(source)
    for stmt in tree.body:
        module = ast.Module(body=[stmt], type_ignores=[])
        if isinstance(stmt, ast.Expr) and stmt.lineno in claims:
            value = eval(compile(ast.Expression(stmt.value), name, "eval"), ns)
            assert _close(value, claims[stmt.lineno]), (
                f"{name} line {stmt.lineno}: the doc says {claims[stmt.lineno]!r}, "
                f"the code gives {value!r}")
        else:
            exec(compile(module, name, "exec"), ns)


@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(_read(p), "python")])
def test_python_snippets_run_and_print_what_the_doc_says(page, tmp_path, monkeypatch):
    if page == "docs/rendering.md" and shutil.which("dot") is None:
        pytest.skip("the rendering page writes SVG files through Graphviz's dot")
    if _missing_parts(page):
        pytest.skip(f"{page} needs {_missing_parts(page)}")
    monkeypatch.chdir(tmp_path)          # snippets write figures into the working folder
    ns: dict = {"__name__": "__docs__"}
    exec(SETUP.get(page, ""), ns)
    with contextlib.redirect_stdout(io.StringIO()):
        for i, block in enumerate(_blocks(_read(page), "python")):
            _run_checking_claims(block, f"{page} snippet {i + 1}", ns)


def _transcripts(page: str) -> list[tuple[str, str]]:
    """(input, shown output) pairs of the ``pycon`` blocks."""
    pairs = []
    for block in _blocks(_read(page), "pycon"):
        for chunk in re.split(r"^>>> ", block, flags=re.M)[1:]:
            line, _, shown = chunk.partition("\n")
            pairs.append((line, shown.rstrip("\n")))
    return pairs


@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(_read(p), "pycon")])
def test_repl_transcripts_print_what_they_show(page):
    ns: dict = {"sg": sg, "np": np}
    for line, shown in _transcripts(page):
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(line, "model.py", "single"), ns)
            printed = out.getvalue().rstrip("\n")
        except sg.SymgraphError as exc:
            printed = f"{type(exc).__name__}: {exc}"
        # the transcript pretends to be model.py:12; the real line is this exec's
        printed = re.sub(r"model\.py:\d+", "model.py:12", printed)
        assert printed == shown, f"{page}: >>> {line}\nshown:\n{shown}\nprinted:\n{printed}"


def test_readme_starts_with_the_setup_commands():
    commands = _blocks(_read("README.md"), "bash")
    assert commands[:2] == ["bash scripts/setup.sh && python3 -m symgraph demo\n",
                            "bash scripts/setup.sh && python3 -m pytest -q\n"]


def test_readme_links_every_page_and_example():
    readme = _read("README.md")
    for page in PAGES[1:]:
        assert f"({page})" in readme, f"README.md does not link {page}"
    for name in sorted(os.listdir(os.path.join(ROOT, "examples"))):
        if name.endswith(".py"):
            assert f"examples/{name}" in readme, f"README.md does not mention examples/{name}"
    assert "symgraph render" in readme


def test_api_page_lists_every_public_name():
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    try:
        import make_api_docs
    finally:
        sys.path.pop(0)
    page = _read("docs/api.md")
    names = make_api_docs.public_names()
    assert len(names) > 100
    missing = [n for n in names if f"`{n}" not in page]
    assert not missing, f"docs/api.md lacks {missing}: run python scripts/make_api_docs.py"
    assert page == make_api_docs.render(), "docs/api.md is stale: run scripts/make_api_docs.py"


def test_claim_reader_finds_values_and_rejects_prose():
    # the checker itself must be able to fail: a wrong claim is caught
    claims = _claims("1 + 1   # 2.0\nabs(-3)   # 4 (wrong)\nlen('ab')  # the length\n")
    assert claims == {1: 2.0, 2: 4}
    with pytest.raises(AssertionError, match="the doc says 4"):
        _run_checking_claims("abs(-3)   # 4 (wrong)\n", "t", {})
    assert _close([1.0, (2, 3)], [1.0, (2.0, 3.00001)]) and not _close(1.0, 1.1)
    np.testing.assert_array_equal(_leading_literal(" array([1., -0.])"), [1.0, 0.0])


def test_compiler_page_shows_the_mlp_steps_report():
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    try:
        import mlp_common
    finally:
        sys.path.pop(0)
    block = _read("docs/compiler.md").split(">>> print(step.report())\n", 1)[1].split("```")[0]
    shown = [line for line in block.splitlines() if not line.endswith(" ms")]
    # the NumPy tier's report (fusion adds its lines: docs/performance.md)
    step = mlp_common.compiled_step(mlp_common.initial_params("float32"), "float32",
                                    fusion="off")
    printed = [line for line in step.report().splitlines() if not line.endswith(" ms")]
    assert printed == shown
    # node ids count every node built in the process, so only their form is compared
    log = next(n for n in step.user_graph.nodes if n.op == "log")
    story = re.sub(r"#\d+", "#N", step.explain(log))
    page = re.sub(r"#\d+", "#N", " ".join(_read("docs/compiler.md").split()))
    assert f"`{story}`" in page
