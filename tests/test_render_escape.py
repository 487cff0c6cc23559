"""Hostile text in names (issue 9, defect 11): control characters, lone surrogates, NUL and
very long names still give well-formed DOT and SVG; a shortened label names its node."""
from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import pytest

import symgraph as sg
from symgraph.render import escape

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` missing")

HOSTILE = ["a\x1b[31m", "nul\x00byte", "lone\ud800surrogate", "bell\x07\x7f\x85", "cr\rlf",
           'quote" back\\slash', "<b>&amp;</b>"]


@pytest.mark.parametrize("name", HOSTILE)
def test_dot_text_holds_no_control_characters_or_surrogates(name):
    x = sg.var(name, (2,))
    text = sg.to_dot(sg.tanh(x), caption=name)
    text.encode("utf-8")                                  # no lone surrogate left
    assert escape.is_clean(text.replace("\n", ""))


@needs_dot
@pytest.mark.parametrize("name", HOSTILE)
def test_svg_is_well_formed_xml(name, tmp_path):
    x = sg.var(name, (2,))
    y = sg.tanh(x)
    path = sg.render(y, str(tmp_path / "g.svg"), names={y: name})
    ET.fromstring(open(path, encoding="utf-8").read())    # raises on ill-formed XML


def test_control_characters_are_shown_not_dropped():
    assert escape.clean("a\x1bb\x00") == "a\u241bb\u2400"
    assert escape.clean("x\ud800") == "x\ufffd"
    assert escape.html_text('<a href="x">') == "&lt;a href=&quot;x&quot;&gt;"
    assert "</script>" not in escape.json_text({"s": "</script><script>"})


@needs_dot
def test_a_label_over_graphvizs_limit_is_shortened_and_the_node_named(tmp_path):
    x = sg.var("x" * 20_000, (2,))
    y = sg.tanh(x, name_="short")
    with pytest.warns(RuntimeWarning, match=r"shortened: n0 \(xxxx.*test_render_escape.py:"):
        path = sg.render(y, str(tmp_path / "g.svg"))
    root = ET.fromstring(open(path, encoding="utf-8").read())
    assert any("short" in (t.text or "") for t in root.iter("{http://www.w3.org/2000/svg}text"))
