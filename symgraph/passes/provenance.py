"""What became of each node: the record every pass returns beside its new graph."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from symgraph.graph import Node

KEPT = "kept"
MERGED = "merged"
FOLDED = "folded"
REWRITTEN = "rewritten"
DEAD = "dead"


@dataclass(frozen=True)
class Fate:
    """The fate of one old node: ``how`` it went and the ``new`` node now standing for it."""

    old: Node
    new: Optional[Node]
    how: str
    rule: str = ""

    def __str__(self) -> str:
        target = f" -> {self.new.label}" if self.new is not None else ""
        rule = f" by {self.rule}" if self.rule else ""
        return f"{self.old.label}: {self.how}{rule}{target}"


@dataclass(frozen=True)
class PassResult:
    """New outputs, the fate of each old node (keyed by ``node.id``) and the pass's name."""

    outputs: tuple[Node, ...]
    fates: dict = field(default_factory=dict)
    name: str = ""
    # seconds spent in the rules of each pass a fused walk ran (empty for plain passes)
    times: dict = field(default_factory=dict)

    def new_node(self, old: Node) -> Optional[Node]:
        fate = self.fates.get(old.id)
        return None if fate is None else fate.new

    def counts(self) -> dict[str, int]:
        """How many old nodes met each fate."""
        out: dict[str, int] = {}
        for fate in self.fates.values():
            out[fate.how] = out.get(fate.how, 0) + 1
        return out


def compose(first: PassResult, second: PassResult) -> PassResult:
    """The fates of ``first``'s old nodes after ``second`` ran on ``first``'s outputs."""
    fates = {}
    for key, fate in first.fates.items():
        if fate.new is None:
            fates[key] = fate
            continue
        later = second.fates.get(fate.new.id)
        if later is None:
            # ``second`` never saw the node: nothing the outputs need reads it any more.
            fates[key] = Fate(fate.old, None, DEAD)
        elif later.how == KEPT:
            same = later.new is fate.new
            fates[key] = fate if same else Fate(fate.old, later.new, fate.how, fate.rule)
        elif fate.how == KEPT:
            fates[key] = Fate(fate.old, later.new, later.how, later.rule)
        else:
            fates[key] = Fate(fate.old, later.new, fate.how, fate.rule)
    return PassResult(second.outputs, fates, f"{first.name}+{second.name}")
