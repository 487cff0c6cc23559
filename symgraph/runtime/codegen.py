"""Emit one straight-line Python function per compiled graph, and compile it.

The source reads like hand-written NumPy: one statement per node, named ``v<slot>`` after
the node's position in the topological order, with the node's name, op and the user's
line in a comment; ``del`` drops each intermediate after its last use; ``out=`` marks the
in-place writes and reused buffers the memory plan chose. Identifiers are generated, never
taken from user names, and the text depends only on the graph, so it is deterministic.
"""
from __future__ import annotations

import functools
import itertools
import os
import re
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

import numpy as np

from symgraph.graph import Node
from symgraph.ops.registry import get_op
from symgraph.runtime.memory import Plan, ufunc_of
from symgraph.runtime.schedule import Schedule, Step

_counter = itertools.count()
_UNSAFE = re.compile(r"[^\w .,:#'()\-/<>\[\]=+*@]")


@dataclass(frozen=True)
class Program:
    """Generated source, the compiled function, and which source line runs which step."""

    source: str
    run: Callable[..., tuple]
    filename: str
    line_step: dict        # source line number -> step position
    returned: tuple        # target slots in the order ``run`` returns them
    spares: tuple = ()     # parameter slots whose spare buffers ``run`` takes after the inputs


def _comment(n: Node, cache: dict) -> str:
    # Types and files repeat across thousands of nodes: format each once.
    t = cache.get(n.type)
    if t is None:
        t = cache[n.type] = str(n.type)
    # No node id: rewrites build nodes with fresh ids, and the source must not depend on
    # how many nodes the process built before this compile.
    text = f"{n.op} {t}" if not n.name else _UNSAFE.sub("?", f"{n.name!r} {n.op} {t}")
    loc = n.location
    if loc is not None:
        f = cache.get(loc.filename)
        if f is None:
            f = cache[loc.filename] = _UNSAFE.sub("?", os.path.basename(loc.filename))
        text += f" at {f}:{loc.lineno}"
    return text


def generate(sched: Schedule, plan: Plan, inputs: Sequence[Node], targets: Sequence[Node],
             check_nan: bool = False, name: str = "compiled") -> Program:
    """Write, compile and return the function running ``sched`` under ``plan``."""
    namespace: dict[str, Any] = {"__builtins__": {}}
    cache: dict = {}
    lines: list[str] = []
    line_step: dict[int, int] = {}
    slot = sched.slot
    args = []
    for k, v in enumerate(inputs):
        args.append(f"v{slot[v.id]}" if v.id in slot else f"_unused{k}")
    # An update computed in place is written into a spare buffer of its parameter, never
    # into the live one: the caller swaps them only once every value exists.
    spares = tuple(plan.param_writes[t.id] for t in targets if t.id in plan.param_writes)
    args.extend(f"_s{s}" for s in spares)
    lines.append(f"def run({', '.join(args)}):  # {_UNSAFE.sub('?', name)}")
    for k, n in enumerate(sched.nodes):
        if n.op == "param":
            namespace[f"_p{k}"] = n.payload
            lines.append(f"    v{k} = _p{k}.value  # parameter {_comment(n, cache)}")
        elif n.op == "const":
            namespace[f"_c{k}"] = n.payload
    if check_nan:
        namespace["_check"] = _check_finite
    for pos, step in enumerate(sched.steps):
        n = step.node
        kname = _kernel_name(n, step, namespace)
        call_args = [_value(sched.nodes[a], a) for a in step.args]
        target = plan.out.get(pos)
        call = f"{kname}({', '.join(call_args)})"
        call = _inline(n, call_args, call, namespace) or call
        if target is not None:
            buffer = f"_s{target[1]}" if target[0] == "param" else f"v{target[1]}"
            into = f"{kname}({', '.join(call_args + [f'out={buffer}'])})"
            guards = target[2] if len(target) > 2 else ()
            if guards:
                # Sizes unknown until run time: write in place only when no input
                # broadcasts the target to a bigger shape.
                test = " and ".join(f"v{g}.shape == v{target[1]}.shape" for g in guards)
                call = f"{into} if {test} else {call}"
            else:
                call = into
        note = {"inplace": "  (in place)", "reuse": "  (reused buffer)",
                "param": "  (into the parameter's spare buffer)"}.get(target[0], "") if target else ""
        lines.append(f"    v{step.out} = {call}  # {_comment(n, cache)}{note}")
        line_step[len(lines)] = pos
        if check_nan and n.dtype.kind in "fc":
            lines.append(f"    _check(v{step.out}, {pos})")
            line_step[len(lines)] = pos
        dead = [d for d in plan.free.get(pos, ()) if _worth_freeing(sched.nodes[d])]
        if dead:
            lines.append(f"    del {', '.join(f'v{d}' for d in dead)}")
    returned = tuple(slot[t.id] for t in targets if t.id not in plan.param_writes)
    items = "".join(f"{_value(sched.nodes[r], r)}, " for r in returned)
    lines.append(f"    return ({items})")
    source = "\n".join(lines) + "\n"
    filename = f"<symgraph {_safe_name(name)} {next(_counter)}>"
    code = compile(source, filename, "exec")
    exec(code, namespace)  # noqa: S102 - our own generated source, no user text in code
    return Program(source, namespace["run"], filename, line_step, returned, spares)


# Smaller values are left to die when the call returns: a ``del`` costs compile time and
# a bytecode, and frees next to nothing.
FREE_MIN_BYTES = 1024


def _worth_freeing(n: Node) -> bool:
    if None in n.shape:
        return True
    size = 1
    for d in n.shape:
        size *= d
    return size * n.dtype.itemsize >= FREE_MIN_BYTES


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"\W", "_", name or "compiled")
    return cleaned if cleaned and not cleaned[0].isdigit() else f"f_{cleaned}"


def _value(n: Node, k: int) -> str:
    return f"_c{k}" if n.op == "const" else f"v{k}"


def _kernel_name(n: Node, step: Step, namespace: dict) -> str:
    ufunc = ufunc_of(n)
    if ufunc is not None:
        # Plain ufuncs are shared by name: the call costs what calling NumPy costs.
        key = f"_{ufunc.__name__}"
        namespace.setdefault(key, ufunc)
        return key
    key = f"_k{step.out}"
    kernel = step.kernel
    raw = getattr(get_op(n.op).kernel, "__wrapped__", None)
    if raw is not None and not all(i.type.weak for i in n.inputs):
        # The weak-scalar wrapper only acts when every input is a Python scalar.
        kernel = functools.partial(raw, **dict(n.attrs)) if n.attrs else raw
    namespace[key] = kernel
    return key


def _holds_array(n: Node) -> bool:
    """The value of ``n`` at run time is surely an ndarray (parameters hold what users
    assign, weak values may be Python scalars)."""
    if n.ndim == 0 or n.type.weak or n.op == "param":
        return False
    return n.op != "const" or isinstance(n.payload, np.ndarray)


def _inline(n: Node, args: list[str], call: str, namespace: dict) -> Optional[str]:
    """A cheaper expression computing exactly what the kernel call ``call`` computes, for
    the few shape ops the gradient graph is full of; ``None`` keeps the call.

    On the small tensors of a training step these ops cost more in Python-level NumPy
    wrappers (``np.transpose``, ``np.expand_dims``, ``np.sum``) than in work.
    """
    if n.op == "sum_to_like" and _holds_array(n.inputs[0]) and _holds_array(n.inputs[1]):
        # The kernel returns its input itself when the shapes already agree.
        return f"{args[0]} if {args[0]}.shape == {args[1]}.shape else {call}"
    if not n.inputs or not _holds_array(n.inputs[0]):
        return None
    if n.op == "transpose":
        return f"{args[0]}.transpose({tuple(n.attr('axes'))!r})"
    if n.op == "expand_dims":
        axes = {a % n.ndim for a in n.attr("axis")}
        index = ", ".join("None" if k in axes else ":" for k in range(n.ndim))
        return f"{args[0]}[{index},]"
    if n.op == "sum" and n.dtype == n.inputs[0].dtype and n.dtype.kind in "fc":
        # np.sum on an ndarray is this call after argument handling in Python.
        namespace.setdefault("_add_reduce", np.add.reduce)
        axis = n.attr("axis")
        axis = None if axis is None else tuple(axis)
        return f"_add_reduce({args[0]}, axis={axis!r}, keepdims={bool(n.attr('keepdims'))})"
    return None


class NonFiniteValue(Exception):
    """Raised by ``check_nan`` code at the first step whose value holds NaN or Inf."""

    def __init__(self, position: int, value: Any) -> None:
        super().__init__(position)
        self.position = position
        self.value = value


def _check_finite(value: Any, position: int) -> None:
    if not np.all(np.isfinite(value)):
        raise NonFiniteValue(position, value)


def failing_step(program: Program, exc: BaseException) -> Optional[tuple[int, dict]]:
    """The step position and local values of the generated frame ``exc`` went through."""
    tb = exc.__traceback__
    found = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == program.filename:
            found = tb
        tb = tb.tb_next
    if found is None:
        return None
    pos = program.line_step.get(found.tb_lineno)
    return None if pos is None else (pos, dict(found.tb_frame.f_locals))
