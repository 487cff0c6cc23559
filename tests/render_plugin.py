"""pytest plugin for the rendering tests: the ``--update-golden`` option and a ``golden``
fixture that compares DOT text with tests/golden/<name>.dot (or rewrites the file).

Registered from tests/conftest.py (``pytest_plugins``); ``SYMGRAPH_UPDATE_GOLDEN=1`` in the
environment does the same as the option.
"""
from __future__ import annotations

import os
import pathlib
from typing import Callable

import pytest

GOLDEN_DIR = pathlib.Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/*.dot from the current drawings")


def _updating(config: pytest.Config) -> bool:
    try:
        flag = config.getoption("--update-golden")
    except ValueError:  # the plugin was loaded too late to add its option
        flag = False
    return bool(flag) or os.environ.get("SYMGRAPH_UPDATE_GOLDEN") == "1"


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """``golden(name, text)``: assert ``text`` equals the stored golden file ``name.dot``."""
    update = _updating(request.config)

    def check(name: str, text: str) -> None:
        path = GOLDEN_DIR / f"{name}.dot"
        if update:
            GOLDEN_DIR.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), (f"no golden file {path.name}; run pytest with "
                               "--update-golden and review the new file")
        expected = path.read_text(encoding="utf-8")
        assert text == expected, (f"{path.name} differs from the drawing; if the change is "
                                  "intended, rerun with --update-golden and review the diff")
    return check
