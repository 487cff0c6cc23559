"""Cold start: in a fresh Python process, the time from building the MLP expression
(784-256-256-10, naive softmax cross-entropy, gradients, SGD updates) to the first result
of the compiled training step. Importing NumPy and symgraph is timed apart.

Runs several fresh processes and prints the median (target < 0.3 s).

With ``--fused-cache`` it measures what the fused kernels' disk cache does to start-up, on a
chain of elementwise ops on shape (8,) (``--ops``, default 1,000), in the default fusion mode
("auto"), each run in a fresh empty ``SYMGRAPH_CACHE_DIR``:

1. empty cache: import + build + first call (the cold start: no Numba, no llvmlite); the
   process then waits for its background kernels and their native copies (untimed);
2. warm cache: a second process, import + build + first call, the tier its first call ran
   on and whether Numba was imported (``runtime/fused_native.py``: llvmlite only);
3. warm cache with ``SYMGRAPH_NATIVE_KERNELS=off``: Numba's cache alone (the behaviour
   before the native cache: the first calls run on NumPy while Numba loads).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_cold_start.py [--runs 5]
        [--fused-cache] [--ops 1000]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

_CHILD = r"""
import json, os, sys, time
t0 = time.perf_counter()
import numpy as np
import symgraph as sg
t1 = time.perf_counter()
sys.path.insert(0, {bench_dir!r})
from mlp_common import batch, compiled_step, initial_params
values = initial_params("float32")
x, labels = batch("float32")
t2 = time.perf_counter()
step = compiled_step(values, "float32")
t3 = time.perf_counter()
loss = float(step(x, labels))
t4 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "build_compile": t3 - t2, "first_call": t4 - t3,
                  "cold": t4 - t2, "loss": loss}}))
"""


# A chain like bench_dispatch's: add, tanh, multiply, subtract, exp(-a) on shape (8,).
_CHAIN = r"""
import json, os, sys, time
t0 = time.perf_counter()
import numpy as np
import symgraph as sg
from symgraph.runtime import fused
t1 = time.perf_counter()
x, y = sg.var("x", (8,)), sg.var("y", (8,))
a, count, k = x, 0, 0
while count < {ops}:
    a = [a + y, sg.tanh(a), a * y, a - y, sg.exp(-a)][k % 5]
    count += 2 if k % 5 == 4 else 1
    k += 1
f = sg.function([x, y], a)
t2 = time.perf_counter()
xv, yv = np.linspace(-1, 1, 8), np.linspace(0, 1, 8)
tier = f._tiers.tier if f._tiers else "numpy"
out = f(xv, yv)
t3 = time.perf_counter()
seen = dict(numba="numba" in sys.modules, llvmlite="llvmlite" in sys.modules)
if sys.argv[1] == "first":
    fused.wait(f)          # the background kernels and their native copies, for process 2
ref = sg.function([x, y], a, fusion="off")(xv, yv)
print(json.dumps(dict(seen, import_=t1 - t0, build=t2 - t1, first_call=t3 - t2,
                      total=t3 - t0, cold=t3 - t1, tier=tier,
                      origin=f._tiers.origin if f._tiers else "",
                      error=float(np.max(np.abs(out - ref))))))
"""


def _chain_run(code: str, which: str, env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", code, which], capture_output=True, text=True,
                         env=env, check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def fused_cache(runs: int, ops: int) -> None:
    """The three processes of the module docstring, ``runs`` times, each with a new cache."""
    code = _CHAIN.format(ops=ops)
    rows: dict[str, list[dict]] = {"empty cache": [], "warm cache": [],
                                   "warm, native off": []}
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, OPENBLAS_NUM_THREADS="1", SYMGRAPH_CACHE_DIR=cache)
            env.pop("SYMGRAPH_FUSION", None)
            env.pop("SYMGRAPH_NATIVE_KERNELS", None)
            rows["empty cache"].append(_chain_run(code, "first", env))
            # the two warm processes in alternating order: neither always runs first
            warm = [("warm cache", env), ("warm, native off",
                                          dict(env, SYMGRAPH_NATIVE_KERNELS="off"))]
            for name, e in (warm if _ % 2 == 0 else warm[::-1]):
                rows[name].append(_chain_run(code, "second", e))
    print(f"fused-kernel disk cache, chain of {ops} ops on shape (8,), fusion auto "
          f"(medians of {runs} fresh processes; build+first call excludes the imports):")
    for name, rs in rows.items():
        med = {k: statistics.median(r[k] for r in rs) for k in
               ("import_", "build", "first_call", "cold", "total")}
        tiers = sorted({r["tier"] + (" (native)" if r["origin"] else "") for r in rs})
        print(f"  {name:<17} import {med['import_']:.3f} s, build+compile {med['build']:.3f} s, "
              f"first call {med['first_call'] * 1e3:.2f} ms, build to first result "
              f"{med['cold']:.3f} s, from the first import {med['total']:.3f} s; first call "
              f"on the {'/'.join(tiers)} tier; numba imported "
              f"{sum(r['numba'] for r in rs)}/{runs}, llvmlite "
              f"{sum(r['llvmlite'] for r in rs)}/{runs}; max |error| vs NumPy "
              f"{max(r['error'] for r in rs):.1e}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--fused-cache", action="store_true")
    ap.add_argument("--ops", type=int, default=1000)
    args = ap.parse_args()
    if args.fused_cache:
        fused_cache(args.runs, args.ops)
        return
    bench_dir = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    results = []
    for _ in range(args.runs):
        out = subprocess.run([sys.executable, "-c", _CHILD.format(bench_dir=bench_dir)],
                             capture_output=True, text=True, env=env, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    med = {k: statistics.median(r[k] for r in results) for k in results[0] if k != "loss"}
    print(f"cold start (median of {args.runs} fresh processes): build+compile "
          f"{med['build_compile']:.3f} s, first call {med['first_call']:.3f} s, "
          f"build to first result {med['cold']:.3f} s (imports {med['import']:.3f} s apart)")


if __name__ == "__main__":
    main()
