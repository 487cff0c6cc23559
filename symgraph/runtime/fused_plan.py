"""Which steps of a compiled function fuse into Numba kernels, and the text of each kernel.

No Numba here: this module plans groups and writes each group's kernel as Python source;
``runtime/fused.py`` compiles, caches and calls the kernels on its tiers.

A step fuses (``kind``) when it computes with a plain NumPy ufunc (``ufunc_of``: every such
op in the registry, whoever declared it) on floating values of fully known shapes (inputs
may broadcast), when it is a shape op on a single number (``expand_dims``, ``squeeze``,
``reshape``, a broadcast of a single number over the group's shape), or a ``sum`` of the
group's values to one number; and it does not write into a parameter (that path belongs
to the memory plan). A group is a run of such steps of one shape, or on single numbers
(0-d values, the scalars of a function differentiated to high order): the whole graph of
a scalar or small-vector function, its derivatives included, is typically one group.

A kernel computes single numbers once, outside any loop, and the array steps inside nested
loops over the group's shape, one scalar statement per step, the intermediate values kept
in registers; a sum accumulates in the loop of its input, and values needing it run in the
next loop ("phases"), arrays made in one loop and read in a later one kept in a buffer.
The text depends only on the group's structure, shapes and dtypes (names are numbered
within the kernel), so its hash keys the disk cache.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from symgraph.graph import Node
from symgraph.runtime.memory import Plan, ufunc_of
from symgraph.runtime.schedule import Schedule

MAX_GROUP_OPS = 240


# --- grouping ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Group:
    """Schedule positions fused into one kernel, and the slots it reads and writes."""

    positions: tuple[int, ...]
    inputs: tuple[int, ...]         # slots read from outside the group
    outputs: tuple[int, ...]        # slots other steps (or the caller) read
    internal: tuple[int, ...]       # slots that live only inside the kernel
    source: str                     # the kernel's Python source
    key: str                        # hash of the source
    shape: tuple = ()               # the shape every step of the group computes
    # per output, where the kernel writes it: ("param", slot) the parameter's spare buffer,
    # ("slot", slot) the array of an input that dies in the group, None a new array
    buffers: tuple = ()

    @property
    def ops(self) -> int:
        return len(self.positions)


# Shape ops a kernel computes when the values they move are single numbers, and the
# reductions of a group's loop to one number (gradients of sums are made of them:
# ``sum`` forward, ``expand_dims`` + ``broadcast_like`` back).
_SHAPE_OPS = frozenset({"expand_dims", "squeeze", "reshape", "broadcast_to", "broadcast_like",
                        "sum", "sum_to_like"})
_REDUCING = frozenset({"sum", "sum_to_like"})


def _single(n: Node) -> bool:
    """The value is one number (0-d, or every axis of size 1)."""
    shape = n.shape
    return not shape or all(d == 1 for d in shape)


def kind(n: Node) -> Optional[str]:
    """How a fused kernel computes ``n``, or None when it cannot.

    "ufunc": a plain NumPy ufunc (``ufunc_of``: every such op in the registry, whoever
    declared it) on floating values of fully known shapes; "same": a shape op on a single
    number, which keeps it; "broadcast": a single number spread over the loop's shape;
    "sum": the sum of the loop's values into one number.
    """
    if None in n.shape or n.dtype.kind != "f":
        return None
    u = ufunc_of(n)
    if u is not None:
        # a scalar ufunc only: np.matmul is a ufunc too, with a core signature
        if u.signature is not None or u.nout != 1:
            return None
        # inputs of fully known shapes only: a kernel indexes them without bounds checks,
        # and an unknown size might be a 1 that broadcasts at run time
        known = all((i.dtype.kind == "f" and None not in i.shape)
                    or (i.type.weak and i.op == "const") for i in n.inputs)
        return "ufunc" if known else None
    if n.op not in _SHAPE_OPS:
        return None
    if n.op in _REDUCING and any(k not in ("axis", "keepdims") for k, _ in n.attrs):
        return None             # a sum with a dtype, say
    x = n.inputs[0]
    if None in x.shape or x.dtype != n.dtype or (x.type.weak and not _literal(x)):
        return None
    if _single(x):
        return "same" if _single(n) else ("broadcast" if n.op.startswith("broadcast") else None)
    small = math.prod(x.shape) <= SUM_MAX_ELEMENTS
    return "sum" if n.op in _REDUCING and _single(n) and small else None


# Sums of at most this many elements fuse: on bigger arrays NumPy's pairwise SIMD sum is as
# fast, and a sum would keep an optimiser's big update group from fusing (VECTOR_UFUNCS).
SUM_MAX_ELEMENTS = 4096


def _reads(step: Any) -> tuple[int, ...]:
    """The slots whose values a kernel reads for ``step`` (``broadcast_like`` and
    ``sum_to_like`` read their second input's shape only, known when planning)."""
    if step.node.op in ("broadcast_like", "sum_to_like"):
        return step.args[:1]
    return step.args


def _loop_shape(n: Node, how: str) -> tuple:
    """The loop a step of kind ``how`` needs: its array's shape, or () for a number."""
    if how == "sum":
        return n.inputs[0].shape
    return () if _single(n) else n.shape


# A group is fused when it has at most this many elements per op. A NumPy call costs
# ~0.6 us before it touches memory, and a fused kernel saves that per op; on big arrays
# NumPy's SIMD loops (float32 tanh, exp) beat Numba's scalar calls to libm, and the MLP
# step's 2-3 op groups of 128x256 ran 1.6x slower fused.
ELEMENTS_PER_OP = 512


# A group of scalars (0-d values only) is fused from this many ops: a NumPy call on 0-d
# values costs ~0.4 us, the fused call ~2.6 us (converting its numbers in and out).
MIN_SCALAR_OPS = 7


# Ufuncs LLVM turns into SIMD instructions inside a kernel's loop over C-contiguous arrays.
# A group whose array steps are only these pays at any size: it makes one pass over memory
# where NumPy makes one per op (Adam's update of a 784x256 float32 weight: 260 us fused,
# 640 us as NumPy calls; `benchmarks/bench_adam_step.py`). Its single numbers (a learning
# rate's schedule) are computed once, before the loop, and do not count.
VECTOR_UFUNCS = frozenset({"add", "subtract", "multiply", "divide", "negative", "square",
                           "sqrt", "absolute"})


def _pays(shape: tuple, nodes: list[Node], kinds: list[str]) -> bool:
    if not shape:
        return len(nodes) >= MIN_SCALAR_OPS
    if len(nodes) < 2:
        return False
    if math.prod(shape) <= ELEMENTS_PER_OP * len(nodes):
        return True
    return all(k in ("same", "broadcast") or _single(n)
               or (k == "ufunc" and ufunc_of(n).__name__ in VECTOR_UFUNCS)
               for n, k in zip(nodes, kinds))


# On small arrays a NumPy call costs ~0.3-0.6 us whatever it computes, and a fused call
# ~1 us plus ~0.15 us an array passed in or out: the Rosenbrock HVP of a 3-vector, in groups
# of 2-3 ops with 3-5 arrays each, ran 1.13x the NumPy tier's time fused.
NUMPY_CALL_US, FUSED_CALL_US, ARRAY_US = 0.5, 1.0, 0.15


def _worth_a_call(shape: tuple, ops: int, ins: int, outs: int) -> bool:
    """A group of ``ops`` steps on small arrays saves more NumPy calls than its own call
    costs (groups of single numbers: ``MIN_SCALAR_OPS``; big arrays: ``_saves_passes``)."""
    if not shape or math.prod(shape) > ELEMENTS_PER_OP:
        return True
    return ops * NUMPY_CALL_US >= FUSED_CALL_US + ARRAY_US * (ins + outs)


def _saves_passes(sched: Schedule, run: list[int], ins: list[int], outs: tuple) -> bool:
    """On big arrays a group pays by the memory it does not walk: the arrays its kernel
    reads and writes must be at most half of those NumPy's calls read and write, one by
    one. NumPy writes 2-3 op groups in place into the arrays they read; fused into a kernel
    with new outputs, the MLP step's ``1 - a*a`` and ``lr * delta`` groups ran 4% slower
    (float32 and float64), where Adam's 10-op update reads 3 arrays and writes 3 instead
    of 22 (`benchmarks/bench_adam_step.py`)."""
    shape = sched.steps[run[0]].node.shape
    if not shape or math.prod(shape) <= ELEMENTS_PER_OP * len(run):
        return True
    numpy_arrays = sum(1 + len({a for a in sched.steps[p].args if sched.nodes[a].ndim > 0})
                       for p in run)
    fused_arrays = sum(1 for a in ins if sched.nodes[a].ndim > 0) + len(outs)
    return 2 * fused_arrays <= numpy_arrays


def _joint_shape(group: tuple, step: tuple) -> Optional[tuple]:
    """The loop shape of a group after a step needing loop ``step`` joins it, or None when
    it cannot: a step on single numbers joins any group (it runs outside the loops) and a
    group of single numbers takes the shape of its first array step."""
    if group == step or not step:
        return group
    return step if not group else None


def _run_shape(sched: Schedule, run: list[int], kinds: dict) -> tuple:
    """The loop shape of a run of steps: its array steps' shape, or () when it has none."""
    for p in run:
        step = sched.steps[p]
        shape = _loop_shape(step.node, kinds[step.out])
        if shape:
            return shape
    return ()


# Long runs are cut into pieces of MAX_GROUP_OPS ops or more: pieces of the same structure
# (a repeated motif: the 10,000-op chain of bench_dispatch.py) share one kernel and its
# cache. A cut is made only where at most CUT_WIDTH values made by the piece are read after
# it: each such value is allocated, returned and passed in again (~0.5 us). Derivative
# graphs of scalars keep dozens of values live at every point: cutting the 6th derivative of
# tanh^8 (768 ops) every 240 ops made pieces of 81 inputs and 97 outputs, 308 us a call
# against 5.2 us uncut, and compiled in 9.1 s against 1.5 s. Numba compiles such straight
# code in ~2 ms an op (3,020 ops: 5.7 s), so a run with no narrow point is cut only at
# MAX_WIDE_GROUP_OPS.
CUT_WIDTH = 8
MAX_WIDE_GROUP_OPS = 2400


def _cut(sched: Schedule, run: list[int]) -> list[list[int]]:
    """``run`` in pieces, each cut at a narrow point (see CUT_WIDTH), none shorter than
    half of MAX_GROUP_OPS."""
    if len(run) <= MAX_GROUP_OPS:
        return [run]
    last: dict[int, int] = {}          # slot -> index in the run of its last reader
    for i, p in enumerate(run):
        for a in _reads(sched.steps[p]):
            last[a] = i
    pieces: list[list[int]] = []
    start = 0
    live: dict[int, bool] = {}         # slots the open piece made that later steps read
    for i, p in enumerate(run):
        size = i - start
        wide = size >= MAX_WIDE_GROUP_OPS
        if (size >= MAX_GROUP_OPS and len(run) - i >= MAX_GROUP_OPS // 2
                and (len(live) <= CUT_WIDTH or wide)):
            pieces.append(run[start:i])
            start, live = i, {}
        step = sched.steps[p]
        for a in _reads(step):
            if last[a] == i:
                live.pop(a, None)
        if last.get(step.out, -1) > i:
            live[step.out] = True
    pieces.append(run[start:])
    return pieces


def plan_groups(sched: Schedule, plan: Plan, targets: list[Node]) -> list[Group]:
    """Maximal runs of fusible steps of one shape (and scalars), each runnable at its first
    step.

    A step joins the open group when every value it reads existed when the group started
    (or comes from the group), so the kernel can run at the group's first position, and its
    shape is the group's or () (``_joint_shape``); a step that cannot closes it and opens
    the next.
    """
    produced = {s.out: pos for pos, s in enumerate(sched.steps)}
    runs: list[list[int]] = []
    current: list[int] = []
    members: set[int] = set()     # slots produced by the open group
    shape: Optional[tuple] = ()   # the open group's loop shape
    kinds: dict[int, str] = {}    # slot -> how its step is fused (``kind``)
    for pos, step in enumerate(sched.steps):
        n = step.node
        how = kind(n)
        if how is None:
            continue
        kinds[step.out] = how
        if current:
            start = current[0]
            ready = all(a in members or produced.get(a, -1) < start for a in _reads(step))
            joined = _joint_shape(shape, _loop_shape(n, how))
            if joined is not None and ready:
                current.append(pos)
                members.add(step.out)
                shape = joined
                continue
            # A run opened by single numbers (a loss before its gradient) starts early; its
            # array steps may go on as a run of their own, started at the first of them
            # (every step after it read only values made before it, or by the run).
            first = next((i for i, p in enumerate(current)
                          if not _single(sched.steps[p].node)), 0)
            head = current[first]
            if first and joined is not None and all(
                    a in members or produced.get(a, -1) < head for a in _reads(step)):
                runs.append(current[:first])
                current = current[first:] + [pos]
                members = {sched.steps[p].out for p in current}
                shape = joined
                continue
            runs.append(current)
        current, members, shape = [pos], {step.out}, _loop_shape(n, how)
    if current:
        runs.append(current)
    runs = [piece for r in runs for piece in _cut(sched, r)]
    shaped = [(r, _run_shape(sched, r, kinds)) for r in runs]
    shaped = [(r, shape) for r, shape in shaped
              if _pays(shape, [sched.steps[p].node for p in r],
                       [kinds[sched.steps[p].out] for p in r])]
    if not shaped:
        return []
    readers: dict[int, set[int]] = {}
    for pos, step in enumerate(sched.steps):
        for a in step.args:
            readers.setdefault(a, set()).add(pos)
    wanted = {sched.slot[t.id] for t in targets}
    groups = []
    for run, shape in shaped:
        inside = set(run)
        outs = tuple(sched.steps[p].out for p in run
                     if sched.steps[p].out in wanted
                     or any(r not in inside for r in readers.get(sched.steps[p].out, ())))
        made = {sched.steps[p].out for p in run}
        ins: dict[int, None] = {}     # in order of first use
        for p in run:
            for a in _reads(sched.steps[p]):
                if a not in made and a not in ins and not _literal(sched.nodes[a]):
                    ins[a] = None
        if not outs or not _worth_a_call(shape, len(run), len(ins), len(outs)) \
                or not _saves_passes(sched, run, list(ins), outs):
            continue
        internal = tuple(sorted(made - set(outs)))
        source = kernel_source(sched, run, list(ins), outs, kinds)
        key = hashlib.sha256(source.encode()).hexdigest()[:24]
        one_loop = len({ph for ph in _phases(sched, run, kinds).values() if ph % 2}) <= 1
        groups.append(Group(tuple(run), tuple(ins), outs, internal, source, key,
                            shape,
                            _buffers(sched, plan, run, list(ins), outs, readers, one_loop,
                                     produced)))
    return groups


def _buffers(sched: Schedule, plan: Plan, run: list[int], ins: list[int], outs: tuple,
             readers: dict[int, set[int]], one_loop: bool,
             produced: dict[int, int]) -> tuple:
    """Where the kernel writes each output (``Group.buffers``).

    A parameter's update goes into its spare buffer, as on the NumPy tier. Another output
    goes into the array of an input where the memory plan writes that step in place, if
    the kernel may do it when it runs (at the group's first position, earlier than the
    step): every other reader of the input ran before and was a ufunc (a view made of the
    input, a transpose say, might still be read between the group's first position and
    the step), and the input has the output's shape and dtype, so the kernel reads each
    element before it overwrites it, and the kernel has one loop (a later loop might read
    the input again). Else the output is a new array: on the big arrays of an optimiser's
    update, new arrays cost page faults every call.
    """
    start, inside = run[0], set(run)
    pos_of = {sched.steps[p].out: p for p in run}
    taken: set[int] = set()
    chosen = []
    for o in outs:
        node = sched.nodes[o]
        if node.id in plan.param_writes:
            chosen.append(("param", plan.param_writes[node.id]))
            continue
        target = plan.out.get(pos_of[o])
        t = target[1] if target is not None and target[0] == "inplace" else None
        src = sched.nodes[t] if t is not None else None
        ok = (one_loop and src is not None and t in ins and t not in taken
              and not (len(target) > 2 and target[2])     # no run-time shape guard
              and src.shape == node.shape and src.dtype == node.dtype
              and plan.out.get(produced.get(t, -1), ("",))[0] != "param"
              and all(r in inside or (r < start and ufunc_of(sched.steps[r].node) is not None)
                      for r in readers.get(t, ())))
        if ok:
            taken.add(t)
        chosen.append(("slot", t) if ok else None)
    return tuple(chosen)


# --- kernel source -------------------------------------------------------------------------
def _literal(n: Node) -> bool:
    """A constant written into the kernel's text (a scalar)."""
    return n.op == "const" and np.ndim(n.payload) == 0


def _literal_text(n: Node) -> str:
    value = n.payload
    if n.type.weak:
        if isinstance(value, bool):
            return repr(value)
        v = float(value) if not isinstance(value, int) else value
    else:
        v = np.asarray(value).item()
    text = repr(v) if not isinstance(v, float) or math.isfinite(v) else \
        ("np.nan" if math.isnan(v) else ("np.inf" if v > 0 else "-np.inf"))
    return text if n.type.weak else f"np.{n.dtype.name}({text})"


def _index(n: Node, ndim: int, lane: int) -> str:
    """How a kernel reads input ``n`` at the loop's indices (broadcasting by index 0), for
    lane ``lane`` of the unrolled innermost loop."""
    if n.ndim == 0:
        return "s"              # read once, before the loops (see kernel_source)
    lead = ndim - n.ndim
    idx = [("0" if d == 1 else f"j{lead + k}") for k, d in enumerate(n.shape)]
    if n.shape[-1] != 1 and lane:
        idx[-1] += f" + {lane}"
    return "[" + ", ".join(idx) + "]"


def _lanes(shape: tuple, ops: int) -> int:
    """How many elements of the innermost axis a kernel computes side by side.

    Each element's ops form one dependent chain (a tanh waits for the add before it);
    interleaving the chains of 4 elements lets the processor overlap them, 2.7x faster on
    long groups (68 -> 25 ns an op on shape (8,)) for ~2x the compile time. Short groups
    gain nothing: consecutive iterations already overlap.
    """
    if ops < 16:
        return 1
    for lanes in (4, 2):
        if shape[-1] % lanes == 0:
            return lanes
    return 1


def _numba_type(n: Node, readonly: bool) -> str:
    # C-contiguous: LLVM vectorises the loops only when it knows the strides (any layout,
    # 'A', ran Adam's update 6x slower); the caller copies the rare view that is not.
    # Read-only inputs accept writable arrays too.
    flag = ", readonly=True" if readonly else ""
    return f"nt.Array(nt.{n.dtype.name}, {max(n.ndim, 1)}, 'C'{flag})"


# Plain spellings of the commonest ufuncs on scalars: Numba types an operator or a math
# function several times faster than a NumPy ufunc call, which made kernels of a
# thousand ops take half a minute to compile. Every other ufunc is called as np.<name>.
_SCALAR = {"add": "({0} + {1})", "subtract": "({0} - {1})", "multiply": "({0} * {1})",
           "divide": "({0} / {1})", "negative": "(-{0})", "square": "({0} * {0})",
           "tanh": "math.tanh({0})", "exp": "math.exp({0})", "sin": "math.sin({0})",
           "cos": "math.cos({0})", "log1p": "math.log1p({0})", "expm1": "math.expm1({0})"}


def _scalar_call(name: str, args: list[str]) -> str:
    form = _SCALAR.get(name)
    if form is not None and len(args) == form.count("{1}") + 1:
        return form.format(*args)
    return f"np.{name}({', '.join(args)})"


def _phases(sched: Schedule, run: list[int], kinds: dict) -> dict[int, int]:
    """Where each value of the group is made: even phases run once, outside any loop
    (single numbers), odd phases are loops over the group's shape. A step goes to the
    first phase after what it reads; a sum runs in the loop of its input and its number
    is there after that loop."""
    phase: dict[int, int] = {}         # slot -> phase from which its value is there
    for p in run:
        step = sched.steps[p]
        after = max((phase[a] for a in _reads(step) if a in phase), default=0)
        if kinds[step.out] == "sum":
            loop = max(after, 1)
            phase[step.out] = loop + 1
        elif _single(step.node):
            phase[step.out] = after           # single numbers read only single numbers
        else:
            phase[step.out] = after | 1       # the loop at or after what it reads
    return phase


def kernel_source(sched: Schedule, run: list[int], ins: list[int], outs: tuple,
                  kinds: Optional[dict] = None) -> str:
    """The module text of one fused kernel.

    Single numbers are computed outside the loops, array steps inside nested loops over the
    group's shape (one scalar statement per step, each result rounded to the op's dtype),
    sums accumulate in the loop of their input; a group with a sum between array steps has
    a loop per phase (``_phases``), and an array made in one loop and read in a later one
    is kept in a buffer. A 0-d value is passed in and out as an array of one element. Names are numbered within the kernel, so the text depends only on the
    group's structure.
    """
    if kinds is None:
        kinds = {sched.steps[p].out: kind(sched.steps[p].node) for p in run}
    shape = _run_shape(sched, run, kinds)
    ndim = len(shape)
    names = {s: f"i{k}" for k, s in enumerate(ins)}
    sig = ", ".join([_numba_type(sched.nodes[s], True) for s in ins]
                    + [_numba_type(sched.nodes[s], False) for s in outs])
    params = ", ".join([f"i{k}" for k in range(len(ins))] + [f"o{k}" for k in range(len(outs))])
    lines = ["import math", "import numpy as np", "from numba import njit, types as nt", "",
             "", f"@njit(nt.void({sig}), cache=True, error_model='numpy', nogil=True)",
             f"def kernel({params}):"]
    # A 0-d input is read once, before the loops: read as i[0] inside them, it must be
    # reloaded every iteration (an output might alias it), which stops LLVM vectorising
    # the loop (Adam's 8-op group on 784x256 float32: 138 us, 75 us hoisted).
    for s in ins:
        if sched.nodes[s].ndim == 0:
            lines.append(f"    {names[s]}s = {names[s]}[0]")
    temp = {sched.steps[p].out: f"t{k}" for k, p in enumerate(run)}
    phase = _phases(sched, run, kinds)
    arrays = [p for p in run if not _single(sched.steps[p].node)]
    lanes = _lanes(shape, len(arrays)) if shape else 1
    # arrays read in a later loop than theirs: kept in their output, or in a buffer
    buffer: dict[int, str] = {}
    for p in run:
        step = sched.steps[p]
        for a in _reads(step):
            if a in phase and not _single(sched.nodes[a]) and phase[a] < phase[step.out] - (
                    kinds[step.out] == "sum"):
                buffer.setdefault(a, "")
    for a in list(buffer):
        if a in outs:
            buffer[a] = f"o{outs.index(a)}"
        else:
            buffer[a] = f"b{len([b for b in buffer.values() if b.startswith('b')])}"
            lines.append(f"    {buffer[a]} = np.empty({shape!r}, np.{sched.nodes[a].dtype.name})")
    ctx = _Context(sched, temp, names, phase, buffer, ndim, kinds)
    # the steps of each phase, in step order: single numbers, arrays, and the sums of a loop
    at: dict[int, list[int]] = {}
    sums_of: dict[int, list[int]] = {}
    for p in run:
        out = sched.steps[p].out
        if kinds[out] == "sum":
            sums_of.setdefault(phase[out] - 1, []).append(p)
        else:
            at.setdefault(phase[out], []).append(p)
    for ph in range(max(phase.values()) + 1):
        if ph % 2 == 0:
            for p in at.get(ph, ()):
                step = sched.steps[p]
                lines.append(f"    {temp[step.out]} = {ctx.expr(step, None, ph)}")
            continue
        body, sums = at.get(ph, []), sums_of.get(ph, [])
        if not body and not sums:
            continue
        # a sum keeps one partial sum a lane, so the lanes' additions overlap too
        for p in sums:
            n = sched.steps[p].node
            zero = "0.0" if n.dtype == np.float64 else f"np.{n.dtype.name}(0.0)"
            for lane in range(lanes):
                lines.append(f"    {temp[sched.steps[p].out]}_{lane} = {zero}")
        pad = "    "
        for d, size in enumerate(shape):
            step_by = f", {lanes}" if d == ndim - 1 and lanes > 1 else ""
            lines.append(f"{pad}for j{d} in range({'0, ' if step_by else ''}{size}{step_by}):")
            pad += "    "
        # lane by lane within each step: the lanes' chains interleave (see _lanes)
        for p in body:
            step = sched.steps[p]
            for lane in range(lanes):
                lines.append(f"{pad}{temp[step.out]}_{lane} = {ctx.expr(step, lane, ph)}")
        for p in sums:              # after the values they add
            step = sched.steps[p]
            t = temp[step.out]
            for lane in range(lanes):
                add = f"{t}_{lane} + {ctx.arg(step.args[0], lane, ph)}"
                lines.append(f"{pad}{t}_{lane} = {_rounded(step.node, add)}")
        for p in body:
            out = sched.steps[p].out
            if out in buffer or out in outs:
                target = buffer.get(out) or f"o{outs.index(out)}"
                for lane in range(lanes):
                    lines.append(f"{pad}{target}{_loop_index(ndim, lane)} = {temp[out]}_{lane}")
        for p in sums:
            step = sched.steps[p]
            t = temp[step.out]
            total = " + ".join(f"{t}_{lane}" for lane in range(lanes))
            lines.append(f"    {t} = {_rounded(step.node, total) if lanes > 1 else total}")
    for k, s in enumerate(outs):
        if _single(sched.nodes[s]):
            zeros = ", ".join(["0"] * max(sched.nodes[s].ndim, 1))
            lines.append(f"    o{k}[{zeros}] = {temp[s]}")
    return "\n".join(lines) + "\n"


def _loop_index(ndim: int, lane: int) -> str:
    last = f"j{ndim - 1}" + (f" + {lane}" if lane else "")
    return "[" + ", ".join([f"j{d}" for d in range(ndim - 1)] + [last]) + "]"


def _rounded(n: Node, call: str) -> str:
    # round each result to the op's dtype, as NumPy does
    return call if n.dtype == np.float64 else f"np.{n.dtype.name}({call})"


@dataclass(frozen=True)
class _Context:
    """What the statements of one kernel need to name the values they read."""

    sched: Schedule
    temp: dict         # slot -> its name in the kernel
    names: dict        # input slot -> its parameter
    phase: dict
    buffer: dict       # slot -> the array an earlier loop kept it in
    ndim: int
    kinds: dict        # slot -> how its step is fused

    def arg(self, a: int, lane: Optional[int], ph: int, dtype: Any = None) -> str:
        """How a statement in phase ``ph`` (lane ``lane`` of a loop) computing a value of
        ``dtype`` reads slot ``a``."""
        src = self.sched.nodes[a]
        if a in self.temp:
            if _single(src):
                return self.temp[a]
            if self.phase[a] < ph:
                return f"{self.buffer[a]}{_loop_index(self.ndim, lane or 0)}"
            return f"{self.temp[a]}_{lane}"
        if _literal(src):
            text = _literal_text(src)
            if src.type.weak and dtype is not None and dtype.kind == "f" and dtype != np.float64:
                # a Python number takes the array's dtype, as in NumPy (NEP 50), which
                # keeps a float32 kernel in float32 (and its SIMD width)
                text = f"np.{dtype.name}({text})"
            return text
        return f"{self.names[a]}{_index(src, self.ndim, lane or 0)}"

    def expr(self, step: Any, lane: Optional[int], ph: int) -> str:
        """The expression computing ``step``."""
        n = step.node
        if self.kinds[step.out] == "ufunc":
            args = [self.arg(a, lane, ph, n.dtype) for a in step.args]
            return _rounded(n, _scalar_call(ufunc_of(n).__name__, args))
        return self.arg(step.args[0], lane, ph)     # "same" and "broadcast" keep the number
