"""Golden DOT files for the textbook's figures (tests/golden/*.dot).

The files are reviewed like code. After an intended change to the drawings, regenerate
them with ``python -m pytest tests/test_render_golden.py --update-golden`` and read the
diff before committing.
"""
from __future__ import annotations

import os

import pytest

import render_figures


@pytest.mark.parametrize("name", sorted(render_figures.FIGURES))
def test_figure_matches_its_golden_file(name, golden):
    golden(name, render_figures.FIGURES[name]().dot)


@pytest.mark.parametrize("name", sorted(render_figures.FIGURES))
def test_figure_is_machine_independent(name):
    dot = render_figures.FIGURES[name]().dot
    assert os.getcwd() not in dot and os.path.expanduser("~") not in dot
    assert ".py:" not in dot      # no source locations in golden drawings
