"""symgraph: a symbol-to-symbol graph compiler for NumPy.

Build expressions, differentiate them into more graph, compile and run them.
"""
from symgraph.errors import (DisconnectedError, DTypeError, EvaluationError, IndexingError,
                             InputError,
                             ShapeError, SymgraphError)
from symgraph.errors import FormatError
from symgraph.graph import Graph, Node, current_scope, scope, scope_path
from symgraph.types import TensorType
from symgraph.ops.nn import (avg_pool2d, conv2d, dropout_mask, max_pool2d,
                             sparse_softmax_cross_entropy)
from symgraph.ops import (abs, add, broadcast_to, cast, clip, concatenate, const, cos,
                          divide, dot, equal, exp, expand_dims, expm1, getitem, greater,
                          greater_equal, less, less_equal, log, log1p, log_softmax,
                          logical_and, logical_not, logical_or, logsumexp, matmul, max,
                          maximum, mean, min, minimum, multiply, negative, not_equal, one_hot,
                          outer, param, power, reciprocal, relu, reshape, sigmoid, sign, sin,
                          softmax, softplus, sqrt, square, squeeze, stack, stop_gradient,
                          subtract, sum, tanh, transpose, var, where, zeros_like)
# np-elementwise: NumPy's elementwise functions, complex parts, reductions, statistics, scans
# (NumPy's diff is symgraph.ops.diff: sg.diff is the graph diff of symgraph.render)
from symgraph.ops import (absolute, all, angle, any, arccos, arccosh, arcsin, arcsinh, arctan,
                          arctan2, arctanh, argmax, argmin, around, average, cbrt, ceil, conj,
                          conjugate, copysign, cosh, count_nonzero, cumprod, cumsum, deg2rad,
                          degrees, divmod, exp2, fabs, fix, float_power, floor, floor_divide, fmax,
                          fmin, fmod, heaviside, hypot, imag, isfinite, isinf, isnan, log10, log2,
                          logaddexp, logaddexp2, logical_xor, mod, nan_to_num, nanargmax, nanargmin,
                          nancumprod, nancumsum, nanmax, nanmean, nanmin, nanprod, nanstd, nansum,
                          nanvar, positive, prod, ptp, rad2deg, radians, real, real_if_close,
                          remainder, rint, round, signbit, sinc, sinh, std, tan, true_divide, trunc,
                          variance)
# NumPy's shape, indexing, ordering and creation functions (np-shape; sg.arange below stays;
# NumPy's numerical gradient is snp.gradient only, so it is never mistaken for sg.grad)
from symgraph.ops import (append, argpartition, argsort, array_split, atleast_1d, atleast_2d,
                          atleast_3d, block, broadcast_arrays, choose, column_stack, convolve,
                          corrcoef, correlate, cov, cross, delete, diag, diag_indices_from,
                          diagflat, diagonal, digitize, dsplit, dstack, ediff1d, empty, empty_like,
                          eye, flatten, flip, full, full_like, geomspace, hsplit, hstack, identity,
                          index_add, insert, interp, isin, kron, lexsort, linspace, logspace,
                          median, meshgrid, moveaxis, nanmedian, nanpercentile, nanquantile, ones,
                          ones_like, pad, partition, percentile, poly, polyadd, polyder, polyint,
                          polymul, polysub, polyval, quantile, ravel, repeat, resize, roll,
                          rollaxis, rot90, searchsorted, select, sort, split, swapaxes, take,
                          take_along_axis, tile, trace, trapezoid, tri, tril, tril_indices_from,
                          triu, triu_indices_from, unstack, vander, vsplit, vstack, zeros)
from symgraph.autodiff import grad, jvp, vjp
from symgraph.autodiff import (DEFAULT_HVP_METHOD, HVP_METHODS, hessian, hvp, jacobian,
                               nth_derivative, nth_derivatives, taylor_coefficients,
                               taylor_derivatives)
from symgraph.runtime.hvp_operator import HVPOperator, linearize_hvp
from symgraph.testing import check_grads
from symgraph.runtime import Function, function
from symgraph.render import (GraphvizError, diff, draw, gradient_view, optimization_view,
                             render, to_dot)
# render: the interactive HTML explorer (also sg.render(target, "graph.html"))
from symgraph.render.html import explore

# contractions (np-linalg); sg.linalg, sg.fft and sg.special load on first use (below)
from symgraph.ops.einsum import einsum, inner, tensordot, vdot
# reliability: the warning grad gives for a wrt outside the graph; the seeded generator
from symgraph.errors import ArgumentError, DisconnectedWarning
from symgraph import random
# persistence: the safe file format (save/load, dumps/loads; docs/persistence.md)
from symgraph.io import dumps, load, loads, save
# ONNX exchange (the optional extra symgraph[onnx], imported on first call)
from symgraph.onnx import export_onnx, import_onnx

__version__ = "0.1.0"


def arange(n: int, dtype: str = "int64"):
    """A constant ``0, 1, ..., n-1`` (for picking ``logp[arange(n), labels]``)."""
    import numpy as _np
    return const(_np.arange(n, dtype=dtype))


def __getattr__(name: str):
    # The model layer is built on the public API above, so it loads on first use.
    # sg.linalg, sg.fft and sg.special are namespaces of ops, also loaded on first use;
    # symgraph.dask (the optional Dask extra) loads the same way, Dask itself only when used.
    if name in ("nn", "optim", "train", "linalg", "fft", "special", "dask"):
        import importlib
        return importlib.import_module(f"symgraph.{name}")
    raise AttributeError(f"module 'symgraph' has no attribute {name!r}")
