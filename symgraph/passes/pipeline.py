"""The order the compiler runs its passes in, and nothing else."""
from __future__ import annotations

import time
from typing import Callable, Sequence

from symgraph.graph import Node
from symgraph.passes.cse import cse
from symgraph.passes.provenance import PassResult, compose

Pass = Callable[[Sequence[Node]], PassResult]

PASSES: list[tuple[str, Pass]] = [
    ("cse", cse),
]


def optimize(outputs: Sequence[Node]) -> tuple[PassResult, list[tuple[str, float]]]:
    """Run every pass in order; returns the composed result and (name, seconds) per pass."""
    result = None
    timings = []
    current = tuple(outputs)
    for name, fn in PASSES:
        start = time.perf_counter()
        step = fn(current)
        timings.append((name, time.perf_counter() - start))
        result = step if result is None else compose(result, step)
        current = step.outputs
    return result, timings
