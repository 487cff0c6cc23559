"""Files through the real Graphviz ``dot`` program, the fallback without it, Jupyter display
and the ``symgraph render`` command line."""
from __future__ import annotations

import pathlib
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import symgraph as sg
from symgraph.__main__ import main
from symgraph.render.svg import GraphvizError

import render_figures

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz `dot` is not installed (CI installs it)")
SVG = "{http://www.w3.org/2000/svg}"


def _texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [t.text for t in root.iter(SVG + "text") if t.text]


def _no_dot(monkeypatch, tmp_path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("dot") is None


@needs_dot
@pytest.mark.parametrize("name, expected", [
    ("xor_units", {"x₁", "x₂", "h₁", "h₂", "y"}),
    ("xor_layers", {"x", "h", "y", "W", "w"}),
    ("fff_gradient", {"w", "x", "y", "z", "u(1)", "gradient node"}),
    ("relu_layer", {"X", "W", "b", "u(1)", "u(2)", "H", "max"}),
    ("optimization", {"before: 9 nodes", "after: 7 nodes", "9 -> 7 nodes: CSE merged 2"}),
])
def test_svg_parses_and_holds_the_labels(name, expected, tmp_path):
    path = tmp_path / f"{name}.svg"
    assert render_figures.FIGURES[name]().render(str(path)) == str(path)
    texts = set(_texts(path.read_text(encoding="utf-8")))
    assert expected <= texts


@needs_dot
def test_svg_tooltips_carry_op_shape_and_location(tmp_path):
    x = sg.var("x", shape=(None, 3))
    y = sg.tanh(x)
    path = sg.render(y, str(tmp_path / "t.svg"))
    svg = open(path, encoding="utf-8").read()
    root = ET.fromstring(svg)
    titles = [a.get("{http://www.w3.org/1999/xlink}title") for a in root.iter(SVG + "a")]
    assert any(t and "tanh: float64 (?, 3)" in t and "test_render_svg.py:" in t for t in titles)


@needs_dot
@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".pdf", b"%PDF")])
def test_binary_formats(suffix, magic, tmp_path):
    path = sg.render(sg.exp(sg.var("x")), str(tmp_path / f"g{suffix}"))
    assert open(path, "rb").read(4) == magic


def test_dot_suffix_needs_no_graphviz(monkeypatch, tmp_path):
    _no_dot(monkeypatch, tmp_path)
    y = sg.exp(sg.var("x"))
    path = sg.render(y, str(tmp_path / "g.dot"), style="expr")
    assert open(path, encoding="utf-8").read() == sg.to_dot(y, style="expr")
    with pytest.raises(ValueError, match=r"\.svg"):
        sg.render(y, str(tmp_path / "g.jpeg"))


def test_missing_dot_says_how_to_install(monkeypatch, tmp_path):
    _no_dot(monkeypatch, tmp_path)
    with pytest.raises(GraphvizError) as info:
        sg.render(sg.exp(sg.var("x")), str(tmp_path / "g.svg"))
    message = str(info.value)
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert "conda install" in message


def _objects():
    x = sg.var("x", shape=(None, 2))
    y = sg.tanh(x @ sg.param(np.ones((2, 2)), name="W")).sum()
    return [y, sg.Graph([y]), sg.function([x], y), sg.draw(y, style="expr")]


@needs_dot
def test_jupyter_shows_svg_when_dot_exists():
    for obj in _objects():
        bundle = obj._repr_mimebundle_()
        assert "tanh" in _texts(bundle["image/svg+xml"])
        assert bundle["text/plain"] == repr(obj)


def test_jupyter_falls_back_to_dot_text_without_graphviz(monkeypatch, tmp_path):
    _no_dot(monkeypatch, tmp_path)
    for obj in _objects():
        bundle = obj._repr_mimebundle_()
        assert "image/svg+xml" not in bundle
        hint, _, dot = bundle["text/plain"].partition("\n")
        assert hint.startswith("# no Graphviz `dot` on PATH") and "apt-get" in hint
        assert dot.startswith("digraph symgraph {") and dot == bundle["text/vnd.graphviz"]


def test_jupyter_display_never_raises():
    from symgraph.render.svg import mimebundle
    bundle = mimebundle(object())
    assert "could not draw it" in bundle["text/plain"]


@needs_dot
def test_cli_renders_a_builder_from_a_file(tmp_path, capsys):
    out = tmp_path / "xor.svg"
    figures = pathlib.Path(render_figures.__file__)
    assert main(["render", f"{figures}:xor_units", "-o", str(out)]) == 0
    assert {"x₁", "h₂", "y"} <= set(_texts(out.read_text(encoding="utf-8")))


def test_cli_styles_views_and_errors(tmp_path, capsys):
    script = tmp_path / "model.py"
    script.write_text(
        "import numpy as np\nimport symgraph as sg\n"
        "x = sg.var('x', shape=(None, 2))\n"
        "W = sg.param(np.ones((2, 2)), name='W')\n"
        "h = sg.tanh(x @ W)\n"
        "loss = (h * h + h * h).sum()\n"
        "step = sg.function([x], loss)\n", encoding="utf-8")
    out = tmp_path / "layers.dot"
    assert main(["render", f"{script}:loss", "-o", str(out), "--style", "layers",
                 "--rankdir", "LR"]) == 0
    text = out.read_text(encoding="utf-8")
    assert 'rankdir="LR"' in text and 'label="W"' in text
    out = tmp_path / "opt.dot"
    assert main(["render", f"{script}:step", "-o", str(out), "--view", "optimization"]) == 0
    assert "CSE merged" in out.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["render", f"{script}:nope", "-o", str(out)]) == 2
    assert "has no name 'nope'" in capsys.readouterr().err
    assert main(["render", "no-colon", "-o", str(out)]) == 2
    assert "MODULE_OR_FILE:NAME" in capsys.readouterr().err
    assert main(["render", f"{script}:loss", "-o", str(tmp_path / "x.bmp")]) == 2
    assert "cannot tell the format" in capsys.readouterr().err


def _fake_dot(tmp_path, monkeypatch, body: str) -> None:
    """Put a stand-in `dot` first on PATH that prints ``body`` and exits 1."""
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\ncat >/dev/null\n" + body + "\necho 'Error: trouble in init_rank' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{__import__('os').environ['PATH']}")


def test_layout_trouble_with_a_whole_drawing_warns_and_keeps_it(monkeypatch, tmp_path):
    # Regression: Graphviz 2.43 exits 1 on some clustered graphs (the XOR Adam step's
    # optimisation view) yet writes the whole SVG; render used to raise and lose it.
    _fake_dot(tmp_path, monkeypatch, "printf '<svg><g/></svg>\\n'")
    x = sg.var("x", (2,))
    with pytest.warns(RuntimeWarning, match="init_rank"):
        path = sg.render(sg.tanh(x), str(tmp_path / "g.svg"))
    assert pathlib.Path(path).read_text().strip() == "<svg><g/></svg>"


def test_layout_failure_without_a_drawing_raises(monkeypatch, tmp_path):
    _fake_dot(tmp_path, monkeypatch, "printf '<svg><g>'")
    x = sg.var("x", (2,))
    with pytest.raises(GraphvizError, match="init_rank"):
        sg.render(sg.tanh(x), str(tmp_path / "g.svg"))
