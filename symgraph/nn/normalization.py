"""Normalisation layers: LayerNorm (statistics of each example) and BatchNorm (statistics of
the batch in training, running averages at inference)."""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

import symgraph as sg
from symgraph.ops.registry import apply
from symgraph.nn.layers import Layer, unique_name
from symgraph.errors import ArgumentError


def _moments(x: sg.Node, axes: tuple) -> tuple[sg.Node, sg.Node]:
    """Mean and (biased) variance of ``x`` over ``axes``, kept as size-1 axes."""
    mu = sg.mean(x, axes, True)
    return mu, sg.mean(sg.square(x - mu), axes, True)


class LayerNorm(Layer):
    """``(x - mean) / sqrt(var + eps) * gamma + beta`` over the trailing axes of shape
    ``normalized_shape`` of each example (Ba et al., 2016); the same in training and at
    inference."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, dtype: str = "float64",
                 name: Optional[str] = None) -> None:
        super().__init__(name or unique_name("layernorm"))
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) \
            else tuple(normalized_shape)
        if not shape or any(int(d) < 1 for d in shape):
            raise ArgumentError(f"LayerNorm: normalized_shape must hold positive sizes, got "
                             f"{normalized_shape!r}")
        self.shape = tuple(int(d) for d in shape)
        self.eps = float(eps)
        self.gamma = self.beta = None
        if elementwise_affine:
            with sg.scope(self.name):
                self.gamma = sg.param(np.ones(self.shape, dtype), name="gamma")
                self.beta = sg.param(np.zeros(self.shape, dtype), name="beta")

    def params(self) -> list[sg.Node]:
        return [self.gamma, self.beta] if self.gamma is not None else []

    def forward(self, x: sg.Node, training: bool) -> sg.Node:
        k = len(self.shape)
        if tuple(x.shape[x.ndim - k:]) != self.shape:
            raise sg.ShapeError(f"LayerNorm {self.name}: expects trailing axes "
                                f"{self.shape}, got input shape {x.shape}{x.where()}")
        mu, var = _moments(x, tuple(range(x.ndim - k, x.ndim)))
        y = (x - mu) / sg.sqrt(var + self.eps)
        return y * self.gamma + self.beta if self.gamma is not None else y


class BatchNorm(Layer):
    """Batch normalisation (Ioffe and Szegedy, 2015) over the channel axis ``axis``.

    In training (``layer(x, training=True)``) each channel is normalised by the batch's
    mean and (biased) variance over every other axis, and ``state_updates()`` moves the
    running averages: ``running = (1 - momentum) * running + momentum * batch`` (the
    running variance takes the unbiased batch variance, as PyTorch does). At inference
    the running averages normalise. The running averages are state, not trained
    parameters: they are in ``state()``, not ``params()``.
    """

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5,
                 axis: int = 1, affine: bool = True, dtype: str = "float64",
                 name: Optional[str] = None) -> None:
        super().__init__(name or unique_name("batchnorm"))
        if int(num_features) < 1:
            raise ArgumentError(f"BatchNorm: num_features must be positive, got {num_features!r}")
        if not 0.0 <= momentum <= 1.0:
            raise ArgumentError(f"BatchNorm: momentum must be in [0, 1], got {momentum!r}")
        self.features, self.momentum, self.eps, self.axis = int(num_features), float(momentum), float(eps), int(axis)
        with sg.scope(self.name):
            self.running_mean = sg.param(np.zeros(self.features, dtype), name="running_mean")
            self.running_var = sg.param(np.ones(self.features, dtype), name="running_var")
            self.gamma = self.beta = None
            if affine:
                self.gamma = sg.param(np.ones(self.features, dtype), name="gamma")
                self.beta = sg.param(np.zeros(self.features, dtype), name="beta")
        self._batch: Optional[tuple[sg.Node, sg.Node, Any]] = None

    def params(self) -> list[sg.Node]:
        return [self.gamma, self.beta] if self.gamma is not None else []

    def state(self) -> list[sg.Node]:
        return [self.running_mean, self.running_var]

    def state_updates(self) -> dict:
        """The running averages' step, from the last training graph built by this layer."""
        if self._batch is None:
            return {}
        mean, var, count = self._batch
        m = self.momentum
        unbiased = var * (count / sg.maximum(count - 1.0, 1.0))
        return {self.running_mean: (1.0 - m) * self.running_mean + m * mean,
                self.running_var: (1.0 - m) * self.running_var + m * unbiased}

    def _channel_shape(self, x: sg.Node) -> tuple[tuple, tuple]:
        axis = self.axis % x.ndim if x.ndim else 0
        if x.ndim < 2 or x.shape[axis] != self.features:
            raise sg.ShapeError(f"BatchNorm {self.name}: expects {self.features} channels on "
                                f"axis {self.axis}, got input shape {x.shape}{x.where()}")
        shape = tuple(self.features if k == axis else 1 for k in range(x.ndim))
        return shape, tuple(k for k in range(x.ndim) if k != axis)

    def forward(self, x: sg.Node, training: bool) -> sg.Node:
        shape, axes = self._channel_shape(x)
        if training:
            mu, var = _moments(x, axes)
            mean_c, var_c = sg.reshape(mu, (self.features,)), sg.reshape(var, (self.features,))
            count = _count(x, axes)
            self._batch = (mean_c, var_c, count)
        else:
            mu = sg.reshape(self.running_mean, shape)
            var = sg.reshape(self.running_var, shape)
        y = (x - mu) / sg.sqrt(var + self.eps)
        if self.gamma is None:
            return y
        return y * sg.reshape(self.gamma, shape) + sg.reshape(self.beta, shape)


def _count(x: sg.Node, axes: tuple) -> sg.Node:
    """How many values each channel's statistics average (read at run time if unknown)."""
    sizes = [x.shape[a] for a in axes]
    if None not in sizes:
        return sg.const(float(np.prod(sizes)), x.dtype)
    return apply("axis_size", [x], axis=axes, dtype=x.dtype)
