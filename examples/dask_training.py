"""The digits MLP trained on a Dask cluster: the same model, the same compiled step, the
data held by the workers in chunks of rows.

    python examples/dask_training.py                          # a LocalCluster on this machine
    python examples/dask_training.py tcp://scheduler:8786     # any running Dask cluster

Each step draws a mini-batch from every chunk; the workers compute the partial gradient
sums where the rows live, Dask adds them in a tree, and the Adam update runs once, on the
client. Afterwards the per-example predictions over the test set come back as a Dask
array (``symgraph.dask.evaluate``), computed chunk by chunk.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import symgraph as sg  # noqa: E402
import symgraph.dask as sgd  # noqa: E402
from symgraph import nn, optim  # noqa: E402
import digits  # noqa: E402


def build(hidden: int = 64, lr: float = 3e-3, seed: int = 0):
    """(model, compiled training step, compiled prediction function)."""
    model = nn.MLP([64, hidden, 10], activation="relu", seed=seed, name="mlp")
    x, y = sg.var("x", (None, 64)), sg.var("y", (None,), "int64")
    loss = nn.softmax_cross_entropy(model(x), y) + nn.regularizers.l2(model.weights(), 1e-4)
    step = optim.step_function([x, y], loss, model.params(), optim.Adam(lr))
    predict = sg.function([x], model(x))   # logits, one row per example
    return model, step, predict


def train(client, small: bool = False, seed: int = 0) -> dict:
    import dask
    import dask.array as da
    X_train, y_train, X_test, y_test = digits.load()
    # The data as Dask arrays in 4 chunks of rows: on a real cluster these would come from
    # da.from_zarr / dask.dataframe; sg.dask persists them on the workers.
    rows = -(-len(X_train) // 4)
    X, y = da.from_array(X_train, chunks=(rows, 64)), da.from_array(y_train, chunks=rows)
    model, step, predict = build(lr=1e-2 if small else 3e-3, seed=seed)
    history = sgd.fit(step, X, y, client=client, epochs=3 if small else 20,
                      batch_size=128 if small else 64, seed=seed, progress=not small)
    (logits,) = dask.compute(sgd.evaluate(predict, da.from_array(X_test, chunks=100)))
    accuracy = float(np.mean(np.argmax(logits, axis=-1) == y_test))
    return {"history": history, "test_accuracy": accuracy}


def main(small: bool = False, address: str | None = None) -> dict:
    import distributed
    if address:   # a real cluster: Client("tcp://scheduler:8786")
        with distributed.Client(address) as client:
            result = train(client, small)
    else:         # this machine: two worker processes on the loopback interface
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      host="127.0.0.1", dashboard_address=":0") as cluster, \
                distributed.Client(cluster) as client:
            result = train(client, small)
    if not small:
        h = result["history"]
        print(f"loss {h.epoch_loss[0]:.3f} -> {h.epoch_loss[-1]:.3f}; "
              f"test accuracy {result['test_accuracy']:.2%}")
    return result


if __name__ == "__main__":
    main(address=sys.argv[1] if len(sys.argv) > 1 else None)
