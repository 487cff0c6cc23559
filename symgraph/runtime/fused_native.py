"""Fused kernels as native object code on disk, loaded without Numba (the warm-cache path).

Numba's own disk cache still needs ``import numba`` (~0.45 s) before a cached kernel can
run, so a second process would start on the NumPy tier. This module keeps a second,
Numba-free copy of each kernel: when a process has a kernel from Numba (compiled or
loaded), it also compiles an entry for it and writes their machine code to
``<cache>/native/<kernel key>-<host key>.bin``. A later process whose every group has such
a file loads them with llvmlite alone (an MCJIT engine: ~0.03 s to start, a few ms an
object) while the function compiles, and runs fused from its first call.

The entry is a CPython ``METH_FASTCALL`` function: it takes the group's input and output
arrays, checks each is exactly an ``ndarray`` of the kernel's dtype, rank and static shape,
C-contiguous (outputs writable), and calls the kernel (Numba's native function, by its
calling convention) on C-ordered arrays at their data pointers. Reading pointers from
Python costs 1-1.6 us an array (``a.ctypes.data``, ``a.__array_interface__``), more than
a short group saves; the entry
reads them from the array object itself (NumPy's ABI-frozen ``PyArrayObject_fields``
layout, checked on probe arrays before any object is loaded), so a call costs less than
the Numba dispatcher's. An argument that fails a check raises ``TypeError`` before the
kernel runs, and the caller retries with fresh C-contiguous copies.

What keeps a bad file from hurting the process:

- The host key hashes the format, llvmlite's version, the process triple, the CPU name
  and features (object code is CPU specific), Python's and NumPy's major versions.
- The file holds a SHA-256 of its payload; a file that fails it (truncated, corrupted) is
  deleted and never reaches LLVM. Its metadata must name the group's argument specs.
- The object holds the kernel as Numba compiled it and the entry, nothing else (Numba's
  CPython wrapper and its calls into Numba's helpers are dropped); its undefined symbols,
  read from its ELF symbol table, must each resolve in the process (libm, the Python C
  API), or the kernel is refused. An unresolved symbol would abort the process inside
  LLVM, so nothing is loaded unless all resolve.
- Only ELF objects (Linux) of float32/float64 kernels are stored; anything else, or any
  error, leaves the function on today's path (NumPy tier now, Numba in the background).

``SYMGRAPH_NATIVE_KERNELS=off`` turns the native cache off (neither written nor read).
"""
from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import math
import os
import struct
import sys
import threading
from typing import Any, Callable, Optional

import numpy as np

FORMAT = b"symgraph-native-2\n"
_ENV = "SYMGRAPH_NATIVE_KERNELS"
_DTYPES = {"float32": 1, "float64": 2}     # index of the dtype's scalar type in the table
_NUMBA_HELPERS = ("numba_", "NRT_", "_ZN5numba")
_METH_FASTCALL = 0x0080
# Kernels of at least this many element-ops (~10 us) run without the GIL, as Numba's nogil
# dispatchers do; shorter ones keep it (releasing and taking it back costs ~0.1 us).
RELEASE_GIL_WORK = 4096
_C_CONTIGUOUS, _WRITEABLE = 0x0001, 0x0400
# PyArrayObject_fields: the header (16 bytes), then data, nd, dimensions, strides, base,
# descr, flags; checked on probe arrays by ``_abi_ok`` before anything relies on it
_OB_TYPE, _DATA, _ND, _DIMS, _DESCR, _FLAGS = 8, 16, 24, 32, 56, 64
# PyArray_Descr: the header, then the scalar type (np.float64), kind, type and byteorder
# chars. Comparing the scalar type, not the descr object, accepts the copies of a dtype
# that unpickled arrays carry (Dask's workers receive those).
_DESCR_TYPE, _DESCR_BYTEORDER = 16, 26

_lock = threading.RLock()
_loaded: dict[str, Callable] = {}     # kernel key -> its entry (a builtin function)
_added: set[str] = set()              # keys whose object went into the engine (never twice)
_keep: list = []                      # PyMethodDef structs the entries point into
_engine: list = []                    # the process's one MCJIT engine


def enabled() -> bool:
    return os.environ.get(_ENV, "on").lower() not in ("off", "0", "no", "false")


def folder(cache_dir: str) -> str:
    return os.path.join(cache_dir, "native")


def arg_specs(group: Any, sched: Any) -> list[tuple[tuple, str]]:
    """(shape, dtype) of each argument of a group's entry: inputs, then outputs; a 0-d
    input is passed as shape (1,), as the fused caller reshapes it."""
    specs = []
    for s in (*group.inputs, *group.outputs):
        n = sched.nodes[s]
        specs.append((tuple(n.shape) or (1,), n.dtype.name))
    return specs


def present(groups: list, cache_dir: str) -> bool:
    """Every group has a native file for some host (a cheap check: no llvmlite)."""
    if not enabled() or not groups:
        return False
    try:
        names = os.listdir(folder(cache_dir))
    except OSError:
        return False
    stems = {n.split("-", 1)[0] for n in names if n.endswith(".bin")}
    return all(g.key in stems for g in groups)


# --- host and file format ------------------------------------------------------------------
_host: list[str] = []


def host_key() -> str:
    """What the object code depends on besides the kernel (imports llvmlite)."""
    if not _host:
        import llvmlite
        import llvmlite.binding as ll
        parts = [FORMAT.decode().strip(), llvmlite.__version__, ll.get_process_triple(),
                 ll.get_host_cpu_name(), ll.get_host_cpu_features().flatten(),
                 "%d.%d" % sys.version_info[:2], np.__version__.split(".")[0]]
        _host.append(hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16])
    return _host[0]


def _path(cache_dir: str, key: str, host: str, suffix: str = ".bin") -> str:
    return os.path.join(folder(cache_dir), f"{key}-{host}{suffix}")


def pack(meta: dict, obj: bytes) -> bytes:
    """FORMAT, SHA-256 of the payload, then the payload: JSON length, JSON, object code."""
    text = json.dumps(meta, sort_keys=True).encode()
    payload = struct.pack("<Q", len(text)) + text + obj
    return FORMAT + hashlib.sha256(payload).digest() + payload


def unpack(data: bytes) -> tuple[dict, bytes]:
    """The metadata and object code of a file; ValueError unless its hash checks out."""
    head = len(FORMAT)
    if data[:head] != FORMAT or len(data) < head + 40:
        raise ValueError("not a symgraph native kernel file")
    digest, payload = data[head:head + 32], data[head + 32:]
    if hashlib.sha256(payload).digest() != digest:
        raise ValueError("native kernel file is corrupted (hash mismatch)")
    (size,) = struct.unpack_from("<Q", payload)
    meta = json.loads(payload[8:8 + size].decode())
    return meta, payload[8 + size:]


def write_once(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` unless it is there; atomic (a temporary file renamed),
    so processes sharing the cache folder agree."""
    if os.path.exists(path):
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def undefined_symbols(obj: bytes) -> list[str]:
    """Names an ELF64 little-endian object needs from outside (ValueError otherwise)."""
    if obj[:4] != b"\x7fELF" or obj[4] != 2 or obj[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF object")
    shoff, = struct.unpack_from("<Q", obj, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", obj, 0x3A)
    if shentsize != 64 or shoff + shnum * 64 > len(obj):
        raise ValueError("bad ELF section table")
    sections = [struct.unpack_from("<IIQQQQIIQQ", obj, shoff + k * 64) for k in range(shnum)]
    names = []
    for sec in sections:
        if sec[1] != 2:                             # SHT_SYMTAB
            continue
        off, size, link, entsize = sec[4], sec[5], sec[6], sec[9]
        if entsize != 24 or off + size > len(obj) or link >= shnum:
            raise ValueError("bad ELF symbol table")
        str_off, str_size = sections[link][4], sections[link][5]
        if str_off + str_size > len(obj):
            raise ValueError("bad ELF string table")
        for k in range(size // 24):
            name_at, _info, _other, shndx = struct.unpack_from("<IBBH", obj, off + k * 24)
            if shndx == 0 and name_at:              # SHN_UNDEF, named
                if name_at >= str_size:
                    raise ValueError("bad ELF symbol name")
                end = obj.index(b"\0", str_off + name_at)
                names.append(obj[str_off + name_at:end].decode())
    return names


_process: list = []


def _process_symbol(name: str) -> Optional[int]:
    """The address of ``name`` among the process's global symbols, or None."""
    if name.startswith(_NUMBA_HELPERS):
        return None
    if not _process:
        _process.append(ctypes.CDLL(None))    # dlopen(NULL): the executable and its libraries
    try:
        return ctypes.cast(getattr(_process[0], name), ctypes.c_void_p).value
    except AttributeError:
        return None


# --- writing (a process that has Numba) ----------------------------------------------------
def numba_abi(specs: list, name: str = "") -> str:
    """The LLVM type (or declaration, given the name) of a Numba kernel taking these arrays
    and returning nothing: a status; the return and exception slots, then each array's
    fields flattened (meminfo, parent, size, itemsize, data, the shape, the strides)."""
    fields = ["ptr", "ptr"]
    for shape, _ in specs:
        fields += ["ptr", "ptr", "i64", "i64", "ptr"] + ["i64"] * (2 * len(shape))
    params = ", ".join(fields)
    return f'i32 @"{name}"({params})' if name else f"i32 ({params})"


def _llvm_text(data: bytes) -> str:
    return "".join(chr(c) if 32 <= c < 127 and c not in b'"\\' else f"\\{c:02X}" for c in data)


def entry_ir(entry: str, types: str, target: str, specs: list, n_inputs: int,
             release_gil: bool) -> str:
    """LLVM IR of the METH_FASTCALL entry ``entry(self, args, nargs)``: check every
    argument against ``specs`` (type, dtype, rank, shape, C order, outputs writable), then
    call ``target`` (the Numba kernel, ``numba_abi``) on C-ordered arrays at their data
    pointers, without the GIL if ``release_gil``; on a mismatch raise TypeError."""
    n = len(specs)
    msg = b"symgraph native kernel: an argument is not the expected C-contiguous array\0"
    failed = b"symgraph native kernel: the kernel reported an error\0"
    lines = [f"declare {numba_abi(specs, target)}",
             "declare void @Py_IncRef(ptr)", "declare void @PyErr_SetString(ptr, ptr)",
             "declare ptr @PyEval_SaveThread()", "declare void @PyEval_RestoreThread(ptr)",
             "@_Py_NoneStruct = external global i8", "@PyExc_TypeError = external global ptr",
             "@PyExc_RuntimeError = external global ptr",
             f'@"{types}" = global [3 x ptr] zeroinitializer',
             f'@msg = private constant [{len(msg)} x i8] c"{_llvm_text(msg)}"',
             f'@failed = private constant [{len(failed)} x i8] c"{_llvm_text(failed)}"',
             f'define ptr @"{entry}"(ptr %self, ptr %args, i64 %nargs) {{',
             "start:", "  %ret = alloca [4 x i64]", "  %exc = alloca ptr",
             "  store ptr null, ptr %exc", f"  %count = icmp eq i64 %nargs, {n}",
             "  br i1 %count, label %arg0, label %bad"]
    for k, (shape, dtype) in enumerate(specs):
        ok = f"%arg{k + 1}" if k + 1 < n else "%go"
        need = _C_CONTIGUOUS | (_WRITEABLE if k >= n_inputs else 0)
        lines += [f"arg{k}:",
                  f"  %slot{k} = getelementptr ptr, ptr %args, i64 {k}",
                  f"  %o{k} = load ptr, ptr %slot{k}",
                  f"  %tp{k} = getelementptr i8, ptr %o{k}, i64 {_OB_TYPE}",
                  f"  %t{k} = load ptr, ptr %tp{k}",
                  f'  %want_t{k} = load ptr, ptr @"{types}"',
                  f"  %is_array{k} = icmp eq ptr %t{k}, %want_t{k}",
                  f"  br i1 %is_array{k}, label %fields{k}, label %bad",
                  f"fields{k}:",
                  f"  %ndp{k} = getelementptr i8, ptr %o{k}, i64 {_ND}",
                  f"  %nd{k} = load i32, ptr %ndp{k}",
                  f"  %rank{k} = icmp eq i32 %nd{k}, {len(shape)}",
                  f"  %flp{k} = getelementptr i8, ptr %o{k}, i64 {_FLAGS}",
                  f"  %fl{k} = load i32, ptr %flp{k}",
                  f"  %flm{k} = and i32 %fl{k}, {need}",
                  f"  %order{k} = icmp eq i32 %flm{k}, {need}",
                  f"  %dsp{k} = getelementptr i8, ptr %o{k}, i64 {_DESCR}",
                  f"  %ds{k} = load ptr, ptr %dsp{k}",
                  f"  %stp{k} = getelementptr i8, ptr %ds{k}, i64 {_DESCR_TYPE}",
                  f"  %st{k} = load ptr, ptr %stp{k}",
                  f'  %wdp{k} = getelementptr [3 x ptr], ptr @"{types}", i64 0, i64 '
                  f"{_DTYPES[dtype]}",
                  f"  %wd{k} = load ptr, ptr %wdp{k}",
                  f"  %scalar{k} = icmp eq ptr %st{k}, %wd{k}",
                  f"  %bop{k} = getelementptr i8, ptr %ds{k}, i64 {_DESCR_BYTEORDER}",
                  f"  %bo{k} = load i8, ptr %bop{k}",
                  f"  %native{k} = icmp eq i8 %bo{k}, {ord('=')}",
                  f"  %dtype{k} = and i1 %scalar{k}, %native{k}",
                  f"  %c1_{k} = and i1 %rank{k}, %order{k}",
                  f"  %c2_{k} = and i1 %c1_{k}, %dtype{k}",
                  f"  br i1 %c2_{k}, label %shape{k}, label %bad",
                  f"shape{k}:",
                  f"  %dmp{k} = getelementptr i8, ptr %o{k}, i64 {_DIMS}",
                  f"  %dm{k} = load ptr, ptr %dmp{k}"]
        acc = "true"
        for ax, size in enumerate(shape):
            lines += [f"  %dg{k}_{ax} = getelementptr i64, ptr %dm{k}, i64 {ax}",
                      f"  %dv{k}_{ax} = load i64, ptr %dg{k}_{ax}",
                      f"  %de{k}_{ax} = icmp eq i64 %dv{k}_{ax}, {size}",
                      f"  %da{k}_{ax} = and i1 {acc}, %de{k}_{ax}"]
            acc = f"%da{k}_{ax}"
        lines += [f"  %dtp{k} = getelementptr i8, ptr %o{k}, i64 {_DATA}",
                  f"  %data{k} = load ptr, ptr %dtp{k}",
                  f"  br i1 {acc}, label {ok}, label %bad"]
    args = ["ptr %ret", "ptr %exc"]
    for k, (shape, dtype) in enumerate(specs):
        size = np.dtype(dtype).itemsize
        strides = [size * math.prod(shape[d + 1:]) for d in range(len(shape))]
        args += ["ptr null", "ptr null", f"i64 {math.prod(shape)}", f"i64 {size}",
                 f"ptr %data{k}"] + [f"i64 {v}" for v in (*shape, *strides)]
    call = [f'  %status = call i32 @"{target}"({", ".join(args)})']
    if release_gil:
        call = ["  %thread = call ptr @PyEval_SaveThread()", *call,
                "  call void @PyEval_RestoreThread(ptr %thread)"]
    lines += ["go:", *call, "  %fine = icmp eq i32 %status, 0",
              "  br i1 %fine, label %done, label %error",
              "done:", "  call void @Py_IncRef(ptr @_Py_NoneStruct)", "  ret ptr @_Py_NoneStruct",
              "bad:", "  %type_error = load ptr, ptr @PyExc_TypeError",
              "  call void @PyErr_SetString(ptr %type_error, ptr @msg)", "  ret ptr null",
              "error:", "  %runtime_error = load ptr, ptr @PyExc_RuntimeError",
              "  call void @PyErr_SetString(ptr %runtime_error, ptr @failed)", "  ret ptr null",
              "}"]
    return "\n".join(lines) + "\n"


def store(group: Any, kernel: Any, sched: Any, cache_dir: str) -> str:
    """Write the native file of ``group`` (whose Numba kernel is ``kernel``) unless it is
    there; returns what happened ("written", "present", or why not)."""
    if not enabled():
        return "off"
    import numba
    if numba.config.CPU_NAME or numba.config.CPU_FEATURES:
        return "Numba targets another CPU (NUMBA_CPU_NAME)"   # the host key would lie
    host = host_key()
    path = _path(cache_dir, group.key, host)
    refused = _path(cache_dir, group.key, host, ".refused")
    if os.path.exists(path) or os.path.exists(refused):
        return "present"
    specs = arg_specs(group, sched)
    if any(dtype not in _DTYPES for _, dtype in specs) or len(kernel.signatures) != 1:
        return "only float32 and float64 kernels of one signature are stored"
    import llvmlite.binding as ll
    from numba.core.compiler_lock import global_compiler_lock
    compiled = kernel.overloads[kernel.signatures[0]]
    target = compiled.fndesc.mangled_name
    entry, types = f"symgraph_entry_{group.key}", f"symgraph_types_{group.key}"
    release = math.prod(group.shape) * group.ops >= RELEASE_GIL_WORK
    with global_compiler_lock:        # LLVM's context is shared with Numba's compiles
        library = compiled.library
        module = ll.parse_bitcode(library._get_module_for_linking().as_bitcode())
        if str(module.get_function(target).global_value_type) != numba_abi(specs):
            return "refused: Numba's calling convention is not the expected one"
        module.link_in(ll.parse_assembly(entry_ir(entry, types, target, specs,
                                                  len(group.inputs), release)))
        # One exported function and table an object, so kernels share no names in the
        # engine; then everything the entry does not reach goes (Numba's CPython wrapper
        # with its calls into Numba's helpers).
        for value in (*module.functions, *module.global_variables):
            if not value.is_declaration and value.name not in (entry, types) \
                    and not value.name.startswith("llvm."):
                value.linkage = "internal"
        passes = ll.create_new_module_pass_manager()
        passes.add_global_dead_code_eliminate_pass()
        passes.add_strip_dead_prototype_pass()
        passes.run(module, ll.create_pass_builder(library._codegen._tm,
                                                  ll.create_pipeline_tuning_options()))
        module.verify()
        obj = library._codegen._tm.emit_object(module)
    missing = [s for s in undefined_symbols(obj) if _process_symbol(s) is None]
    if missing:
        write_once(refused, " ".join(missing).encode())
        return f"refused: needs {', '.join(missing[:3])}"
    meta = {"key": group.key, "host": host, "entry": entry, "types": types,
            "args": [[list(shape), dtype] for shape, dtype in specs]}
    write_once(path, pack(meta, obj))
    return "written"


# --- loading (any process; llvmlite only) --------------------------------------------------
_abi: list[bool] = []


def _abi_ok() -> bool:
    """NumPy's array fields sit where the entries read them (checked once, on probes)."""
    if not _abi:
        _abi.append(_probe_abi())
    return _abi[0]


def _probe_abi() -> bool:
    read_p = lambda at: ctypes.c_void_p.from_address(at).value  # noqa: E731
    read_i = lambda at: ctypes.c_int.from_address(at).value     # noqa: E731
    swapped = np.empty(3, ">f8" if sys.byteorder == "little" else "<f8")
    for probe in (np.empty((2, 3), np.float64), np.empty((3, 2), np.float32).T, swapped):
        at, descr = id(probe), read_p(id(probe) + _DESCR)
        flags = read_i(at + _FLAGS)
        if read_p(at + _OB_TYPE) != id(np.ndarray) or read_p(at + _DATA) != probe.ctypes.data \
                or read_i(at + _ND) != probe.ndim or descr != id(probe.dtype) \
                or read_p(descr + _DESCR_TYPE) != id(probe.dtype.type) \
                or ctypes.c_char.from_address(descr + _DESCR_BYTEORDER).value \
                != probe.dtype.byteorder.encode() \
                or bool(flags & _C_CONTIGUOUS) != probe.flags.c_contiguous \
                or bool(flags & _WRITEABLE) != probe.flags.writeable \
                or tuple((ctypes.c_int64 * probe.ndim).from_address(read_p(at + _DIMS))) \
                != probe.shape:
            return False
    return True


def _mcjit() -> Any:
    if not _engine:
        import llvmlite.binding as ll
        ll.initialize_native_target()
        ll.initialize_native_asmprinter()
        machine = ll.Target.from_default_triple().create_target_machine(codemodel="jitdefault")
        _engine.append(ll.create_mcjit_compiler(ll.parse_assembly(""), machine))
    return _engine[0]


class _MethodDef(ctypes.Structure):
    """CPython's PyMethodDef."""
    _fields_ = [("name", ctypes.c_char_p), ("meth", ctypes.c_void_p),
                ("flags", ctypes.c_int), ("doc", ctypes.c_char_p)]


def _builtin(address: int, name: str) -> Callable:
    """A Python builtin function whose C implementation is at ``address`` (fastcall)."""
    method = _MethodDef(name.encode(), address, _METH_FASTCALL, None)
    _keep.append(method)                 # the function points into it for ever
    make = ctypes.PYFUNCTYPE(ctypes.py_object, *[ctypes.c_void_p] * 3)(
        ("PyCFunction_NewEx", ctypes.pythonapi))
    return make(ctypes.addressof(method), None, None)


def _entry_of(group: Any, sched: Any, cache_dir: str, host: str) -> Callable:
    """Load (once a process) the native entry of ``group``'s kernel."""
    done = _loaded.get(group.key)
    if done is not None:
        return done
    if group.key in _added:
        raise RuntimeError("this kernel's object failed to load earlier in this process")
    path = _path(cache_dir, group.key, host)
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        meta, obj = unpack(data)
        specs = [[list(shape), dtype] for shape, dtype in arg_specs(group, sched)]
        if meta.get("key") != group.key or meta.get("host") != host or meta.get("args") != specs:
            raise ValueError("native kernel file describes another kernel")
        symbols = undefined_symbols(obj)
    except (ValueError, KeyError, UnicodeDecodeError, struct.error) as exc:
        try:
            os.remove(path)              # the next Numba load writes it again
        except OSError:
            pass
        raise ValueError(f"{os.path.basename(path)}: {exc}") from None
    import llvmlite.binding as ll
    for name in symbols:
        address = _process_symbol(name)
        if address is None:
            raise RuntimeError(f"native kernel needs {name}, not in this process")
        ll.add_symbol(name, address)
    engine = _mcjit()
    _added.add(group.key)
    engine.add_object_file(ll.ObjectFileRef.from_data(obj))
    engine.finalize_object()
    address = engine.get_function_address(meta["entry"])
    table = engine.get_global_value_address(meta["types"])
    if not address or not table:
        raise RuntimeError("native kernel object lacks its entry")
    # what the entry compares each argument's type and scalar type with (``_DTYPES`` order)
    (ctypes.c_void_p * 3).from_address(table)[:] = [id(np.ndarray), id(np.float32),
                                                    id(np.float64)]
    entry = _builtin(address, f"fused_{group.key}")
    _loaded[group.key] = entry
    return entry


def load(groups: list, sched: Any, cache_dir: str) -> dict:
    """The native entry of every group (a dict group -> entry); raises when any is
    missing or unusable, so the caller keeps its other path."""
    with _lock, _llvm_lock():
        if not _abi_ok():
            raise RuntimeError("NumPy's array layout is not the one native kernels read")
        host = host_key()
        return {g: _entry_of(g, sched, cache_dir, host) for g in groups}


def _llvm_lock() -> Any:
    """Numba's compiler lock when Numba is loaded: its compiles in other threads share
    LLVM's global state (context, symbol table) with the loads here."""
    if "numba" in sys.modules:
        from numba.core.compiler_lock import global_compiler_lock
        return global_compiler_lock
    return contextlib.nullcontext()


def caller(entry: Callable, group: Any, sched: Any) -> Callable:
    """Run the native entry as ``fused._caller`` runs a Numba kernel: outputs go into the
    buffers passed after the inputs (one per output with a ``Group.buffers`` entry) or new
    arrays; returns the outputs. When the entry refuses an argument (a view, a Fortran-
    ordered array, swapped bytes), the call is made again on C-ordered copies."""
    # a 0-d output is made as an array of one element and returned as its element, a
    # NumPy scalar, as ``fused._caller`` does
    out_specs = [(tuple(sched.nodes[s].shape) or (1,), np.dtype(sched.nodes[s].dtype))
                 for s in group.outputs]
    unwrap = [sched.nodes[s].ndim == 0 for s in group.outputs]
    has_unwrap = any(unwrap)
    in_specs = [(tuple(sched.nodes[s].shape) or (1,), np.dtype(sched.nodes[s].dtype))
                for s in group.inputs]
    given = [b is not None for b in getattr(group, "buffers", ())] or [False] * len(out_specs)
    scalar = [sched.nodes[s].ndim == 0 for s in group.inputs]
    has_scalar = any(scalar)
    n_in = len(group.inputs)
    empty, asarray, ndarray = np.empty, np.asarray, np.ndarray

    def fresh(a: Any, shape: tuple, dtype: np.dtype) -> np.ndarray:
        out = empty(shape, dtype)
        out[...] = a
        return out

    def fits(o: Any, dtype: np.dtype) -> bool:
        return (type(o) is ndarray and o.dtype == dtype and o.dtype.isnative
                and o.flags.c_contiguous and o.flags.writeable)

    def call(*args: Any) -> tuple:
        ins = args[:n_in]
        if has_scalar:
            ins = tuple(asarray(a, dtype=d).reshape(1) if s else a
                        for a, s, (_, d) in zip(ins, scalar, in_specs))
        spares = iter(args[n_in:])
        outs = [next(spares) if g else empty(shape, dtype)
                for g, (shape, dtype) in zip(given, out_specs)]
        try:
            entry(*ins, *outs)
        except TypeError:
            ins = tuple(fresh(a, shape, dtype) for a, (shape, dtype) in zip(ins, in_specs))
            outs = [o if fits(o, dtype) else empty(shape, dtype)
                    for o, (shape, dtype) in zip(outs, out_specs)]
            entry(*ins, *outs)
        if has_unwrap:
            return tuple(o[0] if u else o for o, u in zip(outs, unwrap))
        return tuple(outs)
    return call
