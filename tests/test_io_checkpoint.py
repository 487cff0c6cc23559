"""Training checkpoints: N steps + resume + N steps is bit-for-bit 2N steps straight (SGD,
momentum, Adam; dropout and a learning-rate schedule on), whether training stopped on
purpose or crashed; checkpoints are written atomically and refuse the wrong model."""
from __future__ import annotations

import os

import numpy as np
import pytest

import symgraph as sg
from symgraph import nn, optim
from symgraph import train as training

OPTIMIZERS = {
    "sgd": lambda: optim.SGD(optim.LinearAnnealing(0.2, 0.02, 20)),
    "momentum": lambda: optim.Momentum(optim.ExponentialDecay(0.1, 0.5, 10), alpha=0.9),
    "adam": lambda: optim.Adam(optim.LinearAnnealing(0.01, 0.001, 15)),
    "nesterov": lambda: optim.Nesterov(0.05, alpha=0.8),
    "rmsprop": lambda: optim.RMSProp(optim.ExponentialDecay(0.01, 0.3, 8)),
    "adagrad": lambda: optim.AdaGrad(0.1),
    "adamw": lambda: optim.AdamW(0.01, weight_decay=0.1),
}

_rng = np.random.default_rng(42)
X = _rng.standard_normal((60, 4))
Y = _rng.integers(0, 3, 60)


def build(kind: str, batchnorm: bool = False):
    """A fresh model and training step, built the same way every time (as a new process
    rebuilding its model would)."""
    if batchnorm:      # running averages are state too
        model = nn.Sequential([nn.Dense(4, 8, seed=0, name="d1"), nn.BatchNorm(8, name="bn"),
                               nn.Activation("relu", name="act"), nn.Dropout(0.3, seed=1, name="drop"),
                               nn.Dense(8, 3, seed=2, name="d2")], name="net")
    else:
        model = nn.MLP([4, 8, 3], dropout=0.3, seed=0, name="net")
    x, y = sg.var("x", (None, 4)), sg.var("y", (None,), "int64")
    loss = nn.softmax_cross_entropy(model(x, training=True), y)
    step = optim.step_function([x, y], loss, model.params(), OPTIMIZERS[kind](),
                               extra_updates=model.state_updates(),
                               clip_norm=1.0 if kind == "adamw" else None)
    return model, step


def values(step) -> list:
    return [np.copy(p.value) for p in step.user_graph.params]


def assert_same(a: list, b: list) -> None:
    assert len(a) == len(b)
    for u, v in zip(a, b):
        assert u.dtype == v.dtype and np.array_equal(u, v)   # bit for bit, not close


FIT = dict(epochs=3, batch_size=8, seed=5)     # 8 steps an epoch, 24 in all


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_stop_and_resume_is_bit_identical_to_training_straight(kind, tmp_path):
    _, straight = build(kind)
    h_straight = training.fit(straight, [X, Y], **FIT)
    path = tmp_path / "run.sgz"
    _, first = build(kind)
    training.fit(first, [X, Y], checkpoint=path, every=5, steps=12, **FIT)
    assert not all(np.array_equal(a, b) for a, b in zip(values(first), values(straight)))
    _, second = build(kind)                       # fresh parameters, as after a restart
    h = training.fit(second, [X, Y], checkpoint=path, every=5, resume=True, **FIT)
    assert_same(values(second), values(straight))
    assert h.step_loss == h_straight.step_loss and h.epoch_loss == h_straight.epoch_loss
    # the dropout counter and the optimiser's step counter moved on as one run would
    counters = {p.name: int(p.value) for p in second.user_graph.params if p.shape == ()}
    assert counters["step"] == 24 and counters["counter"] == 24


@pytest.mark.parametrize("kind", ["adam", "sgd"])
def test_resume_after_a_crash_from_the_last_checkpoint(kind, tmp_path):
    batchnorm = kind == "sgd"
    _, straight = build(kind, batchnorm)
    training.fit(straight, [X, Y], **FIT)
    path = tmp_path / "run.sgz"
    _, first = build(kind, batchnorm)
    calls = [0]

    def crashing(*batch):
        calls[0] += 1
        if calls[0] == 14:
            raise KeyboardInterrupt("power cut")
        return first(*batch)

    with pytest.raises(KeyboardInterrupt):
        training.fit(crashing, [X, Y], checkpoint=path, every=5,
                     params=first.user_graph.params, **FIT)
    _, second = build(kind, batchnorm)
    training.fit(second, [X, Y], checkpoint=path, every=5, resume=True, **FIT)
    assert_same(values(second), values(straight))


def test_resume_across_an_epoch_end_with_validation_and_patience(tmp_path):
    def run(path=None, **kw):
        model, step = build("momentum")
        x, y = sg.var("x", (None, 4)), sg.var("y", (None,), "int64")
        val = sg.function([x, y], nn.softmax_cross_entropy(model(x), y))
        h = training.fit(step, [X, Y], epochs=6, batch_size=20, seed=1,
                         validate=lambda: val(X[:20], Y[:20]), patience=10,
                         params=model.params(), checkpoint=path, **kw)
        return step, h
    straight, h1 = run()
    path = tmp_path / "run.sgz"
    run(path, steps=9)                     # 3 steps an epoch: stops at an epoch's end
    resumed, h2 = run(path, resume=True)
    assert_same(values(resumed), values(straight))
    assert h2.val_loss == h1.val_loss and h2.best_epoch == h1.best_epoch


def test_resume_without_a_checkpoint_starts_and_writes_one(tmp_path):
    path = tmp_path / "fresh.sgz"
    _, step = build("sgd")
    training.fit(step, [X, Y], epochs=1, batch_size=30, checkpoint=path, resume=True)
    assert path.exists()
    state = sg.load(path).named["training_state"]
    assert state["loop"]["steps"] == 2


def test_a_checkpoint_refuses_another_model(tmp_path):
    path = tmp_path / "run.sgz"
    _, step = build("sgd")
    training.fit(step, [X, Y], epochs=1, batch_size=30, checkpoint=path)
    _, other = build("adam")           # more state parameters
    with pytest.raises(sg.FormatError, match="parameters"):
        training.fit(other, [X, Y], epochs=1, batch_size=30, checkpoint=path, resume=True)
    x = sg.var("x", (None, 4))
    w = sg.param(np.zeros((4, 3)), name="W")
    other_step = sg.function([x, sg.var("y", (None,), "int64")], [sg.sum(x @ w)],
                             updates={w: w + 1.0})
    with pytest.raises(sg.FormatError):
        training.fit(other_step, [X, Y], epochs=1, checkpoint=path, resume=True)


def test_a_checkpoint_refuses_other_data_or_batches(tmp_path):
    path = tmp_path / "run.sgz"
    _, step = build("sgd")
    training.fit(step, [X, Y], epochs=1, batch_size=30, checkpoint=path, steps=1)
    with pytest.raises(ValueError, match="batch_size"):
        training.fit(step, [X, Y], epochs=1, batch_size=20, checkpoint=path, resume=True)
    with pytest.raises(ValueError, match="same data"):
        training.fit(step, [X[:50], Y[:50]], epochs=1, batch_size=30, checkpoint=path,
                     resume=True)


def test_a_crash_while_saving_leaves_the_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "run.sgz"
    _, step = build("sgd")
    training.fit(step, [X, Y], epochs=1, batch_size=30, checkpoint=path)
    before = path.read_bytes()

    def broken_fsync(fd):
        raise OSError("disk full")
    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        training.fit(step, [X, Y], epochs=1, batch_size=30, checkpoint=path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.sgz"]   # no temporary left


def test_checkpoint_needs_the_state():
    with pytest.raises(ValueError, match="training state"):
        training.fit(lambda a: 0.0, [np.zeros(3)], checkpoint="x.sgz")
    with pytest.raises(ValueError, match="checkpoint"):
        training.fit(lambda a: 0.0, [np.zeros(3)], resume=True)
