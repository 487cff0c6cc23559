"""Finite-difference checks of symbolic derivatives, for tests and for users' own ops.

``numerical_grad`` and ``numerical_jvp`` are plain central differences of NumPy functions.
``check_grads`` compares a graph's reverse-mode (VJP) and forward-mode (JVP) derivatives
with them, level by level: level 1 checks the derivatives of the outputs, level k+1 checks
the derivatives of the level-k VJP graph, so ``order=2`` differentiates the gradient graph
again. Everything is evaluated in the dtype of the graph; use float64 for tight tolerances.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

from symgraph.graph import Node
from symgraph.errors import ArgumentError

ArrayFn = Callable[..., object]


@dataclass(frozen=True)
class Tolerance:
    """How close a symbolic derivative must be to its finite-difference estimate."""

    rtol: float = 1e-5
    atol: float = 1e-6


def numerical_grad(fn: ArrayFn, args: Sequence[np.ndarray], eps: float = 1e-6,
                   argnums: Optional[Sequence[int]] = None) -> list[np.ndarray]:
    """Central differences of a scalar function: ``d fn(*args) / d args[i]`` for each ``i``.

    ``fn`` takes arrays and returns a scalar; ``argnums`` picks the arguments to
    differentiate (all by default). Each element is moved by ``eps`` both ways, so the
    cost is two calls per element.

    Complex follows JAX's convention (docs/higher-order.md, "Complex numbers"): a complex
    ``fn`` counts through its real part, and a complex argument z = x + iy is moved along
    the real and the imaginary direction, giving d/dx - i d/dy.
    """
    arrays = [np.array(a, dtype=_float_dtype(a), copy=True) for a in args]
    picked = range(len(arrays)) if argnums is None else argnums
    grads = []
    for i in picked:
        x = arrays[i]
        g = np.zeros(x.shape, dtype=x.dtype)
        flat_x, flat_g = x.reshape(-1), g.reshape(-1)  # views: writes reach x and g
        steps = (1.0, -1j) if x.dtype.kind == "c" else (1.0,)
        for k in range(flat_x.size):
            keep = flat_x[k]
            for step in steps:
                flat_x[k] = keep + eps * step.conjugate()
                up = float(np.real(np.sum(fn(*arrays))))
                flat_x[k] = keep - eps * step.conjugate()
                down = float(np.real(np.sum(fn(*arrays))))
                flat_x[k] = keep
                flat_g[k] += step * (up - down) / (2 * eps)
        grads.append(g)
    return grads


def numerical_jvp(fn: ArrayFn, args: Sequence[np.ndarray], tangents: Sequence[np.ndarray],
                  eps: float = 1e-6) -> list[np.ndarray]:
    """Central differences of ``fn`` along the direction ``tangents`` (one per argument).

    ``fn`` returns an array or a list of arrays; the result is always a list.
    """
    up_args = [np.asarray(a) + eps * np.asarray(t) for a, t in zip(args, tangents)]
    down_args = [np.asarray(a) - eps * np.asarray(t) for a, t in zip(args, tangents)]
    up, down = _as_list(fn(*up_args)), _as_list(fn(*down_args))
    return [(_wide(u) - _wide(d)) / (2 * eps) for u, d in zip(up, down)]


def _wide(a: object) -> np.ndarray:
    a = np.asarray(a)
    return a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)


def _draw(rng: np.random.Generator, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """Standard normal values of ``dtype``; complex ones get a random imaginary part too,
    so checks move complex inputs along both directions."""
    out = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        out = out + 1j * rng.standard_normal(shape)
    return out.astype(dtype)


def _float_dtype(a: object) -> np.dtype:
    # Integers are differentiated as float64 (the perturbation must fit).
    dtype = np.asarray(a).dtype
    return dtype if dtype.kind in "fc" else np.dtype(np.float64)


def _as_list(value: object) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def assert_close(actual: np.ndarray, expected: np.ndarray, what: str,
                 tol: Tolerance = Tolerance()) -> None:
    """``actual`` within ``tol`` of ``expected`` (scaled by the size of ``expected``)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.shape != expected.shape:
        raise AssertionError(f"{what}: shape {actual.shape}, expected {expected.shape}")
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    err = np.abs(_wide(actual) - _wide(expected))
    bound = tol.atol * scale + tol.rtol * np.abs(expected)
    if not np.all(err <= bound):
        worst = int(np.argmax(err - bound))
        raise AssertionError(
            f"{what}: max error {float(np.max(err)):.3g} (element {worst}: "
            f"{actual.reshape(-1)[worst]!r} vs {expected.reshape(-1)[worst]!r})\n"
            f"symbolic:\n{actual}\nfinite differences:\n{expected}")


def check_grads(f_nodes: Node | Sequence[Node] | Callable[..., object], wrt: Sequence[object],
                values: Optional[Sequence[np.ndarray]] = None, order: int = 2,
                modes: Sequence[str] = ("rev", "fwd"), eps: float = 1e-6,
                tol: Tolerance = Tolerance(), seed: int = 0, optimize: bool = True) -> None:
    """Check the derivatives of ``f_nodes`` with respect to the ``wrt`` vars by finite
    differences, up to ``order``; raises ``AssertionError`` naming the level and mode.

    Also callable as ``check_grads(f, args, order=k)``: ``f`` is a Python function that
    builds the graph from one ``sg.var`` per array in ``args`` (float64 vars for integer
    or float64 arrays, the array's dtype otherwise).

    ``wrt`` are ``sg.var`` nodes and ``values`` the arrays to evaluate at. Level 1 checks
    ``sg.vjp`` (``"rev"``) with random cotangents and ``sg.jvp`` (``"fwd"``) with random
    tangents; level k+1 does the same for the level-k VJP nodes, i.e. it differentiates the
    derivative graph (reverse over reverse, forward over reverse). ``optimize=False``
    evaluates every graph exactly as built, so only the derivative rules are checked, not
    the compiler's rewrites of them.
    """
    from symgraph.autodiff import jvp, vjp
    from symgraph.runtime import function

    if callable(f_nodes) and not isinstance(f_nodes, Node):
        from symgraph.ops import var
        values = [np.asarray(a, dtype=_float_dtype(a)) for a in wrt]
        wrt = [var(f"arg{k}", a.shape, a.dtype) for k, a in enumerate(values)]
        f_nodes = f_nodes(*wrt)
    if values is None:
        raise ArgumentError("check_grads: give the values to evaluate at (or call it as "
                        "check_grads(f, args, order=k) with a function f)")
    wrt = list(wrt)
    values = [np.asarray(v) for v in values]
    for w in wrt:
        if not isinstance(w, Node) or w.op != "var":
            raise ArgumentError(f"check_grads: wrt must be sg.var nodes, got {w!r}")
    rng = np.random.default_rng(seed)
    current = [f_nodes] if isinstance(f_nodes, Node) else list(f_nodes)
    for level in range(1, order + 1):
        run = function(wrt, current, optimize=optimize)
        outs = _as_list(run(*values))
        if "rev" in modes:
            cts = [_draw(rng, np.shape(o), n.dtype) for o, n in zip(outs, current)]

            # Re(sum(c o)): the pairing whose transposes VJPs are (JAX's, bilinear)
            def weighted(*xs: np.ndarray, run=run, cts=cts) -> float:
                return sum(float(np.real(np.sum(c * o))) for c, o in zip(cts, _as_list(run(*xs))))

            expected = numerical_grad(weighted, values, eps)
            nodes = vjp(current, wrt, cts)
            got = _as_list(function(wrt, nodes, optimize=optimize)(*values))
            for w, g, e in zip(wrt, got, expected):
                _check_type(g, w, f"order {level} vjp wrt {w.label}")
                assert_close(g, e, f"order {level} vjp wrt {w.label}", tol)
        if "fwd" in modes:
            tans = [_draw(rng, v.shape, w.dtype) for v, w in zip(values, wrt)]
            expected = numerical_jvp(run, values, tans, eps)
            nodes = jvp(current, wrt, tans)
            got = _as_list(function(wrt, nodes, optimize=optimize)(*values))
            for k, (n, g, e) in enumerate(zip(current, got, expected)):
                _check_type(g, n, f"order {level} jvp of output {k}")
                assert_close(g, e, f"order {level} jvp of output {k}", tol)
        if level < order:
            current = vjp(current, wrt, [_draw(rng, np.shape(o), n.dtype)
                                         for o, n in zip(outs, current)])


def _check_type(value: np.ndarray, like: Node, what: str) -> None:
    # A derivative has the shape and dtype of the node it is the derivative of.
    value = np.asarray(value)
    if value.dtype != like.dtype:
        raise AssertionError(f"{what}: dtype {value.dtype}, expected {like.dtype}")
    if value.ndim != like.ndim or any(d is not None and d != v
                                      for d, v in zip(like.shape, value.shape)):
        raise AssertionError(f"{what}: shape {value.shape} does not fit {like.shape}")
