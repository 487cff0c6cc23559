"""Exception types shared by every stage of the pipeline."""
from __future__ import annotations


class SymgraphError(Exception):
    """Base class of every error symgraph raises on purpose."""


class ShapeError(SymgraphError, ValueError):
    """Shapes that an op cannot combine (raised when the graph is built)."""


class DTypeError(SymgraphError, TypeError):
    """Dtypes that an op cannot combine or accept."""


class IndexingError(SymgraphError, IndexError):
    """An index that does not fit the indexed node's static shape."""


class InputError(SymgraphError, ValueError):
    """A compiled function was called with arguments it cannot take."""


class UnsupportedError(SymgraphError, TypeError):
    """A NumPy function or argument that symgraph does not offer on nodes (np.* dispatch)."""


class DisconnectedError(SymgraphError, ValueError):
    """A derivative was asked for with respect to a node the output does not depend on."""


class EvaluationError(SymgraphError, RuntimeError):
    """A kernel failed while a compiled function ran."""
