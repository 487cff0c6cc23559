"""The drawing records every style and view produces and ``dot.py`` writes out.

A style turns a graph into a ``Figure``: boxes (drawn nodes), links (drawn edges), groups
(top-level clusters such as "before" / "after") and a caption. Keeping this step separate
from DOT text lets views recolour or combine figures without parsing DOT.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

# Keys of the record fields a box may override on top of its kind's look.
Attrs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Box:
    """One drawn node: a DOT id, a label, a kind (see ``palette``) and where it sits."""

    key: str
    label: str
    kind: str
    scope: str = ""
    group: str = ""
    tooltip: str = ""
    xlabel: str = ""
    output: bool = False
    attrs: Attrs = ()


@dataclass(frozen=True)
class Link:
    """One drawn edge from box ``src`` to box ``dst``."""

    src: str
    dst: str
    label: str = ""
    attrs: Attrs = ()


@dataclass(frozen=True)
class Figure:
    """Everything one drawing holds, in drawing order."""

    boxes: tuple[Box, ...]
    links: tuple[Link, ...]
    caption: str = ""
    rankdir: str = "TB"
    groups: tuple[tuple[str, str], ...] = ()   # (group id, cluster label), in order
    legend: tuple[str, ...] = ()               # palette entries shown in the legend
    clusters: bool = True                      # draw name scopes as clusters
    ranks: tuple[tuple[str, ...], ...] = ()    # boxes drawn side by side (same rank)
    attrs: Attrs = ()                          # extra graph attributes (spacing, limits)
    legend_below: bool = False                 # legend under the outputs, not beside them


@dataclass(frozen=True)
class Options:
    """Drawing options shared by every style (see ``sg.to_dot`` for their meaning)."""

    style: str = "ops"
    rankdir: Optional[str] = None
    legend: bool = True
    types: Optional[bool] = None
    locations: bool = True
    budget: int = 400
    collapse: tuple[str, ...] = ()
    clusters: bool = True
    names: Any = None          # {node: label} mapping, or None
    caption: Optional[str] = None
    max_units: int = 8
    show_biases: bool = False


@dataclass(frozen=True)
class Drawing:
    """A finished drawing: its DOT text, caption and counts; shows itself in Jupyter."""

    dot: str
    caption: str = ""
    counts: tuple[tuple[str, int], ...] = ()
    # How to draw the same thing again with other options (``remake(style=..., **options)``
    # overriding the ones it was drawn with); None for a drawing made from DOT text alone.
    remake: Optional[Callable[..., "Drawing"]] = field(default=None, compare=False,
                                                       repr=False)

    def __deepcopy__(self, memo: dict) -> "Drawing":
        return self       # frozen: a copy would be the same drawing

    def __reduce__(self) -> tuple:
        # A pickled drawing keeps its DOT text, caption and counts, not how to remake it
        # (that holds the graph); redrawing an unpickled one with options says so.
        return (Drawing, (self.dot, self.caption, self.counts))

    def count(self, what: str) -> int:
        """One of the drawing's counts (e.g. ``"added"`` for a diff), 0 when absent."""
        return dict(self.counts).get(what, 0)

    def redraw(self, style: Optional[str] = None, **options: Any) -> "Drawing":
        """The same drawing with ``style`` and ``options`` changed (the others as before);
        itself when nothing is asked. A drawing that cannot be redrawn says so."""
        if style is None and not options:
            return self
        if self.remake is None:
            asked = ", ".join((["style"] if style is not None else []) + sorted(options))
            raise TypeError(f"cannot apply {asked} to this drawing: it holds DOT text only "
                            "(draw the graph itself with these options instead)")
        if style is not None:
            options["style"] = style
        return self.remake(**options)

    def render(self, path: str, **options: Any) -> str:
        """Write the drawing to ``path`` (format by suffix); options as for ``sg.render``
        (drawing options redraw it first); returns the path."""
        from symgraph.render.svg import render
        return render(self, path, **options)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        from symgraph.render.svg import mimebundle
        return mimebundle(self)

    def __str__(self) -> str:
        return self.dot


def remaker(fn: Callable[..., Drawing], *args: Any, **base: Any) -> Callable[..., Drawing]:
    """``Drawing.remake`` for a view: calls ``fn(*args, **base)`` with new options laid
    over ``base`` (a partial of a module-level function, so a drawing pickles when its
    graph does)."""
    return functools.partial(_again, fn, args, base)


def _again(fn: Callable[..., Drawing], args: tuple, base: dict, **new: Any) -> Drawing:
    return fn(*args, **dict(base, **new))
