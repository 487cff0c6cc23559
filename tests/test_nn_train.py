"""The training loop helper: batching, history, early stopping with restore, plotting."""
from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from symgraph import optim, train as training


def linear_problem(lr: float = 0.1):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 2))
    Y = X @ np.array([1.5, -0.5]) + 0.25
    x, y = sg.var("x", (None, 2)), sg.var("y", (None,))
    w, b = sg.param(np.zeros(2), name="w"), sg.param(0.0, name="b")
    loss = sg.nn.mse(x @ w + b, y)
    step = optim.step_function([x, y], loss, [w, b], optim.SGD(lr))
    return step, X, Y, w, b, sg.function([x, y], loss)


def test_batch_sizes_give_online_minibatch_and_full_batch_steps():
    seen = []
    step = lambda a, b: seen.append(len(a)) or 0.0
    data = [np.arange(10.0), np.arange(10.0)]
    training.fit(step, data, epochs=1, batch_size=1)
    assert seen == [1] * 10
    seen.clear()
    training.fit(step, data, epochs=1, batch_size=4)
    assert seen == [4, 4, 2]
    seen.clear()
    training.fit(step, data, epochs=2, batch_size=None)
    assert seen == [10, 10]


def test_every_example_is_seen_once_per_epoch_in_a_shuffled_order():
    seen = []
    step = lambda a: seen.extend(a.tolist()) or 0.0
    training.fit(step, [np.arange(12)], epochs=1, batch_size=5, seed=3)
    assert sorted(seen) == list(range(12)) and seen != list(range(12))


def test_history_records_decreasing_loss():
    step, X, Y, w, b, _ = linear_problem()
    history = training.fit(step, [X, Y], epochs=30, batch_size=5)
    assert len(history.epoch_loss) == 30 and len(history.step_loss) == 120
    assert history.epoch_loss[-1] < 1e-3 * history.epoch_loss[0]
    np.testing.assert_allclose(w.value, [1.5, -0.5], atol=1e-2)


def test_early_stopping_restores_the_best_parameters():
    step, X, Y, w, b, loss = linear_problem()
    scores = iter([5.0, 3.0, 4.0, 4.5, 6.0, 1.0])
    snapshots = []

    def validate():
        snapshots.append(w.value.copy())
        return next(scores)

    history = training.fit(step, [X, Y], epochs=6, validate=validate, patience=2, params=[w])
    assert history.stopped_early and len(history.epoch_loss) == 4
    assert history.best_epoch == 1 and history.val_loss == [5.0, 3.0, 4.0, 4.5]
    np.testing.assert_array_equal(w.value, snapshots[1])


def test_mismatched_data_lengths_are_rejected():
    with pytest.raises(ValueError, match="differ in length"):
        training.fit(lambda a, b: 0.0, [np.zeros(3), np.zeros(4)])


def test_plot_history_writes_a_file_when_matplotlib_is_installed(tmp_path):
    history = training.History(epoch_loss=[1.0, 0.5, 0.25], val_loss=[1.1, 0.6, 0.3])
    path = tmp_path / "loss.png"
    wrote = training.plot_history(history, str(path))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert wrote is False and not path.exists()
    else:
        assert wrote is True and path.stat().st_size > 0
