"""symgraph on Dask: the same compiled graph over data held in chunks by a Dask cluster.

    import symgraph.dask as sgd
    outs = sgd.evaluate(f, X, Y)                   # dask arrays: blockwise + tree sums
    dp = sgd.DataParallel([x, y], [loss, *grads], [X, Y], client=client)
    H = sgd.ShardedHVP(loss, params, [x, y], [X, Y], client=client).at()
    sgd.fit(step, X, y, client=client, epochs=5, batch_size=64)

The optional extra ``pip install symgraph[dask]`` (dask[array] and distributed) is imported
only when a function here needs it; ``batch`` (the analysis of the batch axis) needs
neither. See docs/scaling.md.
"""
from symgraph.dask.batch import BatchAxisError, BatchPlan, Role, analyse
from symgraph.dask.evaluate import evaluate
from symgraph.dask.fit import NewtonCG, fit, hessian_spectrum
from symgraph.dask.parallel import (DataParallel, Sharded, ShardedHVP, loss_and_grad,
                                    require, tree_sum)
from symgraph.dask.ship import dumps_graph, loads_graph

__all__ = ["BatchAxisError", "BatchPlan", "Role", "analyse", "evaluate", "NewtonCG", "fit",
           "hessian_spectrum", "DataParallel", "Sharded", "ShardedHVP", "loss_and_grad",
           "require", "tree_sum", "dumps_graph", "loads_graph"]
