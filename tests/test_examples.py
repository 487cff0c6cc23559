"""The examples' claims, asserted at small sizes with fixed seeds."""
from __future__ import annotations

import os
import subprocess
import sys

import importlib.util

import numpy as np
import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
sys.path.insert(0, EXAMPLES)

import hessian_spectrum  # noqa: E402
import optimizers_compared  # noqa: E402
import universal_approximation  # noqa: E402
import xor  # noqa: E402

# find_spec, not importorskip: importing scikit-learn itself takes seconds, and the examples
# only read the data file it ships
needs_sklearn = pytest.mark.skipif(importlib.util.find_spec("sklearn") is None,
                                   reason="the digits examples need scikit-learn")


def test_xor_relu_solution_is_exact():
    np.testing.assert_array_equal(xor.relu_solution(), [0.0, 1.0, 1.0, 0.0])


def test_xor_sigmoid_construction_with_large_weights():
    out = xor.sigmoid_construction(a=20.0, b=20.0)
    np.testing.assert_allclose(out, [0.0, 1.0, 1.0, 0.0], atol=1e-3)
    # small weights blur the steps: the construction needs a, b >> 0
    assert np.max(np.abs(xor.sigmoid_construction(a=1.0, b=1.0) - [0, 1, 1, 0])) > 0.4


def test_xor_trains_from_random_init_to_full_accuracy():
    result = xor.main(small=True)
    assert result["accuracy"] == 1.0
    assert result["losses"][-1] < 0.05 < result["losses"][0]


def test_xor_runs_as_a_script():
    out = subprocess.run([sys.executable, os.path.join(EXAMPLES, "xor.py")], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    assert "accuracy 100%" in out and "exact ReLU network" in out


def test_universal_approximation_error_falls_with_width():
    errors = universal_approximation.main(small=True)["errors"]
    values = [errors[w] for w in sorted(errors)]
    assert all(a > b for a, b in zip(values, values[1:])), errors
    assert values[-1] < values[0] / 4


@needs_sklearn
def test_digits_mlp_with_l2_and_dropout_reaches_95_percent():
    import digits_mlp
    result = digits_mlp.main(small=True)
    assert result["test_accuracy"] >= 0.95, result["test_accuracy"]
    assert result["history"].epoch_loss[-1] < result["history"].epoch_loss[0] / 3


@needs_sklearn
def test_digits_cnn_learns():
    import digits_cnn
    result = digits_cnn.main(small=True)
    assert result["test_accuracy"] >= 0.93, result["test_accuracy"]


def test_optimisers_compared_newton_cg_beats_adam_in_far_fewer_steps():
    results = optimizers_compared.main(small=True)
    for name, r in results.items():
        assert r["curve"][-1] < r["curve"][0] / 5, name
    newton, adam = results["Newton-CG"], results["Adam"]
    assert len(newton["curve"]) * 10 < len(adam["curve"])
    assert newton["curve"][-1] < adam["curve"][-1]


def test_hessian_spectrum_saddle_at_init_minimum_after_training():
    result = hessian_spectrum.main(small=True)
    before, after = result["before"], result["after"]
    for s in (before, after):   # Lanczos finds the extremes of the full eigendecomposition
        assert np.isclose(s["lanczos_min"], s["exact_min"], rtol=1e-4, atol=1e-8)
        assert np.isclose(s["lanczos_max"], s["exact_max"], rtol=1e-6)
    assert before["saddle"] and not after["saddle"]
    assert after["loss"] < before["loss"] / 100


def test_demo_trains_xor_prints_the_truth_table_and_writes_svgs(tmp_path, capsys):
    import shutil

    from symgraph.demo import run_demo
    assert run_demo(str(tmp_path), steps=300) == 0
    out = capsys.readouterr().out
    assert "accuracy 100%" in out and "x1 x2 | p(y=1)" in out
    if shutil.which("dot"):
        written = sorted(p.name for p in tmp_path.iterdir())
        assert "xor_forward.svg" in written and "xor_gradient.svg" in written
        for name in written:
            assert (tmp_path / name).read_text().lstrip().startswith(("<?xml", "<svg"))


def test_perceptron_learns_and_or_but_never_xor():
    import perceptron
    results = perceptron.main(small=True, epochs=50)
    for name in ("AND", "OR"):
        assert results[name]["epochs"] > 0
        np.testing.assert_array_equal(results[name]["predictions"], perceptron.TARGETS[name])
    assert results["XOR"]["epochs"] == -1


@needs_sklearn
def test_dask_training_learns_digits_on_a_local_cluster():
    pytest.importorskip("dask.array")
    pytest.importorskip("distributed")
    import dask_training
    result = dask_training.main(small=True)
    assert result["test_accuracy"] >= 0.9, result["test_accuracy"]
    assert result["history"].epoch_loss[-1] < result["history"].epoch_loss[0] / 3
