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
    # keyed by identity: TensorType's dataclass hash and equality run in Python
    hit = cache.get(id(n.type))
    if hit is not None and hit[0] is n.type:
        t = hit[1]
    else:
        t = str(n.type)
        cache[id(n.type)] = (n.type, t)
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
             check_nan: bool = False, name: str = "compiled",
             fused: Optional[dict] = None) -> Program:
    """Write, compile and return the function running ``sched`` under ``plan``.

    ``fused`` maps fusion groups (``runtime/fused.py``) to the callables running them: each
    group's steps become one call at the group's first position, and the values that live
    only inside a group get no name (no step outside reads them; none is written into).
    """
    starts = {g.positions[0]: (g, call) for g, call in (fused or {}).items()}
    skipped = {p for g in starts.values() for p in g[0].positions}
    internal = {s for g in starts.values() for s in g[0].internal}
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
    # The spares are named as slots past the graph's (``v<n+j>``), so the threaded runner
    # below treats them like any argument.
    spares = tuple(plan.param_writes[t.id] for t in targets if t.id in plan.param_writes)
    spare_name = {p: f"v{len(sched.nodes) + j}" for j, p in enumerate(spares)}
    args.extend(spare_name[p] for p in spares)
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
        if pos in starts:
            group, call = starts[pos]
            key = f"_k{step.out}"
            namespace[key] = call
            outs = "".join(f"v{o}, " for o in group.outputs)
            # the arrays the kernel writes into (Group.buffers): a parameter's spare buffer,
            # or an input that dies in the group
            into = [spare_name[b[1]] if b[0] == "param" else f"v{b[1]}"
                    for b in group.buffers if b is not None]
            ins = ", ".join([_value(sched.nodes[a], a) for a in group.inputs] + into)
            lines.append(f"    {outs}= {key}({ins})  # fused: {group.ops} elementwise ops "
                         f"(first {_comment(n, cache)})")
            line_step[len(lines)] = pos
            if check_nan:
                for o in group.outputs:
                    lines.append(f"    _check(v{o}, {pos})")
                    line_step[len(lines)] = pos
        if pos in skipped:
            dead = [d for d in plan.free.get(pos, ())
                    if d not in internal and _worth_freeing(sched.nodes[d])]
            if dead:
                lines.append(f"    del {', '.join(f'v{d}' for d in dead)}")
            continue
        kname = _kernel_name(n, step, namespace)
        call_args = [_value(sched.nodes[a], a) for a in step.args]
        target = plan.out.get(pos)
        if target is not None and target[1] in internal:
            target = None          # that buffer is never made: the group kept it inside
        call = f"{kname}({', '.join(call_args)})"
        call = _inline(n, call_args, call, namespace) or call
        if target is not None:
            buffer = spare_name[target[1]] if target[0] == "param" else f"v{target[1]}"
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
        dead = [d for d in plan.free.get(pos, ())
                if d not in internal and _worth_freeing(sched.nodes[d])]
        if dead:
            lines.append(f"    del {', '.join(f'v{d}' for d in dead)}")
    returned = tuple(slot[t.id] for t in targets if t.id not in plan.param_writes)
    items = "".join(f"{_value(sched.nodes[r], r)}, " for r in returned)
    lines.append(f"    return ({items})")
    source = "\n".join(lines) + "\n"
    filename = f"<symgraph {_safe_name(name)} {next(_counter)}>"
    if len(sched.steps) >= THREADED_MIN_STEPS:
        run = _threaded(lines, namespace, len(sched.nodes) + len(spares))
        return Program(source, run, filename, line_step, returned, spares)
    code = compile(source, filename, "exec")
    exec(code, namespace)  # noqa: S102 - our own generated source, no user text in code
    return Program(source, namespace["run"], filename, line_step, returned, spares)


# From this many steps on, the source is run as threaded code (below) instead of being
# compiled: CPython's compiler costs ~20 us a statement and grows faster than the source,
# which made code generation 60% of compiling a 100k-node graph.
THREADED_MIN_STEPS = 20_000

_TOKEN = re.compile(r"\b(v|_c|_k|_p)(\d+)\b")
_NUMBER = re.compile(r"(?<=\bv)\d+\b|(?<=\b_[ckp])\d+\b")   # a token's number alone
# statement skeleton (numbers taken out) -> its template function
_templates: dict[str, Callable] = {}
# names every program shares (``_add``, ``_check``): the templates' globals
_shared: dict[str, Any] = {"__builtins__": {}}


def _template(skeleton: str, kinds: list[str]) -> Callable:
    """The function running one statement shape: ``v# = _k#(v#)`` with kinds
    ``[v, _k, v]`` is ``def t(V, p0, p1, p2): V[p0] = p1(V[p2])``."""
    fn = _templates.get(skeleton)
    if fn is not None:
        return fn
    parts = skeleton.split("#")
    if skeleton.startswith("del "):
        code = " = ".join(f"V[p{i}]" for i in range(len(kinds))) + " = None"
    else:
        code = parts[0]
        for i, (kind, rest) in enumerate(zip(kinds, parts[1:])):
            # the skeleton ends each token with its kind: strip it, put the placeholder
            code = code[: len(code) - len(kind)] + (f"V[p{i}]" if kind == "v" else f"p{i}") + rest
    params = ", ".join(["V"] + [f"p{i}" for i in range(len(kinds))])
    space: dict[str, Any] = {}
    exec(compile(f"def t({params}):\n    {code}\n", "<symgraph template>", "exec"),  # noqa: S102
         _shared, space)
    fn = _templates[skeleton] = space["t"]
    return fn


def _threaded(lines: list[str], namespace: dict, size: int) -> Callable[..., tuple]:
    """A runner of the generated statements that does not compile them one by one.

    Each statement is an instance of a template, its slot numbers and per-program objects
    taken out as arguments (``v7 = _k7(v3, out=v3)`` is ``V[p0] = p1(V[p2], out=V[p3])``);
    the few distinct templates compile once per process and the runner calls them in order
    on a list of slots, ~0.2 us a step more than the compiled function.
    """
    for key, value in namespace.items():
        if key != "__builtins__" and not _TOKEN.fullmatch(key):
            _shared.setdefault(key, value)
    head = lines[0]
    names = [a for a in head[head.index("(") + 1 : head.index(")")].split(", ") if a]
    arg_slots = [int(a[1:]) if a.startswith("v") else None for a in names]

    def instance(code: str) -> tuple[Callable, tuple]:
        tokens = _TOKEN.findall(code)
        fn = _template(_NUMBER.sub("#", code), [k for k, _ in tokens])
        return fn, tuple(int(n) if k == "v" else namespace[k + n] for k, n in tokens)

    body: list[tuple[Callable, tuple]] = []
    where: list[int] = []          # source line of each body entry
    for number, line in enumerate(lines[1:-1], start=2):
        body.append(instance(line.split("  # ", 1)[0].strip()))
        where.append(number)
    ret, ret_args = instance(lines[-1].strip())

    def run(*args: Any) -> tuple:
        V: list[Any] = [None] * size
        for s, a in zip(arg_slots, args):
            if s is not None:
                V[s] = a
        i = -1
        try:
            for fn, a in body:
                i += 1
                fn(V, *a)
        except Exception as exc:
            exc._symgraph_at = (where[i], V)   # type: ignore[attr-defined]
            raise
        return ret(V, *ret_args)
    return run


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
    at = getattr(exc, "_symgraph_at", None)
    if at is not None:      # threaded code: the runner noted the line and the slots
        line, slots = at
        pos = program.line_step.get(line)
        local = {f"v{k}": v for k, v in enumerate(slots) if v is not None}
        return None if pos is None else (pos, local)
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
