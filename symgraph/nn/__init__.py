"""The model layer: layers, activations, initialisers, losses and regularisers, all built
on symgraph's public API."""
from symgraph.nn import activations, init, losses, regularizers
from symgraph.nn.activations import (abs_rectify, elu, gelu, hard_tanh, identity,
                                     leaky_relu, mish, selu, silu, softsign, swish)
from symgraph.nn.embedding import Embedding
from symgraph.nn.normalization import BatchNorm, LayerNorm
from symgraph.nn.conv import AvgPool2D, Conv2D, MaxPool2D
from symgraph.nn.layers import (MLP, Activation, Dense, Dropout, Flatten, Layer, Residual,
                                Sequential)
from symgraph.nn.losses import (accuracy, binary_cross_entropy, binary_cross_entropy_probs,
                                huber, l1, mse, softmax_cross_entropy)

__all__ = ["activations", "init", "losses", "regularizers", "abs_rectify", "identity",
           "elu", "gelu", "hard_tanh", "leaky_relu", "mish", "selu", "silu", "softsign",
           "swish", "Embedding", "BatchNorm", "LayerNorm",
           "AvgPool2D", "Conv2D", "MaxPool2D", "MLP", "Activation", "Dense", "Dropout",
           "Flatten", "Layer", "Residual", "Sequential", "accuracy", "binary_cross_entropy",
           "binary_cross_entropy_probs", "huber", "l1", "mse", "softmax_cross_entropy"]
