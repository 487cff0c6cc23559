"""A training loop around a compiled step: mini-batches, a progress bar, loss history and
early stopping; a loss-curve plot when matplotlib is installed.

The step is any callable taking one batch of each data array and returning the loss (or a
list whose first entry is the loss), e.g. ``symgraph.optim.step_function(...)``.
``batch_size=1`` is online SGD, ``None`` full-batch, anything between mini-batch.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import numpy as np
from symgraph.errors import ArgumentError

from symgraph.io import checkpoint as checkpoints


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
        log_every: int = 0, checkpoint: Optional[str | os.PathLike] = None,
        every: Optional[int] = None, resume: bool = False,
        steps: Optional[int] = None) -> History:
    """Run ``epochs`` passes of ``step`` over ``data`` (arrays with one row per example).

    ``validate`` returns a score to minimise after each epoch; with ``patience``, training
    stops once it has not improved by ``min_delta`` for that many epochs, and the values of
    ``params`` from the best epoch are restored. ``steps`` stops after that many steps in
    all (counting those done before a resume).

    ``checkpoint="run.sgz"`` saves the training state every ``every`` steps (at the end of
    each epoch when ``every`` is None) and when training ends: every parameter of ``step``'s
    graph (``step`` a compiled function) and of ``params``, and the loop's position, data
    order and history. With ``resume=True`` an existing checkpoint is loaded first and
    training continues exactly where it stopped, as if it had never stopped.
    """
    n = len(data[0])
    if any(len(a) != n for a in data):
        raise ArgumentError(f"fit: data arrays differ in length: {[len(a) for a in data]}")
    size = n if batch_size is None else int(batch_size)
    if size < 1:
        raise ArgumentError(f"fit: batch_size must be positive, got {batch_size}")
    if every is not None and int(every) < 1:
        raise ArgumentError(f"fit: every must be a positive number of steps, got {every}")
    rng = np.random.default_rng(seed)
    history = History()
    loop = _Loop()
    state = None
    if checkpoint is not None:
        state = checkpoints.state_params(step, params)
        if not state:
            raise ArgumentError("fit: a checkpoint needs the training state: pass a compiled "
                             "function (sg.function) as step, or the parameters as params=")
        if resume and os.path.exists(checkpoint):
            loop.restore(checkpoints.load_checkpoint(checkpoint, state), rng, history,
                         os.fspath(checkpoint), [n, size, bool(shuffle)])
    elif resume:
        raise ArgumentError("fit: resume=True needs checkpoint='file'")

    def save() -> None:
        if checkpoint is not None:
            checkpoints.save_checkpoint(checkpoint, state,
                                        loop.dump(rng, history, [n, size, bool(shuffle)]))

    bar = _progress(epochs, progress)
    halted = False          # the ``steps`` budget is spent (a later call may go on)
    while loop.epoch < epochs and not loop.finished and not halted:
        if loop.order is None:
            loop.order = rng.permutation(n) if shuffle else np.arange(n)
        starts = range(0, n, size)
        while loop.batch < len(starts):
            if steps is not None and loop.steps >= steps:
                halted = True
                break
            start = starts[loop.batch]
            idx = loop.order[start:start + size]
            loop.losses.append(_loss_of(step(*[a[idx] for a in data])))
            loop.batch += 1
            loop.steps += 1
            if every is not None and loop.steps % int(every) == 0:
                save()
        if halted:
            break
        _end_epoch(loop, history, epochs, validate, min_delta, params, bar, progress, log_every)
        if patience is not None and validate is not None and loop.waited >= patience:
            history.stopped_early = True
            loop.finished = True
        if every is None and not loop.finished:
            save()
    if bar is not None:
        bar.close()
    save()
    if history.stopped_early and loop.best_values is not None:
        for p, v in zip(params, loop.best_values):
            p.value = v
    return history


def _end_epoch(loop: "_Loop", history: History, epochs: int, validate: Any, min_delta: float,
               params: Sequence[Any], bar: Any, progress: bool, log_every: int) -> None:
    history.step_loss.extend(loop.losses)
    history.epoch_loss.append(float(np.mean(loop.losses)))
    message = f"epoch {loop.epoch + 1}/{epochs} loss {history.epoch_loss[-1]:.5f}"
    if validate is not None:
        score = float(validate())
        history.val_loss.append(score)
        message += f" val {score:.5f}"
        if score < loop.best - min_delta:
            loop.best, loop.waited, history.best_epoch = score, 0, loop.epoch
            loop.best_values = [np.copy(p.value) for p in params]
        else:
            loop.waited += 1
    if bar is not None:
        bar.set_postfix_str(message.split(" ", 2)[2])
        bar.update(1)
    elif progress or (log_every and (loop.epoch + 1) % log_every == 0):
        print(message)
    loop.epoch += 1
    loop.batch = 0
    loop.order = None
    loop.losses = []


@dataclass
class _Loop:
    """Where ``fit`` is: what a checkpoint saves besides the parameters."""

    epoch: int = 0
    batch: int = 0          # batches of this epoch already done
    steps: int = 0          # steps done in all
    order: Optional[np.ndarray] = None
    losses: list[float] = field(default_factory=list)
    best: float = math.inf
    waited: int = 0
    best_values: Optional[list] = None
    finished: bool = False   # stopped early: resuming does not train on

    def dump(self, rng: np.random.Generator, history: History, setup: list) -> dict:
        return {"setup": setup, "epoch": self.epoch, "batch": self.batch, "steps": self.steps,
                "order": self.order, "losses": list(self.losses), "best": self.best,
                "waited": self.waited, "best_values": self.best_values,
                "rng": checkpoints.rng_state(rng),
                "history": {"epoch_loss": list(history.epoch_loss),
                            "step_loss": list(history.step_loss),
                            "val_loss": list(history.val_loss),
                            "best_epoch": history.best_epoch,
                            "stopped_early": history.stopped_early}}

    def restore(self, data: dict, rng: np.random.Generator, history: History, source: str,
                setup: list) -> None:
        """Continue from a checkpoint's loop state; ``setup`` is ``[rows, batch size,
        shuffle]`` of this call, which must be the checkpoint's."""
        saved = data.get("setup")
        if saved != setup:
            raise ArgumentError(f"fit: {source} was written for [rows, batch_size, shuffle] = "
                             f"{saved}, this call has {setup}: resume with the same data "
                             f"and batches")
        try:
            self.epoch, self.batch, self.steps = (int(data["epoch"]), int(data["batch"]),
                                                  int(data["steps"]))
            order = data["order"]
            self.order = None if order is None else np.asarray(order)
            if self.order is not None and (self.order.shape != (setup[0],)
                                           or self.order.dtype.kind not in "iu"
                                           or not np.all((self.order >= 0) & (self.order < setup[0]))):
                raise ValueError("the data order is not a permutation of the rows")
            self.losses = [float(v) for v in data["losses"]]
            self.best, self.waited = float(data["best"]), int(data["waited"])
            best_values = data["best_values"]
            self.best_values = None if best_values is None else list(best_values)
            h = data["history"]
            history.epoch_loss[:] = [float(v) for v in h["epoch_loss"]]
            history.step_loss[:] = [float(v) for v in h["step_loss"]]
            history.val_loss[:] = [float(v) for v in h["val_loss"]]
            history.best_epoch = h["best_epoch"]
            history.stopped_early = bool(h["stopped_early"])
            self.finished = history.stopped_early
            if history.best_epoch is not None:
                history.best_epoch = int(history.best_epoch)
        except (KeyError, TypeError, ValueError) as exc:
            raise checkpoints.FormatError(f"{source}: the checkpoint's loop state is "
                                          f"malformed ({exc!r})") from None
        checkpoints.set_rng_state(rng, data.get("rng"), source)


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
