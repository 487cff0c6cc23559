"""Shared fixtures for the core's tests."""
from __future__ import annotations

import numpy as np
import pytest

# The rendering tests' --update-golden option and golden fixture (tests/render_plugin.py).
pytest_plugins = ["render_plugin"]


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh generator with a fixed seed, so every test sees the same numbers every run."""
    return np.random.default_rng(20261122)
