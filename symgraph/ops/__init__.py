"""Every op, declared once per file by kind; this module gathers the public functions."""
from symgraph.ops.registry import REGISTRY, Op, apply, as_node, const, get_op, register
from symgraph.ops.leaves import param, var
from symgraph.ops.elementwise import (abs, add, cast, clip, cos, divide, equal, exp, expm1,
                                      greater, greater_equal, less, less_equal, log, log1p,
                                      logical_and, logical_not, logical_or, maximum, minimum,
                                      multiply, negative, not_equal, power, reciprocal, relu,
                                      sigmoid, sign, sin, softplus, sqrt, square,
                                      stop_gradient, subtract, tanh, where)
from symgraph.ops.shape import (broadcast_like, broadcast_to, concatenate, expand_dims,
                                getitem, one_hot, reshape, squeeze, stack, sum_to_like,
                                transpose, zeros_like)
from symgraph.ops.reduce import log_softmax, logsumexp, max, mean, min, softmax, sum
from symgraph.ops.linalg import dot, matmul, outer
from symgraph.ops.nn import (avg_pool2d, conv2d, dropout_mask, max_pool2d,
                             sparse_softmax_cross_entropy)
# np-elementwise: NumPy's elementwise functions, complex parts, reductions, statistics, scans
from symgraph.ops.elementwise import absolute, fabs, true_divide
from symgraph.ops.elementwise_math import (arccos, arccosh, arcsin, arcsinh, arctan, arctan2,
                                           arctanh, around, cbrt, ceil, copysign, cosh, deg2rad,
                                           degrees, divmod, exp2, fix, float_power, floor,
                                           floor_divide, fmax, fmin, fmod, heaviside, hypot,
                                           isfinite, isinf, isnan, log10, log2, logaddexp,
                                           logaddexp2, logical_xor, mod, nan_to_num, positive,
                                           rad2deg, radians, remainder, rint, round, signbit, sinc,
                                           sinh, tan, trunc)
from symgraph.ops.complex import angle, conj, conjugate, imag, real, real_if_close
from symgraph.ops.reduce import (all, any, argmax, argmin, average, count_nonzero, prod, ptp,
                                 std, variance)
from symgraph.ops.nanfunctions import (nanargmax, nanargmin, nancumprod, nancumsum, nanmax,
                                       nanmean, nanmin, nanprod, nanstd, nansum, nanvar)
from symgraph.ops.scan import cumprod, cumsum, diff
# contractions and linear algebra beyond matmul (np-linalg)
from symgraph.ops.einsum import einsum, inner, tensordot, vdot
from symgraph.ops.linalg_solve import (cholesky, det, inv, logabsdet, slogdet_sign, solve,
                                       solve_triangular)
from symgraph.ops.linalg_decomp import (eigh_values, eigh_vectors, matrix_rank, pinv, qr_q,
                                        qr_r, svd_s, svd_u, svd_vh)
from symgraph.ops.linalg_norm import vector_norm
import symgraph.ops.special  # noqa: F401  (declares the special-function ops; SciPy loads lazily)
import symgraph.ops.fft  # noqa: F401  (declares the Fourier-transform ops)
from symgraph.ops.linalg_eig import eig_values, eig_vectors
# NumPy's shape, indexing and creation functions (np-shape)
from symgraph.ops.rearrange import (append, delete, flatten, flip, insert, moveaxis, pad, ravel,
                                    repeat, resize, roll, rollaxis, rot90, swapaxes, tile,
                                    unstack)
from symgraph.ops.join import (array_split, atleast_1d, atleast_2d, atleast_3d, block,
                               broadcast_arrays, c_, column_stack, convolve, correlate, cross,
                               dsplit, dstack, hsplit, hstack, kron, meshgrid, r_, split, vander,
                               vsplit, vstack)
from symgraph.ops.indexing import (choose, diag, diag_indices_from, diagflat, diagonal,
                                   index_add, isin, select, take, take_along_axis, trace, tril,
                                   tril_indices_from, triu, triu_indices_from)
from symgraph.ops.ordering import (argpartition, argsort, digitize, interp, lexsort, median,
                                   nanmedian, nanpercentile, nanquantile, partition, percentile,
                                   quantile, searchsorted, sort)
from symgraph.ops.series import (corrcoef, cov, ediff1d, gradient, poly, polyadd, polyder,
                                 polyfit, polyint, polymul, polysub, polyval, trapezoid)
from symgraph.ops.creation import (arange, empty, empty_like, eye, full, full_like, geomspace,
                                   identity, linspace, logspace, ones, ones_like, tri, zeros)
