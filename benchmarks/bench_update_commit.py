"""The cost of all-or-nothing updates: the MLP training step ratio (compiled step /
hand-written NumPy step, as bench_train_step) of this tree against another tree (the code
before the spare-buffer commit), measured in one run.

Each tree runs in its own worker process (two versions of one package cannot share a
process); the driver asks them for a round each, in rotated order (A B, B A, ...), and
each round's ratio is against the NumPy step timed in the same worker and round. Medians
of the per-round ratios are printed.

    git archive becad2c | (mkdir -p /tmp/sg_before && tar -x -C /tmp/sg_before)
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_update_commit.py --before /tmp/sg_before
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = r"""
import sys, time
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2])
from mlp_common import batch, compiled_step, initial_params, numpy_step
dtype, reps = sys.argv[3], int(sys.argv[4])
start = initial_params(dtype); x, labels = batch(dtype)
step = compiled_step(start, dtype); hand = [p.copy() for p in start]
step(x, labels); numpy_step(hand, x, labels)
for line in sys.stdin:
    t0 = time.perf_counter()
    for _ in range(reps): step(x, labels)
    t1 = time.perf_counter()
    for _ in range(reps): numpy_step(hand, x, labels)
    t2 = time.perf_counter()
    print((t1 - t0) / (t2 - t1), flush=True)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True, help="root of the tree to compare against")
    ap.add_argument("--after", default=None, help="root of the tree to measure (this one)")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--dtype", default="float32")
    args = ap.parse_args()
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    trees = {"before": os.path.abspath(args.before),
             "after": os.path.abspath(args.after or os.path.dirname(HERE))}
    workers = {name: subprocess.Popen([sys.executable, "-c", WORKER, root, HERE, args.dtype,
                                       str(args.reps)], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True, env=env)
               for name, root in trees.items()}
    ratios: dict[str, list[float]] = {name: [] for name in trees}
    order = list(trees)
    for r in range(args.rounds):
        for name in (order if r % 2 == 0 else order[::-1]):
            w = workers[name]
            w.stdin.write("go\n")
            w.stdin.flush()
            ratios[name].append(float(w.stdout.readline()))
    for w in workers.values():
        w.stdin.close()
        w.wait()
    med = {name: statistics.median(v) for name, v in ratios.items()}
    print(f"train_step {args.dtype} ratio to NumPy: before {med['before']:.3f}, after "
          f"{med['after']:.3f}, change {100 * (med['after'] / med['before'] - 1):+.1f}% "
          f"({args.rounds} rounds x {args.reps}, rotated)")


if __name__ == "__main__":
    main()
