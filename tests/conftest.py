"""Shared fixtures for the core's tests."""
from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import settings

# The rendering tests' --update-golden option and golden fixture (tests/render_plugin.py).
pytest_plugins = ["render_plugin"]

# Property tests draw the same examples on every run and machine (derandomize), so a CI
# failure reproduces locally and the suite never flakes; no deadline (CI machines are
# shared), and few examples unless a test asks for more. HYPOTHESIS_PROFILE=explore
# searches with fresh random examples instead.
settings.register_profile("symgraph", derandomize=True, deadline=None, max_examples=25,
                          database=None, print_blob=True)
settings.register_profile("explore", deadline=None, max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "symgraph"))

# Elementwise fusion (runtime/fused.py) stays off in tests unless asked for:
# SYMGRAPH_FUSION=force runs every compiled graph on fused Numba kernels.
os.environ.setdefault("SYMGRAPH_FUSION", "off")


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh generator with a fixed seed, so every test sees the same numbers every run."""
    return np.random.default_rng(20261122)


@pytest.fixture(autouse=True)
def _seeded_layers():
    """Layers draw initial weights from the package generator: restart it for every test,
    so a test's weights do not depend on which tests ran before it."""
    import symgraph as sg
    sg.random.seed(0)
    yield


def pytest_collection_modifyitems(config, items):
    """Skip op-table cases whose kernels need an optional extra that is not installed."""
    import importlib.util
    for item in items:
        case = getattr(item, "callspec", None) and item.callspec.params.get("case")
        missing = [m for m in getattr(case, "needs", ()) if importlib.util.find_spec(m) is None]
        if missing:
            item.add_marker(pytest.mark.skip(reason=f"needs the optional {', '.join(missing)} "
                                                    f"(pip install symgraph[all])"))
