"""Elementwise fusion with Numba (the optional extra ``symgraph[jit]``), tiered.

A compiled function always starts on the generated NumPy code (tier "numpy", the
reference). This module finds its maximal runs of elementwise steps of one shape and writes
each run as one Numba kernel that loops once over memory, keeping the intermediate values
in registers ("fused" tier). Numba is imported only here (and by ``fused_native.py`` to
write native copies), and only once fusion is wanted:

- ``SYMGRAPH_FUSION=auto`` (the default): after ``CALLS_BEFORE_FUSING`` calls a background
  thread compiles the kernels and swaps the fused program in; kernels already on the disk
  cache start loading at once. A function called a few times never pays for Numba.
- ``force``: kernels compile while the function compiles (tests, benchmarks).
- ``off``: NumPy only. ``sg.function(..., fusion="off")`` sets it per function.

A step joins a group when its op computes with a plain NumPy ufunc (``ufunc_of``: every
such op in the registry, whoever declared it) on floating values of a fully known shape
(inputs may broadcast). A parameter's update computed by a group is written by the kernel
straight into the parameter's spare buffer, so an optimiser's update is one pass. Kernels
are cached on disk under ``$SYMGRAPH_CACHE_DIR`` (default: the
user's cache folder, ``~/.cache/symgraph``), one file per kernel named by the hash of its
source, which holds its structure, shapes and dtypes; files are written atomically, so
processes may share the folder. Beside each Numba kernel a native copy is kept
(``fused_native.py``): a process whose every group has one loads them with llvmlite alone
while the function compiles, and runs fused from its first call without importing Numba
(``SYMGRAPH_NATIVE_KERNELS=off`` turns that off). Results equal the NumPy path to within
floating-point rounding: Numba may evaluate a transcendental function by a different
routine than NumPy (a few ulp), and intermediate values of float32 kernels are rounded to
float32 after each op as NumPy does.
"""
from __future__ import annotations

import hashlib
import importlib.util
import math
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from symgraph.graph import Node
from symgraph.runtime import fused_native
from symgraph.runtime.memory import Plan, ufunc_of
from symgraph.runtime.schedule import Schedule

MODES = ("auto", "force", "off")
CALLS_BEFORE_FUSING = 20
MAX_GROUP_OPS = 240
_ENV = "SYMGRAPH_FUSION"
_CACHE_ENV = "SYMGRAPH_CACHE_DIR"


def mode(option: Optional[str] = None) -> str:
    """The fusion mode: the function's option, else ``$SYMGRAPH_FUSION``, else "auto"."""
    chosen = option if option is not None else os.environ.get(_ENV, "auto")
    if chosen not in MODES:
        raise ValueError(f"fusion must be one of {', '.join(MODES)}, got {chosen!r}")
    return chosen


def available() -> bool:
    """Numba is installed (checked without importing it)."""
    return importlib.util.find_spec("numba") is not None


def cache_dir() -> str:
    """Where fused kernels and Numba's compiled code are kept."""
    base = os.environ.get(_CACHE_ENV)
    if not base:
        root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(root, "symgraph")
    return os.path.join(base, "fused")


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


def _fusible(n: Node, plan: Plan, pos: int) -> bool:
    u = ufunc_of(n)
    # a scalar ufunc only: np.matmul is a ufunc too, with a core signature
    if u is None or u.signature is not None or u.nout != 1:
        return False
    if n.ndim == 0 or None in n.shape or n.dtype.kind != "f":
        return False
    # inputs of fully known shapes only: a kernel indexes them without bounds checks, and
    # an unknown size might be a 1 that broadcasts at run time
    return all((i.dtype.kind == "f" and None not in i.shape) or (i.type.weak and i.op == "const")
               for i in n.inputs)


# A group is fused when it has at most this many elements per op. A NumPy call costs
# ~0.6 us before it touches memory, and a fused kernel saves that per op; on big arrays
# NumPy's SIMD loops (float32 tanh, exp) beat Numba's scalar calls to libm, and the MLP
# step's 2-3 op groups of 128x256 ran 1.6x slower fused.
ELEMENTS_PER_OP = 512

# Ufuncs LLVM turns into SIMD instructions inside a kernel's loop over C-contiguous arrays.
# A group made only of these pays at any size: it makes one pass over memory where NumPy
# makes one per op (Adam's update of a 784x256 float32 weight: 260 us fused, 640 us as
# NumPy calls; `benchmarks/bench_adam_step.py`).
VECTOR_UFUNCS = frozenset({"add", "subtract", "multiply", "divide", "negative", "square",
                           "sqrt", "absolute"})


def _pays(shape: tuple, nodes: list[Node]) -> bool:
    if math.prod(shape) <= ELEMENTS_PER_OP * len(nodes):
        return True
    return all(ufunc_of(n).__name__ in VECTOR_UFUNCS for n in nodes)


def plan_groups(sched: Schedule, plan: Plan, targets: list[Node]) -> list[Group]:
    """Maximal runs of fusible steps of one shape, each runnable at its first step.

    A step joins the open group when every value it reads existed when the group started
    (or comes from the group), so the kernel can run at the group's first position; a step
    that cannot closes it and opens the next.
    """
    produced = {s.out: pos for pos, s in enumerate(sched.steps)}
    runs: list[list[int]] = []
    current: list[int] = []
    members: set[int] = set()     # slots produced by the open group
    for pos, step in enumerate(sched.steps):
        n = step.node
        if not _fusible(n, plan, pos):
            continue
        if current:
            start = current[0]
            head = sched.steps[start].node
            ready = all(a in members or produced.get(a, -1) < start for a in step.args)
            if head.shape == n.shape and ready:
                current.append(pos)
                members.add(step.out)
                continue
            runs.append(current)
        current, members = [pos], {step.out}
    if current:
        runs.append(current)
    # Long runs are cut into pieces: Numba compiles ~5 ms an op whatever the kernel's size,
    # and pieces of the same structure (a repeated motif) share one kernel and its cache.
    runs = [r[k:k + MAX_GROUP_OPS] for r in runs for k in range(0, len(r), MAX_GROUP_OPS)]
    runs = [r for r in runs if len(r) > 1
            and _pays(sched.steps[r[0]].node.shape, [sched.steps[p].node for p in r])]
    if not runs:
        return []
    readers: dict[int, set[int]] = {}
    for pos, step in enumerate(sched.steps):
        for a in step.args:
            readers.setdefault(a, set()).add(pos)
    wanted = {sched.slot[t.id] for t in targets}
    groups = []
    for run in runs:
        inside = set(run)
        outs = tuple(sched.steps[p].out for p in run
                     if sched.steps[p].out in wanted
                     or any(r not in inside for r in readers.get(sched.steps[p].out, ())))
        made = {sched.steps[p].out for p in run}
        ins: list[int] = []
        for p in run:
            for a in sched.steps[p].args:
                if a not in made and a not in ins and not _literal(sched.nodes[a]):
                    ins.append(a)
        if not outs:
            continue
        internal = tuple(sorted(made - set(outs)))
        source = kernel_source(sched, run, ins, outs)
        key = hashlib.sha256(source.encode()).hexdigest()[:24]
        groups.append(Group(tuple(run), tuple(ins), outs, internal, source, key,
                            sched.steps[run[0]].node.shape,
                            _buffers(sched, plan, run, ins, outs, readers)))
    return groups


def _buffers(sched: Schedule, plan: Plan, run: list[int], ins: list[int], outs: tuple,
             readers: dict[int, set[int]]) -> tuple:
    """Where the kernel writes each output (``Group.buffers``).

    A parameter's update goes into its spare buffer, as on the NumPy tier. Another output
    goes into the array of an input where the memory plan writes that step in place, if
    the kernel may do it when it runs (at the group's first position, earlier than the
    step): every other reader of the input ran before and was a ufunc (a view made of the
    input, a transpose say, might still be read between the group's first position and
    the step), and the input has the output's shape and dtype, so the kernel reads each
    element before it overwrites it. Else the output is a new array: on the big arrays of
    an optimiser's update, new arrays cost page faults every call.
    """
    start, inside = run[0], set(run)
    pos_of = {sched.steps[p].out: p for p in run}
    produced = {s.out: pos for pos, s in enumerate(sched.steps)}
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
        ok = (src is not None and t in ins and t not in taken
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
        return "[0]"
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


def kernel_source(sched: Schedule, run: list[int], ins: list[int], outs: tuple) -> str:
    """The module text of one fused kernel: nested loops over the group's shape, one
    scalar statement per op, each result rounded to the op's dtype. Names are numbered
    within the kernel, so the text depends only on the group's structure."""
    shape = sched.steps[run[0]].node.shape
    ndim = len(shape)
    names = {s: f"i{k}" for k, s in enumerate(ins)}
    sig = ", ".join([_numba_type(sched.nodes[s], True) for s in ins]
                    + [_numba_type(sched.nodes[s], False) for s in outs])
    params = ", ".join([f"i{k}" for k in range(len(ins))] + [f"o{k}" for k in range(len(outs))])
    lines = ["import math", "import numpy as np", "from numba import njit, types as nt", "",
             "", f"@njit(nt.void({sig}), cache=True, error_model='numpy', nogil=True)",
             f"def kernel({params}):"]
    lanes = _lanes(shape, len(run))
    pad = "    "
    # A scalar input is read once, before the loops: read as i[0] inside them, it must be
    # reloaded every iteration (an output might alias it), which stops LLVM vectorising
    # the loop (Adam's 8-op group on 784x256 float32: 138 us, 75 us hoisted).
    for s in ins:
        if sched.nodes[s].ndim == 0:
            lines.append(f"{pad}{names[s]}s = {names[s]}[0]")
    for d, size in enumerate(shape):
        step_by = f", {lanes}" if d == ndim - 1 and lanes > 1 else ""
        lines.append(f"{pad}for j{d} in range({'0, ' if step_by else ''}{size}{step_by}):")
        pad += "    "
    made: dict[int, str] = {}       # slot -> its temporary, numbered in the kernel
    for p in run:
        step = sched.steps[p]
        n = step.node
        name = f"t{len(made)}"
        for lane in range(lanes):
            args = []
            for a in step.args:
                src = sched.nodes[a]
                if a in made:
                    args.append(f"{made[a]}_{lane}")
                elif _literal(src):
                    text = _literal_text(src)
                    if src.type.weak and n.dtype.kind == "f" and n.dtype != np.float64:
                        # a Python number takes the array's dtype, as in NumPy (NEP 50),
                        # which keeps a float32 kernel in float32 (and its SIMD width)
                        text = f"np.{n.dtype.name}({text})"
                    args.append(text)
                elif src.ndim == 0:
                    args.append(f"{names[a]}s")
                else:
                    args.append(f"{names[a]}{_index(src, ndim, lane)}")
            call = _scalar_call(ufunc_of(n).__name__, args)
            if n.dtype != np.float64:    # round each result to the op's dtype, as NumPy does
                call = f"np.{n.dtype.name}({call})"
            lines.append(f"{pad}{name}_{lane} = {call}")
        made[step.out] = name
    for k, s in enumerate(outs):
        for lane in range(lanes):
            last = f"j{ndim - 1}" + (f" + {lane}" if lane else "")
            idx = "[" + ", ".join([f"j{d}" for d in range(ndim - 1)] + [last]) + "]"
            lines.append(f"{pad}o{k}{idx} = {made[s]}_{lane}")
    return "\n".join(lines) + "\n"


# --- compiling and loading -----------------------------------------------------------------
def _write_once(path: str, text: str) -> None:
    """Write ``text`` to ``path`` unless it is there; atomic, so racing processes agree."""
    if os.path.exists(path):
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(tmp, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def cached(group: Group) -> bool:
    """The kernel's source and Numba's compiled code for it are on disk."""
    folder = cache_dir()
    cache = os.path.join(folder, "__pycache__")
    if not os.path.exists(os.path.join(folder, f"k_{group.key}.py")) or not os.path.isdir(cache):
        return False
    return any(name.startswith(f"k_{group.key}.") and name.endswith(".nbi")
               for name in os.listdir(cache))


def load_kernel(group: Group) -> Any:
    """The compiled kernel of ``group`` (from Numba's disk cache when it is there)."""
    try:
        import numba  # noqa: F401 - the jit extra
    except ImportError:
        raise ImportError("fused kernels need Numba: pip install symgraph[jit]") from None
    path = os.path.join(cache_dir(), f"k_{group.key}.py")
    _write_once(path, group.source)
    name = f"symgraph_fused_{group.key}"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        # Numba's cache finds the kernel's module again by name: register it first.
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)   # compiles, or loads Numba's cached code
        except BaseException:
            del sys.modules[name]
            raise
    return module.kernel


def _caller(kernel: Any, group: Group, sched: Schedule) -> Any:
    """Allocate the group's outputs (or take the buffers passed after the inputs, one per
    output with a ``Group.buffers`` entry), run the kernel, return the outputs."""
    out_specs = [(sched.nodes[s].shape, sched.nodes[s].dtype) for s in group.outputs]
    given = [b is not None for b in group.buffers] or [False] * len(group.outputs)
    scalar = [sched.nodes[s].ndim == 0 for s in group.inputs]
    dtypes = [sched.nodes[s].dtype for s in group.inputs]
    n_in = len(group.inputs)
    empty, asarray, contiguous = np.empty, np.asarray, np.ascontiguousarray

    def call(*args: Any) -> tuple:
        spares = iter(args[n_in:])
        ins = [asarray(a, dtype=d).reshape(1) if s else
               (a if a.flags.c_contiguous else contiguous(a))
               for a, s, d in zip(args[:n_in], scalar, dtypes)]
        outs = []
        for g, (shape, dtype) in zip(given, out_specs):
            o = next(spares) if g else None
            # an input's array written in place may be a Fortran-ordered result (a spare
            # never is: the function makes it); a kernel writes C order: take a new one
            outs.append(o if o is not None and o.flags.c_contiguous else empty(shape, dtype))
        kernel(*ins, *outs)
        return tuple(outs)
    return call


# --- the tiers of one function -------------------------------------------------------------
@dataclass
class Tiers:
    """The fusion state of one compiled function: its groups and which tier runs them."""

    groups: Optional[list[Group]]   # None: planned when the kernels are wanted
    mode: str
    tier: str = "numpy"             # "numpy", "compiling", "fused" or "failed"
    reason: str = ""
    calls: int = 0
    seconds: float = 0.0
    numpy_run: Any = None           # the NumPy tier's run, for calls under np.errstate(raise)
    origin: str = ""                # "native cache": kernels loaded without Numba
    storing: bool = False           # writing native copies of the kernels for next time
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def describe(self) -> list[str]:
        if self.groups is None:
            return [f"fusion ({self.mode}): runs on the numpy tier; groups are planned after "
                    f"{CALLS_BEFORE_FUSING} calls ({self.calls} so far)"]
        if not self.groups:
            why = f" ({self.reason})" if self.reason else ""
            return [f"fusion ({self.mode}): no elementwise group to fuse{why}"]
        ops = sum(g.ops for g in self.groups)
        head = (f"fusion ({self.mode}): {len(self.groups)} groups of {ops} elementwise ops "
                f"run on the {self.tier} tier")
        if self.tier == "fused":
            where = "native kernels from the disk cache, " if self.origin else "kernels "
            head += f" ({where}ready in {self.seconds:.2f} s)"
        if self.reason:
            head += f": {self.reason}"
        lines = [head]
        for k, g in enumerate(self.groups):
            shape = "x".join(str(d) for d in g.shape)
            lines.append(f"  group {k}: {g.ops} ops, shape ({shape}), {len(g.inputs)} inputs, "
                         f"{len(g.outputs)} outputs, {self.tier}")
        return lines


def attach(function: Any, option: Optional[str]) -> Optional[Tiers]:
    """Plan the fusion of ``function`` and start its tiers; None when fusion is off."""
    chosen = mode(option)
    if chosen == "off" or not available():
        return None
    if function.check_nan:
        # check_nan names the op that made a NaN: every op stays a step of its own
        return Tiers([], chosen, reason="check_nan runs every op on NumPy")
    tiers = Tiers(None, chosen, numpy_run=function._program.run)
    small = len(function._schedule.steps) <= PLAN_AT_COMPILE_STEPS
    if chosen == "force" or small:
        tiers.groups = _plan(function)
        if not tiers.groups:
            return tiers
        if fused_native.present(tiers.groups, cache_dir()) and _native_swap(function, tiers):
            return tiers            # a warm disk cache of native kernels: fused now, no Numba
    if chosen == "force":
        _swap_in(function, tiers)
        return tiers
    numpy_program = function._program
    if small and all(cached(g) for g in tiers.groups):
        _start(function, tiers)     # a warm disk cache: load now, in the background
        return tiers
    run = numpy_program.run

    def counting(*args: Any) -> tuple:
        tiers.calls += 1
        if tiers.calls == CALLS_BEFORE_FUSING:
            _start(function, tiers)
        return run(*args)
    function._program = type(numpy_program)(numpy_program.source, counting,
                                            numpy_program.filename, numpy_program.line_step,
                                            numpy_program.returned)
    return tiers


# Graphs up to this many steps plan their groups while compiling (a few ms), so a warm disk
# cache is noticed at once; bigger ones plan in the background thread, when wanted.
PLAN_AT_COMPILE_STEPS = 5000


def _plan(function: Any) -> list[Group]:
    return plan_groups(function._schedule, function._plan, list(function.provenance.outputs))


def _start(function: Any, tiers: Tiers) -> None:
    with tiers._lock:
        if tiers.tier != "numpy":
            return
        tiers.tier = "compiling"
    threading.Thread(target=_swap_in, args=(function, tiers), daemon=True,
                     name="symgraph-fusion").start()


def _native_swap(function: Any, tiers: Tiers) -> bool:
    """Run ``function`` on its groups' native kernels (``fused_native``) from now on;
    False (and the reason kept for the report) when any of them cannot be loaded."""
    from symgraph.runtime import codegen
    start = time.perf_counter()
    sched = function._schedule
    try:
        entries = fused_native.load(tiers.groups, sched, cache_dir())
        calls = {g: fused_native.caller(entries[g], g, sched) for g in tiers.groups}
        program = _fused_program(function, codegen, calls)
    except Exception as exc:   # today's path: NumPy now, Numba in the background
        tiers.reason = f"native cache unusable ({type(exc).__name__}: {exc})"[:300]
        return False
    tiers.seconds = time.perf_counter() - start
    function._program = _honouring_errstate(program, tiers.numpy_run)
    tiers.tier, tiers.origin, tiers.reason = "fused", "native cache", ""
    return True


def _fused_program(function: Any, codegen: Any, calls: dict) -> Any:
    return codegen.generate(function._schedule, function._plan, function.inputs,
                            list(function.provenance.outputs), check_nan=function.check_nan,
                            name=(function.name or "compiled") + " fused", fused=calls)


def _store_native(function: Any, kernels: dict) -> None:
    """Write the native copy of each kernel Numba gave us, for the next process (never
    fails the function: a kernel without one keeps the Numba path there)."""
    for g, kernel in kernels.items():
        try:
            fused_native.store(g, kernel, function._schedule, cache_dir())
        except Exception:       # noqa: BLE001 - an optional speed-up of the next process
            pass


def _swap_in(function: Any, tiers: Tiers) -> None:
    """Compile (or load) every kernel, then run the function on the fused program."""
    from symgraph.runtime import codegen    # codegen calls nothing here: no cycle at load
    start = time.perf_counter()
    tiers.tier = "compiling"
    try:
        if tiers.groups is None:
            tiers.groups = _plan(function)
            if not tiers.groups:
                tiers.tier = "numpy"
                return
            # a big graph, planned only now: its native kernels spare Numba's import too
            if fused_native.present(tiers.groups, cache_dir()) and _native_swap(function, tiers):
                return
        sched = function._schedule
        calls = {}
        kernels = {}
        failed = []
        for g in tiers.groups:
            try:
                kernels[g] = load_kernel(g)
                calls[g] = _caller(kernels[g], g, sched)
            except ImportError:
                raise
            except Exception as exc:   # this group stays on NumPy; the others fuse
                failed.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
        if failed:
            tiers.groups = [g for g in tiers.groups if g in calls]
            tiers.reason = f"{len(failed)} groups stayed on NumPy ({failed[0]})"
        if not calls:
            raise RuntimeError(tiers.reason or "no kernel compiled")
        program = _fused_program(function, codegen, calls)
    except Exception as exc:   # the NumPy tier stays; say why in the report
        tiers.tier, tiers.reason = "failed", f"{type(exc).__name__}: {exc}"[:300]
        if tiers.mode == "force" and isinstance(exc, ImportError):
            raise
        return
    tiers.seconds = time.perf_counter() - start
    function._program = _honouring_errstate(program, tiers.numpy_run)
    tiers.storing = True
    tiers.tier = "fused"
    try:
        _store_native(function, kernels)
    finally:
        tiers.storing = False


# NumPy keeps its floating-point error settings (np.errstate, np.seterr) in a context
# variable holding a capsule; a new capsule means new settings. Reading it costs ~40 ns
# where np.geterr() costs ~600, so the settings are looked at again only when it changes.
try:
    from numpy._core._ufunc_config import _extobj_contextvar as _NP_ERRSTATE
except ImportError:      # another NumPy layout: ask np.geterr() every call
    _NP_ERRSTATE = None
_last_errstate: tuple = (object(), False)


def errors_raise() -> bool:
    """NumPy is set to raise on some floating-point error in this context."""
    global _last_errstate
    capsule = _NP_ERRSTATE.get() if _NP_ERRSTATE is not None else None
    seen = _last_errstate
    if capsule is not None and seen[0] is capsule:
        return seen[1]
    raising = "raise" in np.geterr().values()
    if capsule is not None:
        _last_errstate = (capsule, raising)     # one tuple: threads read it whole
    return raising


def _honouring_errstate(program: Any, numpy_run: Any) -> Any:
    """``program`` running its NumPy twin when NumPy is set to raise on floating-point
    errors: a kernel computes an overflow's inf without raising (or warning), and a user
    who asked for the error gets it, from the op that made it."""
    fused_run = program.run

    def run(*args: Any) -> tuple:
        return numpy_run(*args) if errors_raise() else fused_run(*args)
    run.__wrapped__ = fused_run     # type: ignore[attr-defined]
    return type(program)(program.source, run, program.filename, program.line_step,
                         program.returned, program.spares)


def wait(function: Any, timeout: float = 600.0) -> str:
    """Wait until ``function``'s kernels are in (or failed) and their native copies are
    written; returns the tier."""
    tiers = getattr(function, "_tiers", None)
    if tiers is None:
        return "numpy"
    if tiers.tier == "numpy" and tiers.groups != []:
        _start(function, tiers)
    end = time.perf_counter() + timeout
    while (tiers.tier == "compiling" or tiers.storing) and time.perf_counter() < end:
        time.sleep(0.01)
    return tiers.tier
