"""Timing rounds shared by every benchmark: contenders run in a rotated order each round,
and figures are medians of per-round ratios with their p10-p90 spread.

On a shared, noisy machine the contender that runs first (or right after another) in a
round pays for caches and frequency changes the others do not; running them in the same
fixed order every round biased a ratio by up to 25%. Rotating the order spreads that cost
over all of them, and a ratio taken within one round cancels the slow drifts between
rounds.

    from rounds import run_rounds, summary
    res = run_rounds({"symgraph": f, "numpy": g}, rounds=30, reps=5)
    print(summary(res, reference="numpy"))
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable, Optional


@dataclass(frozen=True)
class Rounds:
    """Seconds per call of each contender, one entry per round (in round order)."""

    times: dict[str, list[float]]

    def median(self, name: str) -> float:
        return statistics.median(self.times[name])

    def ratios(self, name: str, reference: str) -> list[float]:
        """Per-round ratios ``name / reference`` (same round, so the same machine state)."""
        return [a / b for a, b in zip(self.times[name], self.times[reference])]

    def ratio(self, name: str, reference: str) -> "Spread":
        return spread(self.ratios(name, reference))


@dataclass(frozen=True)
class Spread:
    """The median of some values and their 10th and 90th percentiles."""

    median: float
    p10: float
    p90: float

    def __str__(self) -> str:
        return f"{self.median:.3f} (p10-p90 {self.p10:.3f}-{self.p90:.3f})"


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0..100), linear between closest ranks."""
    s = sorted(values)
    if len(s) == 1:
        return s[0]
    pos = (len(s) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def spread(values: list[float]) -> Spread:
    return Spread(statistics.median(values), percentile(values, 10), percentile(values, 90))


def time_call(fn: Callable[[], object], reps: int) -> float:
    """Seconds per call of ``fn`` over ``reps`` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - start) / reps


def run_rounds(contenders: dict[str, Callable[[], object]], rounds: int, reps: int = 1,
               warmup: int = 1,
               before_round: Optional[Callable[[int], None]] = None) -> Rounds:
    """Time every contender once per round, starting round ``r`` at contender ``r mod n``.

    ``before_round(r)`` runs untimed first (e.g. to draw this round's data).
    """
    names = list(contenders)
    for fn in contenders.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {k: [] for k in names}
    for r in range(rounds):
        if before_round is not None:
            before_round(r)
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(time_call(contenders[name], reps))
    return Rounds(times)


def summary(res: Rounds, reference: str, unit: float = 1e3, unit_name: str = "ms",
            indent: str = "  ") -> str:
    """One line per contender: median time and the median per-round ratio to ``reference``."""
    lines = []
    for name in res.times:
        line = f"{indent}{name:<24} {res.median(name) * unit:10.3f} {unit_name}"
        if name != reference:
            line += f"   ratio to {reference} {res.ratio(name, reference)}"
        lines.append(line)
    return "\n".join(lines)
