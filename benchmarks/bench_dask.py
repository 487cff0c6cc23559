"""symgraph.dask on a loopback LocalCluster: loss + gradient of the digits MLP (64-128-10,
ReLU, softmax cross-entropy with L2) over 1M rows that Dask generates lazily in chunks.

1. Speedup of 2 workers over 1 (one thread each): both clusters run side by side, the
   order rotates each round, and the median of the per-round ratios is printed (target
   >= 1.6 on a 2-core machine). An in-process reference (the compiled graph on one chunk
   in this process, in the same pieces as a worker's task, times the number of chunks)
   shows what the work itself costs.
2. Per-step overhead of the distributed path over the local one for a small-batch step
   (64 rows drawn across the chunks, data on the 2-worker cluster), in milliseconds.
3. Memory: what each worker holds (its chunks), and the client's resident memory, which
   does not grow by the data's size (nothing is gathered to the client).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_dask.py [--rows 1000000] [--rounds 5]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import symgraph as sg  # noqa: E402
from symgraph import nn  # noqa: E402


def model_graph():
    model = nn.MLP([64, 128, 10], activation="relu", seed=0, name="mlp")
    x, y = sg.var("x", (None, 64)), sg.var("y", (None,), "int64")
    loss = nn.softmax_cross_entropy(model(x), y) + nn.regularizers.l2(model.weights(), 1e-4)
    return model, x, y, loss, [loss, *sg.grad(loss, model.params())]


def lazy_data(rows: int, chunk: int):
    """Digits-shaped data made by Dask on the workers, chunk by chunk (never on the client)."""
    import dask.array as da
    rng = da.random.default_rng(0)
    X = rng.standard_normal((rows, 64), chunks=(chunk, 64))
    y = rng.integers(0, 10, rows, chunks=chunk)
    return X, y


def rss_mb() -> float:
    import psutil
    return psutil.Process().memory_info().rss / 2**20


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--chunk", type=int, default=62_500)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=40)
    args = ap.parse_args()
    import distributed
    import symgraph.dask as sgd

    client_before = rss_mb()
    clusters, clients, dps = {}, {}, {}
    model, x, y, loss, outs = model_graph()
    for w in (1, 2):
        clusters[w] = distributed.LocalCluster(n_workers=w, threads_per_worker=1,
                                               processes=True, host="127.0.0.1",
                                               dashboard_address=":0")
        clients[w] = distributed.Client(clusters[w], set_as_default=False)
        dps[w] = sgd.DataParallel([x, y], outs, list(lazy_data(args.rows, args.chunk)),
                                  clients[w])
        dps[w]()   # compile on the workers, data made and kept there
    a, b = dps[1](), dps[2]()
    assert all(np.allclose(p, q, rtol=1e-12, atol=1e-12) for p, q in zip(a, b))

    # In-process reference: the same compiled graph on one chunk fetched to this process
    # (32 MB, for the reference only), times the number of chunks.
    X, Y = dps[2].data.arrays
    xb, yb = clients[2].compute([X.blocks[0], Y.blocks[0]], sync=True)
    local = sg.function([x, y], outs)
    local(xb, yb)
    n_chunks = len(dps[2].data.chunks)
    ratios, times = [], {0: [], 1: [], 2: []}
    for r in range(args.rounds):
        for w in ((0, 1, 2), (2, 1, 0), (1, 2, 0))[r % 3]:
            t0 = time.perf_counter()
            if w:
                dps[w]()
            else:   # the same work as a worker's task: pieces of dp.piece rows
                for _ in range(n_chunks):
                    for s in range(0, len(xb), dps[2].piece):
                        local(xb[s:s + dps[2].piece], yb[s:s + dps[2].piece])
            times[w].append(time.perf_counter() - t0)
        ratios.append(times[1][-1] / times[2][-1])
    med = {w: statistics.median(t) for w, t in times.items()}
    print(f"loss + gradient over {args.rows:,} rows in {n_chunks} chunks: in-process "
          f"{med[0]:.3f} s, 1 worker {med[1]:.3f} s, 2 workers {med[2]:.3f} s; "
          f"speedup 2 vs 1 worker (median of per-round ratios) {statistics.median(ratios):.2f}x")

    # per-step overhead: a 64-row batch drawn across all chunks, vs the same batch locally
    rng = np.random.default_rng(1)
    dist_t, local_t = [], []
    for _ in range(args.steps):
        rows = np.sort(rng.choice(args.rows, 64, replace=False))
        xb, yb = clients[2].compute([X[rows], Y[rows]], sync=True)
        t0 = time.perf_counter()
        got = dps[2](rows)
        t1 = time.perf_counter()
        want = local(xb, yb)
        t2 = time.perf_counter()
        dist_t.append(t1 - t0)
        local_t.append(t2 - t1)
        assert np.allclose(got[0], want[0], rtol=1e-12)
    d, l = statistics.median(dist_t) * 1e3, statistics.median(local_t) * 1e3
    print(f"64-row step: distributed {d:.1f} ms, local {l:.2f} ms: overhead {d - l:.1f} ms "
          f"per step ({len(dps[2].data.chunks)} chunk tasks + tree sum + scatter)")

    held = {}
    for addr, keys in clients[2].has_what().items():
        sizes = clients[2].nbytes(summary=False)
        held[addr] = sum(sizes.get(k, 0) for k in keys) / 2**20
    data_mb = args.rows * (64 * 8 + 8) / 2**20
    worker_rss = clients[2].run(rss_mb)
    print(f"data {data_mb:.0f} MB; held by each of 2 workers: "
          + ", ".join(f"{v:.0f} MB" for v in held.values())
          + "; worker resident: " + ", ".join(f"{v:.0f} MB" for v in worker_rss.values())
          + f"; client resident grew {rss_mb() - client_before:.0f} MB")
    for w in (1, 2):
        clients[w].close()
        clusters[w].close()


if __name__ == "__main__":
    main()
