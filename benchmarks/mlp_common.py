"""The 784-256-256-10 tanh MLP training step two ways, shared by the compiler benchmarks:
compiled from the naive symgraph expression, and written by hand in NumPy."""
from __future__ import annotations

import numpy as np

import symgraph as sg

SIZES = (784, 256, 256, 10)
BATCH = 128
LR = 0.05


def initial_params(dtype: str, seed: int = 0) -> list[np.ndarray]:
    """W1, b1, W2, b2, W3, b3 with 1/sqrt(fan_in) scaled normal weights."""
    rng = np.random.default_rng(seed)
    out = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        out.append((rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)).astype(dtype))
        out.append(np.zeros(fan_out, dtype))
    return out


def batch(dtype: str, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((BATCH, SIZES[0])).astype(dtype),
            rng.integers(0, SIZES[-1], BATCH))


def compiled_step(values: list[np.ndarray], dtype: str, **options) -> sg.Function:
    """The training step as a user writes it: naive loss, sg.grad, SGD through updates."""
    x = sg.var("x", (BATCH, SIZES[0]), dtype)
    labels = sg.var("labels", (BATCH,), "int64")
    params = [sg.param(v.copy(), name=n) for v, n in zip(values, ["W1", "b1", "W2", "b2", "W3", "b3"])]
    h = x
    for k in range(0, len(params), 2):
        h = h @ params[k] + params[k + 1]
        if k + 2 < len(params):
            h = sg.tanh(h)
    loss = -sg.mean(sg.log(sg.softmax(h))[sg.arange(BATCH), labels])
    grads = sg.grad(loss, params)
    return sg.function([x, labels], loss,
                       updates={p: p - LR * g for p, g in zip(params, grads)}, **options)


def numpy_grads(params: list[np.ndarray], x: np.ndarray,
                labels: np.ndarray) -> tuple[float, tuple]:
    """The loss and the six gradients as an expert writes them by hand (fused softmax
    cross-entropy gradient)."""
    W1, b1, W2, b2, W3, b3 = params
    n = x.shape[0]
    a1 = np.tanh(x @ W1 + b1)
    a2 = np.tanh(a1 @ W2 + b2)
    z = a2 @ W3 + b3
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    total = p.sum(axis=1, keepdims=True)
    loss = float(np.mean(np.log(total[:, 0]) - z[np.arange(n), labels]))
    p /= total
    p[np.arange(n), labels] -= 1.0
    p /= n
    d2 = (p @ W3.T) * (1.0 - a2 * a2)
    d1 = (d2 @ W2.T) * (1.0 - a1 * a1)
    return loss, (x.T @ d1, d1.sum(axis=0), a1.T @ d2, d2.sum(axis=0), a2.T @ p, p.sum(axis=0))


def numpy_step(params: list[np.ndarray], x: np.ndarray, labels: np.ndarray) -> float:
    """What an expert writes by hand: the gradients above, in-place SGD."""
    loss, grads = numpy_grads(params, x, labels)
    for w, g in zip(params, grads):
        w -= LR * g
    return loss


def jax_for(dtype: str):
    """``(jax, jax.numpy)`` set up for ``dtype`` (x64 enabled for float64), or None when
    JAX is not installed."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    if dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    return jax, jnp


def jax_loss(ps: list, x, labels):
    """The same loss in JAX (for the benchmarks that time JAX when it is installed)."""
    import jax
    import jax.numpy as jnp
    h = x
    for k in range(0, len(ps), 2):
        h = h @ ps[k] + ps[k + 1]
        if k + 2 < len(ps):
            h = jnp.tanh(h)
    return -jnp.mean(jax.nn.log_softmax(h)[jnp.arange(x.shape[0]), labels])
