"""Layers: small objects that own parameters and build nodes when called on a node.

A layer builds its nodes inside its own name scope (so drawings cluster by layer) and
knows three lists of parameters: ``params()`` (trained), ``weights()`` (the subset that
regularisers penalise: kernels, not biases) and ``state()`` (not trained: dropout
counters), with ``state_updates()`` saying how the state moves on each training step.

Calling ``layer(x, training=True)`` builds the training graph (dropout active);
``training=False`` builds the inference graph. Both read the same parameters.
"""
from __future__ import annotations

import itertools
import math
from typing import Any, Optional, Sequence

import numpy as np

import symgraph as sg
from symgraph.errors import ArgumentError
from symgraph.types import as_size
from symgraph.nn import activations, init as inits

_counters: dict[str, itertools.count] = {}
_seeds = itertools.count()


def unique_name(prefix: str) -> str:
    """``prefix``, then ``prefix_1``, ``prefix_2``, ... in creation order."""
    k = next(_counters.setdefault(prefix, itertools.count()))
    return prefix if k == 0 else f"{prefix}_{k}"


def _rng(seed: Any) -> np.random.Generator:
    # No seed: the next child of the package generator (sg.random), so layers of one
    # shape start different and sg.random.seed(s) reproduces them all.
    if seed is None:
        return sg.random.generator()
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


class Layer:
    """Base class: a name scope plus parameter bookkeeping."""

    def __init__(self, name: Optional[str] = None) -> None:
        self.name = name or unique_name(type(self).__name__.lower())
        # The scope the layer's parameters are built in; its ops are built there too, so a
        # layer made outside the model that calls it still draws as one cluster.
        self.scope = "/".join(part for part in (sg.current_scope(), self.name) if part)

    def params(self) -> list[sg.Node]:
        """Trainable parameters."""
        return []

    def weights(self) -> list[sg.Node]:
        """The parameters regularisers penalise (weight matrices and kernels, not biases)."""
        return []

    def state(self) -> list[sg.Node]:
        """Parameters that change during training but are not trained (e.g. RNG counters)."""
        return []

    def state_updates(self) -> dict:
        """``{state param: new value}`` for one training step."""
        return {}

    def __call__(self, x: Any, training: bool = False) -> sg.Node:
        with sg.scope_path(self.scope):
            return self.forward(sg.const(x) if not isinstance(x, sg.Node) else x, training)

    def forward(self, x: sg.Node, training: bool) -> sg.Node:
        raise NotImplementedError


class Dense(Layer):
    """The affine layer ``act(x @ W + b)`` with ``W`` of shape (fan_in, fan_out)."""

    def __init__(self, fan_in: int, fan_out: int, activation: Any = None, init: Any = None,
                 bias: bool = True, seed: Any = None, dtype: str = "float64",
                 name: Optional[str] = None, W: Any = None, b: Any = None) -> None:
        super().__init__(name or unique_name("dense"))
        fan_in = as_size("Dense", "fan_in", fan_in, least=1)
        fan_out = as_size("Dense", "fan_out", fan_out, least=1)
        self.activation = activations.get(activation)
        if init is None:   # He for rectifiers, Glorot for saturating units
            init = "he_normal" if activation in ("relu", "abs") else "glorot_uniform"
        rng = _rng(seed)
        w0 = inits.get(init)((fan_in, fan_out), rng) if W is None else np.asarray(W)
        with sg.scope(self.name):
            self.W = sg.param(np.asarray(w0, dtype=dtype), name="W")
            self.b = None
            if bias:
                b0 = np.zeros(fan_out) if b is None else np.asarray(b)
                self.b = sg.param(np.asarray(b0, dtype=dtype), name="b")

    def params(self) -> list[sg.Node]:
        return [self.W] + ([self.b] if self.b is not None else [])

    def weights(self) -> list[sg.Node]:
        return [self.W]

    def forward(self, x: sg.Node, training: bool) -> sg.Node:
        z = x @ self.W
        if self.b is not None:
            z = z + self.b
        return self.activation(z)


class Activation(Layer):
    """An activation function as a layer."""

    def __init__(self, activation: Any, name: Optional[str] = None) -> None:
        fn = activations.get(activation)
        super().__init__(name or unique_name(activation if isinstance(activation, str) else "activation"))
        self.fn = fn

    def forward(self, x: sg.Node, training: bool) -> sg.Node:
        return self.fn(x)


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1*d2*...)."""

    def forward(self, x: sg.Node, training: bool) -> sg.Node:
        rest = x.shape[1:]
        if None in rest:
            raise sg.ShapeError(f"Flatten: needs static sizes after the batch axis, got "
                                f"{x.shape}{x.where()}")
        return sg.reshape(x, (-1, math.prod(rest)))


class Dropout(Layer):
    """Inverted dropout: in training, zero each unit with probability ``rate`` and scale the
    survivors by 1 / (1 - rate); at inference, the identity.

    Scaling at training time keeps the expected activation equal to the inference one, so
    the inference graph needs no rescaled weights (the textbook's "multiply by p at test
    time" gives the same expectation). The mask is a ``dropout_mask`` op reading a counter
    parameter; ``state_updates()`` advances the counter, so every training step draws a new
    mask, reproducibly from ``seed``.
    """

    def __init__(self, rate: float, seed: Optional[int] = None, name: Optional[str] = None) -> None:
        super().__init__(name or unique_name("dropout"))
        if not 0.0 <= rate < 1.0:
            raise ArgumentError(f"Dropout: rate must be in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self.seed = next(_seeds) if seed is None else int(seed)
        with sg.scope(self.name):
            self.counter = sg.param(np.int64(0), name="counter")

    def state(self) -> list[sg.Node]:
        return [self.counter]

    def state_updates(self) -> dict:
        return {self.counter: self.counter + 1}

    def forward(self, x: sg.Node, training: bool) -> sg.Node:
        if not training or self.rate == 0.0:
            return x
        keep = 1.0 - self.rate
        # unnamed: a named node would count as a layer of its own in "layers" drawings
        # The 1/keep scale lives in the mask's entries: one multiply forward and one
        # backward, instead of scaling the whole activation and its gradient again.
        mask = sg.dropout_mask(self.counter, x, keep=keep, seed=self.seed, scale=1.0 / keep)
        return x * mask


class Sequential(Layer):
    """Layers applied one after another."""

    def __init__(self, layers: Sequence[Layer], name: Optional[str] = None) -> None:
        super().__init__(name or unique_name("sequential"))
        self.layers = list(layers)

    def params(self) -> list[sg.Node]:
        return [p for layer in self.layers for p in layer.params()]

    def weights(self) -> list[sg.Node]:
        return [p for layer in self.layers for p in layer.weights()]

    def state(self) -> list[sg.Node]:
        return [p for layer in self.layers for p in layer.state()]

    def state_updates(self) -> dict:
        out: dict = {}
        for layer in self.layers:
            out.update(layer.state_updates())
        return out

    def forward(self, x: sg.Node, training: bool) -> sg.Node:
        for layer in self.layers:
            x = layer(x, training)
        return x


class Residual(Layer):
    """``act(x + block(x))``: the block learns a correction to the identity (a ResNet unit).

    The block's output must have ``x``'s shape.
    """

    def __init__(self, block: Layer, activation: Any = "relu", name: Optional[str] = None) -> None:
        super().__init__(name or unique_name("residual"))
        self.block = block
        self.activation = activations.get(activation)

    def params(self) -> list[sg.Node]:
        return self.block.params()

    def weights(self) -> list[sg.Node]:
        return self.block.weights()

    def state(self) -> list[sg.Node]:
        return self.block.state()

    def state_updates(self) -> dict:
        return self.block.state_updates()

    def forward(self, x: sg.Node, training: bool) -> sg.Node:
        return self.activation(x + self.block(x, training))


def MLP(sizes: Sequence[int], activation: Any = "relu", output_activation: Any = None,
        dropout: float = 0.0, init: Any = None, seed: Any = None, dtype: str = "float64",
        name: Optional[str] = None) -> Sequential:
    """A multilayer perceptron ``sizes[0] -> ... -> sizes[-1]``.

    Hidden layers use ``activation`` (followed by dropout when ``dropout > 0``); the last
    layer uses ``output_activation`` (linear by default: losses take logits).
    """
    sizes = [as_size("MLP", "every size", s, least=1) for s in sizes]
    if len(sizes) < 2:
        raise ArgumentError(f"MLP: needs at least input and output sizes, got {list(sizes)}")
    rng = _rng(seed)
    name = name or unique_name("mlp")
    layers: list[Layer] = []
    last = len(sizes) - 2
    with sg.scope(name):   # parameters live in the model's scope too: mlp/layer1/W
        for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            act = output_activation if k == last else activation
            layers.append(Dense(a, b, act, init=init, seed=rng, dtype=dtype, name=f"layer{k + 1}"))
            if k != last and dropout > 0:
                layers.append(Dropout(dropout, seed=int(rng.integers(2**31)), name=f"dropout{k + 1}"))
    return Sequential(layers, name=name)
