"""A training loop around a compiled step: mini-batches, a progress bar, loss history and
early stopping; a loss-curve plot when matplotlib is installed.

The step is any callable taking one batch of each data array and returning the loss (or a
list whose first entry is the loss), e.g. ``symgraph.optim.step_function(...)``.
``batch_size=1`` is online SGD, ``None`` full-batch, anything between mini-batch.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import numpy as np
from symgraph.errors import ArgumentError


@dataclass
class History:
    """What ``fit`` saw: mean loss per epoch, loss per step and the validation scores."""

    epoch_loss: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: Optional[int] = None
    stopped_early: bool = False


def _loss_of(out: Any) -> float:
    if isinstance(out, (list, tuple)):
        out = out[0]
    return float(np.asarray(out))


def _progress(total: int, enabled: bool):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:   # optional extra: fall back to one printed line per epoch
        return None
    return tqdm(total=total, unit="epoch", leave=False)


def fit(step: Callable[..., Any], data: Sequence[np.ndarray], epochs: int = 1,
        batch_size: Optional[int] = None, shuffle: bool = True, seed: int = 0,
        validate: Optional[Callable[[], float]] = None, patience: Optional[int] = None,
        min_delta: float = 0.0, params: Sequence[Any] = (), progress: bool = False,
        log_every: int = 0) -> History:
    """Run ``epochs`` passes of ``step`` over ``data`` (arrays with one row per example).

    ``validate`` returns a score to minimise after each epoch; with ``patience``, training
    stops once it has not improved by ``min_delta`` for that many epochs, and the values of
    ``params`` from the best epoch are restored.
    """
    n = len(data[0])
    if any(len(a) != n for a in data):
        raise ArgumentError(f"fit: data arrays differ in length: {[len(a) for a in data]}")
    size = n if batch_size is None else int(batch_size)
    if size < 1:
        raise ArgumentError(f"fit: batch_size must be positive, got {batch_size}")
    rng = np.random.default_rng(seed)
    history = History()
    best, best_values, waited = math.inf, None, 0
    bar = _progress(epochs, progress)
    for epoch in range(epochs):
        order = rng.permutation(n) if shuffle else np.arange(n)
        losses = []
        for start in range(0, n, size):
            idx = order[start:start + size]
            losses.append(_loss_of(step(*[a[idx] for a in data])))
        history.step_loss.extend(losses)
        history.epoch_loss.append(float(np.mean(losses)))
        message = f"epoch {epoch + 1}/{epochs} loss {history.epoch_loss[-1]:.5f}"
        if validate is not None:
            score = float(validate())
            history.val_loss.append(score)
            message += f" val {score:.5f}"
            if score < best - min_delta:
                best, waited, history.best_epoch = score, 0, epoch
                best_values = [np.copy(p.value) for p in params]
            else:
                waited += 1
        if bar is not None:
            bar.set_postfix_str(message.split(" ", 2)[2])
            bar.update(1)
        elif progress or (log_every and (epoch + 1) % log_every == 0):
            print(message)
        if patience is not None and validate is not None and waited >= patience:
            history.stopped_early = True
            break
    if bar is not None:
        bar.close()
    if history.stopped_early and best_values is not None:
        for p, v in zip(params, best_values):
            p.value = v
    return history


def plot_history(history: History, path: str, title: str = "training loss") -> bool:
    """Write the loss curves to ``path`` (PNG/SVG by extension); False without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(range(1, len(history.epoch_loss) + 1), history.epoch_loss, label="train")
    if history.val_loss:
        ax.plot(range(1, len(history.val_loss) + 1), history.val_loss, label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True
