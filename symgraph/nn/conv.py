"""Convolutional layers: 2-D convolution and max / average pooling, NCHW layout."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

import symgraph as sg
from symgraph.nn import activations, init as inits
from symgraph.nn.layers import Layer, _rng, unique_name
from symgraph.errors import ArgumentError


class Conv2D(Layer):
    """``act(conv2d(x, K, stride, padding) + b)`` with ``K`` of shape (out, in, k, k).

    ``padding="same"`` pads by (k - 1) // 2, which keeps H and W at stride 1 for odd k.
    """

    def __init__(self, in_channels: int, out_channels: int, ksize: int | tuple = 3,
                 stride: int = 1, padding: int | str = 0, activation: Any = None,
                 init: Any = "he_normal", bias: bool = True, seed: Any = None,
                 dtype: str = "float64", name: Optional[str] = None) -> None:
        super().__init__(name or unique_name("conv"))
        kh, kw = (ksize, ksize) if isinstance(ksize, int) else tuple(ksize)
        if padding == "same":
            if kh != kw:
                raise ArgumentError("Conv2D: padding='same' needs a square kernel")
            padding = (kh - 1) // 2
        self.stride, self.padding = int(stride), int(padding)
        self.activation = activations.get(activation)
        rng = _rng(seed)
        with sg.scope(self.name):
            k0 = inits.get(init)((out_channels, in_channels, kh, kw), rng)
            self.K = sg.param(np.asarray(k0, dtype=dtype), name="K")
            self.b = sg.param(np.zeros(out_channels, dtype=dtype), name="b") if bias else None

    def params(self) -> list[sg.Node]:
        return [self.K] + ([self.b] if self.b is not None else [])

    def weights(self) -> list[sg.Node]:
        return [self.K]

    def forward(self, x: sg.Node, training: bool) -> sg.Node:
        z = sg.conv2d(x, self.K, stride=self.stride, padding=self.padding)
        if self.b is not None:
            z = z + sg.reshape(self.b, (1, -1, 1, 1))
        return self.activation(z)


class MaxPool2D(Layer):
    """Maximum over ``size x size`` windows every ``stride`` pixels (``stride`` = ``size``
    by default)."""

    def __init__(self, size: int = 2, stride: Optional[int] = None, name: Optional[str] = None) -> None:
        super().__init__(name or unique_name("maxpool"))
        self.size, self.stride = size, stride or size

    def forward(self, x: sg.Node, training: bool) -> sg.Node:
        return sg.max_pool2d(x, self.size, self.stride)


class AvgPool2D(Layer):
    """Mean over ``size x size`` windows every ``stride`` pixels."""

    def __init__(self, size: int = 2, stride: Optional[int] = None, name: Optional[str] = None) -> None:
        super().__init__(name or unique_name("avgpool"))
        self.size, self.stride = size, stride or size

    def forward(self, x: sg.Node, training: bool) -> sg.Node:
        return sg.avg_pool2d(x, self.size, self.stride)
