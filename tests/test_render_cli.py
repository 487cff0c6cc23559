"""The command line (issue 9, defect 12): every mistake is one clear line and exit status 2,
never a traceback; ``python -m symgraph`` alone prints help; ``--version``; options given on
the command line always apply (issue 13)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from symgraph.__main__ import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(
        "import numpy as np\nimport symgraph as sg\n"
        "x = sg.var('x', shape=(None, 2))\n"
        "W = sg.param(np.ones((2, 2)), name='W')\n"
        "h = sg.tanh(x @ W)\n"
        "loss = (h * h + h * h).sum()\n"
        "step = sg.function([x], loss)\n"
        "model = sg.nn.MLP([2, 3, 1])\n"
        "view = sg.gradient_view(loss, W)\n"
        "def build(n):\n    return loss\n", encoding="utf-8")
    return path


def _one_line_error(capsys, *words: str) -> None:
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("symgraph render: ") and "\n" not in err, err
    assert "Traceback" not in captured.err
    for word in words:
        assert word in err, err


@pytest.mark.parametrize("make_args, words", [
    (lambda s, t: [str(t), "-o", str(t / "g.svg")], ["expected MODULE_OR_FILE:NAME"]),
    (lambda s, t: [f"{t}:loss", "-o", str(t / "g.svg")], ["is a folder"]),
    (lambda s, t: [f"{s}:loss", "-o", str(t / "missing" / "g.svg")], ["does not exist"]),
    (lambda s, t: [f"{s}:loss", "-o", str(t)], ["is a folder"]),
    (lambda s, t: [f"{s}:build", "-o", str(t / "g.svg")], ["needs arguments (n)"]),
    (lambda s, t: [f"{s}:model", "-o", str(t / "g.svg")], ["Sequential, not a graph"]),
    (lambda s, t: [f"{s}:loss", "-o", str(t / "g.dot"), "--view", "optimization"],
     ["needs a compiled sg.function"]),
    (lambda s, t: [f"{s}:loss", "-o", str(t / "g.dot"), "--size", "big"], ["size must be"]),
    (lambda s, t: [f"{s}:step", "-o", str(t / "g.dot"), "--view", "optimization",
                   "--style", "units"], ["not 'units'"]),
])
def test_command_line_mistakes_are_one_line_and_status_2(script, tmp_path, capsys,
                                                         make_args, words):
    assert main(["render", *make_args(script, tmp_path)]) == 2
    _one_line_error(capsys, *words)


def test_options_apply_to_a_finished_view(script, tmp_path):
    # Regression: --style/--budget were dropped when the target was already a drawing.
    out = tmp_path / "v.dot"
    assert main(["render", f"{script}:view", "-o", str(out), "--budget", "3"]) == 0
    assert "above the budget of 3" in out.read_text(encoding="utf-8")
    assert main(["render", f"{script}:view", "-o", str(out), "--style", "expr"]) == 0
    assert "u(1)" in out.read_text(encoding="utf-8")
    assert main(["render", f"{script}:loss", "-o", str(out), "--view", "gradient",
                 "--size", "4,3"]) == 0
    text = out.read_text(encoding="utf-8")
    assert 'size="4,3"' in text and "gradient" in text


def _run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "symgraph", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=120)


def test_no_arguments_prints_help_without_rst_marks():
    done = _run()
    assert done.returncode == 0
    assert "usage: symgraph" in done.stdout and "render" in done.stdout
    assert "truth table" in done.stdout         # it lists demo, but does not run it
    assert "``" not in done.stdout
    sub = _run("render", "--help")
    assert sub.returncode == 0 and "``" not in sub.stdout and ".html" in sub.stdout


def test_version():
    import symgraph
    done = _run("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"symgraph {symgraph.__version__}"
