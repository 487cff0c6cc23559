"""Fused Numba kernels (the optional extra ``symgraph[jit]``), tiered.

A compiled function always starts on the generated NumPy code (tier "numpy", the
reference). ``runtime/fused_plan.py`` finds its groups of fusible steps (runs of
elementwise steps of one shape, and whole small graphs: the scalars and small vectors of a
function differentiated to high order, with their sums and broadcasts) and writes each as
one Numba kernel that loops once over memory, keeping the intermediate values in registers
("fused" tier); this module compiles, caches and calls them. Numba is imported only here
(and by ``fused_native.py`` to write native copies), and only once fusion is wanted:

- ``SYMGRAPH_FUSION=auto`` (the default): after ``CALLS_BEFORE_FUSING`` calls a background
  thread compiles the kernels and swaps the fused program in; kernels already on the disk
  cache start loading at once. A function called a few times never pays for Numba.
- ``force``: kernels compile while the function compiles (tests, benchmarks).
- ``off``: NumPy only. ``sg.function(..., fusion="off")`` sets it per function.

A parameter's update computed by a group is written by the kernel straight into the
parameter's spare buffer, so an optimiser's update is one pass. Kernels are cached on disk
under ``$SYMGRAPH_CACHE_DIR`` (default: the user's cache folder, ``~/.cache/symgraph``),
one file per kernel named by the hash of its source, which holds its structure, shapes and
dtypes; files are written atomically, so processes may share the folder. Beside each
Numba kernel a native copy is kept (``fused_native.py``): a process whose every group has
one loads them with llvmlite alone while the function compiles, and runs fused from its
first call without importing Numba (``SYMGRAPH_NATIVE_KERNELS=off`` turns that off). A
kernel's 0-d
outputs come back as NumPy scalars, as NumPy's ufuncs return them, so the steps after a
group see the values the NumPy program would. Results equal the NumPy path to within
floating-point rounding (the tests use rtol 1e-12 in float64, 1e-5 in float32): Numba may
evaluate a transcendental function by a different routine than NumPy (a few ulp), a kernel
adds a sum's terms in order (one partial sum a lane) where NumPy adds pairwise, and
intermediate values of float32 kernels are rounded to float32 after each op as NumPy does.
Derivatives of high order amplify these differences no more than they amplify NumPy's own
rounding.
"""
from __future__ import annotations

import importlib.util
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from symgraph.runtime import fused_native
from symgraph.runtime.fused_plan import Group, plan_groups
from symgraph.runtime.schedule import Schedule

MODES = ("auto", "force", "off")
CALLS_BEFORE_FUSING = 20
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


# --- compiling and loading -----------------------------------------------------------------
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
    fused_native.write_once(path, group.source.encode())
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
    # a 0-d output is made as an array of one element and returned as its element, a
    # NumPy scalar, as NumPy's ufuncs return on 0-d values
    out_specs = [(sched.nodes[s].shape or (1,), sched.nodes[s].dtype) for s in group.outputs]
    unwrap = [sched.nodes[s].ndim == 0 for s in group.outputs]
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
        if any(unwrap):
            return tuple(o[0] if u else o for o, u in zip(outs, unwrap))
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
