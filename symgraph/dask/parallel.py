"""Data-parallel loss, gradient and Hessian-vector products over data held by a Dask
cluster.

The data stays where it is: ``Sharded`` persists the arrays on the workers in chunks of
rows. A step sends the parameters' current values once (``client.scatter(...,
broadcast=True)``: one copy per worker, not one per task), runs the chunk graph on every
chunk where it lives, adds the partial sums in a tree of tasks (``split_every`` at a time,
always in the same order, so the result does not depend on timing or on retries) and
brings back only the total. The outputs and any parameter updates are computed from that
total on the client, by a function compiled there: an update happens once, after the
reduction, or not at all.
"""
from __future__ import annotations

import math
import threading
from typing import Any, Optional, Sequence

import numpy as np

import symgraph as sg
from symgraph.autodiff.higher import DEFAULT_HVP_METHOD, hvp_graph, split_linear
from symgraph.dask import ship
from symgraph.dask.batch import BatchAxisError, BatchPlan, analyse
from symgraph.graph import Node, toposort
from symgraph.passes.pipeline import optimize


def require():
    """``(dask.array, distributed)``, or an ImportError naming the extra to install."""
    try:
        import dask.array as da
        import distributed
    except ImportError as exc:
        raise ImportError("symgraph.dask needs Dask and distributed: "
                          "pip install symgraph[dask]") from exc
    return da, distributed


def default_client(client: Any = None) -> Any:
    if client is not None:
        return client
    _, distributed = require()
    try:
        return distributed.get_client()
    except ValueError:
        raise ValueError("symgraph.dask: no Dask client; pass client=distributed.Client(...)"
                         ) from None


# --- data on the cluster ------------------------------------------------------------------
class Sharded:
    """Arrays with one row per example, persisted on a Dask cluster in the same chunks of
    rows (the first array's), every other axis in one piece."""

    def __init__(self, arrays: Sequence[Any], client: Any = None) -> None:
        da, distributed = require()
        self.client = default_client(client)
        arrays = [a if isinstance(a, da.Array) else da.from_array(np.asarray(a), chunks=-1)
                  for a in arrays]
        n = arrays[0].shape[0]
        if any(a.shape[0] != n for a in arrays) or math.isnan(n):
            raise ValueError(f"symgraph.dask: the arrays must have the same known number "
                             f"of rows, got {[a.shape for a in arrays]}")
        rows = arrays[0].chunks[0]
        arrays = [a.rechunk((rows,) + tuple((d,) for d in a.shape[1:])) for a in arrays]
        self.arrays = self.client.persist(arrays)
        self.n = int(n)
        self.chunks = tuple(int(r) for r in rows)
        self.starts = np.concatenate([[0], np.cumsum(self.chunks)]).astype(np.int64)
        by_key = {f.key: f for a in self.arrays for f in distributed.futures_of(a)}
        self.blocks = [[by_key[_block_key(a, c)] for a in self.arrays]
                       for c in range(len(self.chunks))]

    def __len__(self) -> int:
        return self.n

    def split(self, rows: Optional[np.ndarray]) -> list[tuple[int, Optional[np.ndarray]]]:
        """``(chunk, local rows)`` for the chunks that hold some of ``rows`` (all rows of
        every chunk for None), keeping the order the rows are given in."""
        if rows is None:
            return [(c, None) for c in range(len(self.chunks))]
        rows = np.asarray(rows, dtype=np.int64)
        owner = np.searchsorted(self.starts, rows, side="right") - 1
        out = []
        for c in np.unique(owner):
            out.append((int(c), rows[owner == c] - self.starts[c]))
        return out


def _block_key(a: Any, c: int) -> Any:
    keys = a.__dask_keys__()
    keys = keys[c]
    while isinstance(keys, list):
        keys = keys[0]
    return keys


def transient_errors() -> tuple[type, ...]:
    """What a lost worker can raise at the client: the step is then run again (the
    parameters have not been touched yet, so nothing is applied twice)."""
    import asyncio
    import concurrent.futures

    _, distributed = require()
    from distributed.comm.core import CommClosedError
    return (distributed.scheduler.KilledWorker, concurrent.futures.CancelledError,
            asyncio.TimeoutError, TimeoutError, CommClosedError, OSError)


def retrying(client: Any, attempts: int, run: Any) -> Any:
    """``run()``, run again (up to ``attempts`` times in all) when a worker was lost."""
    errors = transient_errors()
    for k in range(attempts):
        try:
            return run()
        except errors:
            if k == attempts - 1:
                raise
            client.wait_for_workers(1, timeout=120)


def scatter_bounded(client: Any, values: list, timeout: float) -> list:
    """``client.scatter(values, broadcast=True)`` that returns or raises ``TimeoutError``
    within ``timeout`` (plus a margin) seconds.

    distributed's own ``timeout`` covers waiting for workers but not the replication a
    broadcast does after it: a worker killed mid-broadcast left that waiting forever (the
    killed-worker test hung twice in full runs). The call runs in a helper thread; when it
    has not returned in time the step raises, ``retrying`` waits for the workers and runs
    it again, and the stuck call is left to end (or not) on its own daemon thread.
    """
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = client.scatter(values, broadcast=True, hash=False, timeout=timeout)
        except BaseException as exc:     # noqa: BLE001 - handed to the caller below
            box["error"] = exc
    worker = threading.Thread(target=run, daemon=True, name="symgraph-scatter")
    worker.start()
    worker.join(timeout + 10.0)
    if worker.is_alive():
        raise TimeoutError(f"scatter to the workers took over {timeout + 10.0:.0f} s "
                           f"(a worker lost mid-broadcast)")
    if "error" in box:
        raise box["error"]
    return box["value"]


def tree_sum(client: Any, parts: list, split_every: int = 8) -> Any:
    """One future holding the entrywise sum of the lists in ``parts``, added
    ``split_every`` at a time level by level (a fixed order: results never depend on
    which task finished first)."""
    if not parts:
        raise ValueError("tree_sum: nothing to add")
    while len(parts) > 1:
        parts = [client.submit(ship.add_parts, *parts[i:i + split_every], pure=False)
                 for i in range(0, len(parts), split_every)]
    return parts[0]


def _depends_on(outputs: Sequence[Node], leaves: Sequence[Node]) -> list[bool]:
    ids = {v.id for v in leaves}
    on: set[int] = set()
    for n in toposort(list(outputs)):
        if n.id in ids or any(i.id in on for i in n.inputs):
            on.add(n.id)
    return [o.id in on for o in outputs]


# --- loss and gradient ----------------------------------------------------------------------
class DataParallel:
    """Outputs of a graph that reduce over the examples (a loss, its gradients, counts),
    computed over ``data`` on a Dask cluster; ``updates`` are applied on the client.

        dp = DataParallel([x, y], [loss, *sg.grad(loss, params)], [X, Y], client=client)
        loss_value, *grads = dp()            # every example
        dp(rows)                             # a mini-batch: rows drawn from any chunk

    ``data`` holds one array (Dask or NumPy) per batched input (first size ``None``), in
    order; inputs with a fixed first size take ``constants`` (NumPy arrays, sent once).
    Each chunk task runs the graph on ``piece`` rows at a time and adds the results.
    """

    def __init__(self, inputs: Sequence[Node], outputs: Sequence[Node], data: Any,
                 client: Any = None, updates: Any = None, constants: Sequence[Any] = (),
                 split_every: int = 8, attempts: int = 3, timeout: float = 20.0,
                 piece: int = 4096) -> None:
        self.client = default_client(client)
        self.attempts, self.timeout = int(attempts), float(timeout)
        self.piece = int(piece)
        pairs = list(updates.items()) if isinstance(updates, dict) else list(updates or ())
        self.plan = plan = analyse(inputs, outputs, pairs)
        if any(kind == "per" for kind, _ in plan.kinds):
            raise BatchAxisError("DataParallel: outputs with one value per example are not "
                                 "reduced; use symgraph.dask.evaluate for them")
        self.data = data if isinstance(data, Sharded) else Sharded(data, self.client)
        if len(self.data.arrays) != len(plan.batched_inputs):
            raise ValueError(f"DataParallel: {len(plan.batched_inputs)} batched inputs, "
                             f"{len(self.data.arrays)} data arrays")
        self.constants = [np.asarray(c) for c in constants]
        self.split_every = int(split_every)
        self.key, payload = ship.ship(plan.chunk_inputs, plan.chunk_outputs)
        [self._payload, *self._constants] = retrying(
            self.client, self.attempts, lambda: scatter_bounded(
                self.client, [payload, *self.constants], self.timeout))
        self.final = sg.function(list(plan.final_inputs), list(plan.final_outputs),
                                 updates=dict(plan.final_updates))
        self.steps = 0

    def _head(self, count: int) -> list:
        values = [np.asarray(p.value) for p in self.plan.params]
        # The parameters travel once per step and per worker, not once per task. (A
        # scatter to a worker that has just died can wait forever: hence the timeout.)
        sent = scatter_bounded(self.client, values, self.timeout) if values else []
        return [*sent, np.int64(count), *self._constants]

    def partial_sums(self, rows: Optional[np.ndarray] = None) -> tuple[list[np.ndarray], int]:
        """The batch sums over ``rows`` (every example for None) and their count."""
        return retrying(self.client, self.attempts, lambda: self._partial_sums(rows))

    def _partial_sums(self, rows: Optional[np.ndarray]) -> tuple[list[np.ndarray], int]:
        count = self.data.n if rows is None else len(rows)
        head = self._head(count)
        tasks = [self.client.submit(ship.run_sums, self.key, self._payload, head,
                                    self.data.blocks[c], local, self.piece, pure=False)
                 for c, local in self.data.split(rows)]
        total = tree_sum(self.client, tasks, self.split_every)
        return total.result(), count

    def __call__(self, rows: Optional[np.ndarray] = None) -> list[np.ndarray]:
        sums, count = self.partial_sums(rows)
        self.steps += 1
        return self.final(*sums, np.int64(count), *self.constants)


def loss_and_grad(loss: Node, params: Sequence[Node], inputs: Sequence[Node], data: Any,
                  client: Any = None, **options: Any) -> tuple[np.ndarray, list[np.ndarray]]:
    """``(loss, gradients)`` of ``loss`` over all of ``data`` (one compile, one step)."""
    dp = DataParallel(inputs, [loss, *sg.grad(loss, list(params))], data, client, **options)
    value, *grads = dp()
    return value, grads


# --- Hessian-vector products ----------------------------------------------------------------
class ShardedHVP:
    """``H v`` of a loss over data on a Dask cluster, as ``sg.linearize_hvp`` gives it for
    one array: ``at()`` computes the loss and gradient and leaves the residuals (the
    point's intermediate values the product reads) in the memory of the worker holding
    each chunk; every ``matvec(v)`` sends only ``v`` and brings back only the summed
    product.

        H = ShardedHVP(loss, params, [x, y], [X, Y], client=client).at()
        H.value, H.grad, H.matvec(v), H.shape
    """

    def __init__(self, loss: Node, params: Sequence[Node], inputs: Sequence[Node], data: Any,
                 client: Any = None, method: str = DEFAULT_HVP_METHOD,
                 split_every: int = 8, attempts: int = 3, timeout: float = 20.0) -> None:
        self.client = default_client(client)
        self.attempts, self.timeout = int(attempts), float(timeout)
        self.params = list(params)
        primal, dirs, hv = hvp_graph(loss, self.params, method)
        k = len(primal)
        plan = analyse([*inputs, *dirs], [*primal, *hv])
        self.plan = plan
        self.data = data if isinstance(data, Sharded) else Sharded(data, self.client)
        self.split_every = int(split_every)
        on_dir = _depends_on(plan.chunk_outputs, plan.free_inputs)
        point = [s for s, d in zip(plan.chunk_outputs, on_dir) if not d]
        tangent = [s for s, d in zip(plan.chunk_outputs, on_dir) if d]
        point_vars = [v for v, d in zip(plan.sum_vars, on_dir) if not d]
        tangent_vars = [v for v, d in zip(plan.sum_vars, on_dir) if d]
        # Optimise before cutting, as linearize_hvp does, so a shared subexpression is one
        # residual.
        passed, _ = optimize([*point, *tangent])
        lin = split_linear(passed.outputs[:len(point)], passed.outputs[len(point):],
                           plan.free_inputs)
        self._n_point = len(point)
        self._point_key, point_payload = ship.ship(
            [*plan.param_vars, plan.count, *plan.batched_inputs], [*lin.primal, *lin.residuals])
        self._tangent_key, tangent_payload = ship.ship([*lin.directions, *lin.residual_inputs],
                                                       list(lin.tangent))
        self._payloads = retrying(self.client, self.attempts, lambda: scatter_bounded(
            self.client, [point_payload, tangent_payload], self.timeout))
        self._final_point = sg.function([*point_vars, plan.count], list(plan.final_outputs[:k]))
        self._final_tangent = sg.function([*point_vars, *tangent_vars, plan.count, *dirs],
                                          list(plan.final_outputs[k:]))
        self.sizes = [math.prod(p.shape) for p in self.params]
        n = sum(self.sizes)
        self.shape = (n, n)
        self._points: Optional[list] = None
        self._point_sums: list[np.ndarray] = []
        self.value: Optional[np.ndarray] = None
        self.grads: list[np.ndarray] = []
        self.matvecs = 0

    def at(self) -> "ShardedHVP":
        """Move to the parameters' current values."""
        return retrying(self.client, self.attempts, self._at)

    def _at(self) -> "ShardedHVP":
        values = [np.asarray(p.value) for p in self.plan.params]
        sent = scatter_bounded(self.client, values, self.timeout) if values else []
        head = [*sent, np.int64(self.data.n)]
        self._points = [self.client.submit(ship.run_point, self._point_key, self._payloads[0],
                                           self._n_point, head, self.data.blocks[c], pure=False)
                        for c in range(len(self.data.chunks))]
        sums = [self.client.submit(ship.first, p, pure=False) for p in self._points]
        self._point_sums = tree_sum(self.client, sums, self.split_every).result()
        out = self._final_point(*self._point_sums, np.int64(self.data.n))
        self.value, self.grads = out[0], list(out[1:])
        return self

    update = at

    @property
    def grad(self) -> np.ndarray:
        return self.flatten(self.grads)

    def matvec(self, v: Any) -> Any:
        """``H v`` (flat in, flat out; or a list of blocks shaped like the parameters)."""
        if self._points is None:
            raise RuntimeError("ShardedHVP: call .at() first to fix the point")
        flat = not isinstance(v, (list, tuple))
        parts = self.unflatten(v) if flat else [np.asarray(p) for p in v]

        def products() -> list[np.ndarray]:
            dirs = scatter_bounded(self.client, parts, self.timeout)
            tasks = [self.client.submit(ship.run_tangent, self._tangent_key, self._payloads[1],
                                        dirs, p, pure=False) for p in self._points]
            return tree_sum(self.client, tasks, self.split_every).result()

        sums = retrying(self.client, self.attempts, products)
        out = self._final_tangent(*self._point_sums, *sums, np.int64(self.data.n), *parts)
        self.matvecs += 1
        return self.flatten(out) if flat else list(out)

    __matmul__ = matvec

    def flatten(self, blocks: Sequence[np.ndarray]) -> np.ndarray:
        return np.concatenate([np.asarray(b).reshape(-1) for b in blocks])

    def unflatten(self, v: Any) -> list[np.ndarray]:
        v = np.asarray(v)
        out, start = [], 0
        for p, size in zip(self.params, self.sizes):
            out.append(v[start:start + size].reshape(p.shape))
            start += size
        return out
