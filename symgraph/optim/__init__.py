"""Optimisers. First-order ones compile into the training step through ``updates`` (their
state lives in parameters); second-order ones (Newton, Newton-CG) and Lanczos drive
compiled gradient and Hessian-vector-product functions from Python."""
from symgraph.optim.adagrad import AdaGrad
from symgraph.optim.adam import Adam
from symgraph.optim.adamw import AdamW
from symgraph.optim.clip import clip_by_global_norm, global_norm
from symgraph.optim.base import Optimizer, step_function
from symgraph.optim.hessian import FlatModel, hvp_nodes
from symgraph.optim.lanczos import Spectrum, hessian_spectrum, lanczos
from symgraph.optim.momentum import Momentum, Nesterov
from symgraph.optim.newton import Newton
from symgraph.optim.newton_cg import NewtonCG, conjugate_gradient
from symgraph.optim.perceptron import Perceptron
from symgraph.optim.rmsprop import RMSProp
from symgraph.optim.schedules import Constant, ExponentialDecay, LinearAnnealing
from symgraph.optim.sgd import SGD

__all__ = ["AdaGrad", "Adam", "AdamW", "clip_by_global_norm", "global_norm", "Optimizer", "step_function", "FlatModel", "hvp_nodes",
           "Spectrum", "hessian_spectrum", "lanczos", "Momentum", "Nesterov", "Newton",
           "NewtonCG", "conjugate_gradient", "Perceptron", "RMSProp", "Constant",
           "ExponentialDecay", "LinearAnnealing", "SGD"]
