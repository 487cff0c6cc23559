"""A compiled function applied to Dask arrays chunked along the batch axis, lazily.

Every chunk runs the chunk graph once (``dask.array.blockwise``); per-example outputs are
the chunks' slices side by side (a Dask array with the input's chunks), and outputs that
reduce over the batch are computed from partial sums that Dask adds in a tree
(``Array.sum(split_every=...)``), then passed through the final graph.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

import symgraph as sg
from symgraph.dask import ship
from symgraph.dask.batch import BatchAxisError, analyse, substitute
from symgraph.dask.parallel import require
from symgraph.graph import toposort


def _block(*blocks: np.ndarray, key: str, payload: bytes, head: Sequence[Any]) -> np.ndarray:
    out = np.empty(1, dtype=object)   # one cell holding every output of the chunk
    out[0] = tuple(ship.run_chunk(key, payload, head, blocks))
    return out


def _pick_rows(cell: np.ndarray, j: int, axis: int) -> np.ndarray:
    return np.moveaxis(np.asarray(cell[0][j]), axis, 0)


def _pick_sum(cell: np.ndarray, j: int) -> np.ndarray:
    return np.asarray(cell[0][j])[None]


def _final(key: str, payload: bytes, *args: Any) -> list[np.ndarray]:
    return list(ship.compiled(key, payload)(*args))


def evaluate(f: sg.Function, *args: Any, split_every: int = 8) -> Any:
    """``f(*args)`` as Dask arrays, for arguments whose batched inputs (first size
    ``None``) are Dask arrays chunked along their rows (NumPy arrays are one chunk).

    Parameters are read now: their current values are part of the returned graph.
    Nothing runs until the results are computed (``dask.compute(*outs)``).
    """
    da, _ = require()
    import dask
    if f.updates:
        raise ValueError("symgraph.dask.evaluate: f has parameter updates; train with "
                         "symgraph.dask.fit")
    plan = analyse(f.inputs, f.outputs)
    if len(args) != len(plan.inputs):
        raise ValueError(f"symgraph.dask.evaluate: {len(plan.inputs)} arguments expected, "
                         f"got {len(args)}")
    batched = [a if isinstance(a, da.Array) else da.from_array(np.asarray(a), chunks=-1)
               for a, b in zip(args, plan.batched) if b]
    free = [np.asarray(a) for a, b in zip(args, plan.batched) if not b]
    rows = batched[0].chunks[0]
    if any(math.isnan(r) for r in rows):
        raise ValueError("symgraph.dask.evaluate: chunk sizes must be known (call "
                         "compute_chunk_sizes() first)")
    batched = [a.rechunk((rows,) + tuple((d,) for d in a.shape[1:])) for a in batched]
    count = np.int64(sum(rows))
    key, payload = ship.ship(plan.chunk_inputs, plan.chunk_outputs)
    head = [*[np.asarray(p.value) for p in plan.params], count, *free]
    pairs = []
    for k, a in enumerate(batched):
        pairs += [a, ("i", *[f"x{k}_{d}" for d in range(1, a.ndim)])]
    cells = da.blockwise(_block, "i", *pairs, key=key, payload=payload, head=head,
                         dtype=object, adjust_chunks={"i": 1}, concatenate=True,
                         meta=np.empty((0,), dtype=object))
    n_per = len(plan.per_axes)
    per_outs = []
    for j, (node, axis) in enumerate(zip(plan.chunk_outputs[:n_per], plan.per_axes)):
        rest = node.shape[:axis] + node.shape[axis + 1:]
        if None in rest:
            raise BatchAxisError(f"symgraph.dask.evaluate: output {node.label} {node.type} has "
                                 f"an unknown size besides the batch axis")
        arr = cells.map_blocks(_pick_rows, j, axis, dtype=node.dtype, chunks=(rows, *[(d,) for d in rest]),
                               new_axis=list(range(1, node.ndim)))
        per_outs.append(da.moveaxis(arr, 0, axis))
    sums = []
    for j, node in enumerate(plan.chunk_outputs[n_per:]):
        part = cells.map_blocks(_pick_sum, n_per + j, dtype=node.dtype,
                                chunks=((1,) * len(rows), *[(d,) for d in node.shape]),
                                new_axis=list(range(1, node.ndim + 1)))
        sums.append(part.sum(axis=0, split_every=split_every, dtype=node.dtype))
    reduced = []
    if plan.final_outputs:
        # the final graph runs where Dask puts it, so its parameters travel as values too
        params = [n for n in toposort(list(plan.final_outputs)) if n.op == "param"]
        stand_ins = [sg.var(p.label, p.shape, p.dtype) for p in params]
        outs = substitute(plan.final_outputs, {p.id: v for p, v in zip(params, stand_ins)})
        fkey, fpayload = ship.ship([*plan.final_inputs, *stand_ins], outs)
        final = dask.delayed(_final, pure=True, nout=len(outs))(
            fkey, fpayload, *sums, count, *free, *[np.asarray(p.value) for p in params])
        reduced = [da.from_delayed(final[j], shape=o.shape, dtype=o.dtype)
                   for j, o in enumerate(outs)]
    result = [per_outs[k] if kind == "per" else reduced[k] for kind, k in plan.kinds]
    return result[0] if getattr(f, "_single", False) else result
