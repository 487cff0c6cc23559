"""Native kernel cache (runtime/fused_native.py): a second process with a warm disk cache
runs fused kernels from its first call without importing Numba; bad files fall back."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import symgraph as sg
from symgraph.runtime import fused, fused_native

pytest.importorskip("numba")
pytest.importorskip("llvmlite")
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="native kernels are stored as ELF objects")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RTOL64, RTOL32 = 1e-12, 1e-5     # as tests/test_fused.py: libm against NumPy's routines

# Three groups: float64 broadcasting a (8,) and a scalar input over (4, 8), reading a
# transposed view made inside the graph; and a float32 chain. The caller passes x as a
# transposed (Fortran-ordered) array, so the entry refuses it and the caller copies it.
_CHILD = r"""
import json, sys
import numpy as np
import symgraph as sg
from symgraph.runtime import fused
x, y, s = sg.var("x", (4, 8)), sg.var("y", (8,)), sg.var("s", ())
z = sg.var("z", (8, 4))
u = sg.var("u", (5, 3), "float32")
a = x + sg.transpose(z)
for k in range(20):
    a = sg.tanh(a * y + s) if k % 2 else a - y * 0.625
b = u
for k in range(6):
    b = sg.exp(-b * b) + 0.5 if k % 2 else b * 1.5 - 0.25
outs = [a, sg.sum(a), b]
f = sg.function([x, y, s, z, u], outs, fusion=sys.argv[1])
tier, origin = f._tiers.tier, f._tiers.origin
rng = np.random.default_rng(3)
args = (rng.uniform(-1, 1, (8, 4)).T, rng.uniform(-1, 1, 8), np.float64(0.25),
        rng.uniform(-1, 1, (8, 4)), rng.uniform(-1, 1, (5, 3)).astype(np.float32))
got = f(*args)
numba = "numba" in sys.modules
want = sg.function([x, y, s, z, u], outs, fusion="off")(*args)
errors = [float(np.max(np.abs(g - w) / (np.abs(w) + 1e-30))) for g, w in zip(got, want)]
final = fused.wait(f)
print(json.dumps({"tier": tier, "origin": origin, "numba": numba, "errors": errors,
                  "dtype": str(got[2].dtype), "final": final, "reason": f._tiers.reason,
                  "groups": len(f._tiers.groups),
                  "report": [t for t in f.report().splitlines() if t.startswith("fusion")]}))
"""


def _child(mode: str, cache: str, **env_extra: str) -> dict:
    env = dict(os.environ, SYMGRAPH_CACHE_DIR=cache, PYTHONPATH=ROOT, **env_extra)
    env.pop("SYMGRAPH_NATIVE_KERNELS", None)
    out = subprocess.run([sys.executable, "-c", _CHILD, mode], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _native_files(cache) -> list[str]:
    folder = os.path.join(str(cache), "fused", "native")
    return sorted(n for n in os.listdir(folder) if n.endswith(".bin"))


def _check_results(res: dict) -> None:
    rel64a, rel64b, rel32 = res["errors"]
    assert rel64a < RTOL64 * 10 and rel64b < RTOL64 * 10 and rel32 < RTOL32
    assert res["dtype"] == "float32"


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory):
    """A cache filled by a first process (fusion forced: Numba compiles, native copies
    are written before it exits)."""
    cache = tmp_path_factory.mktemp("native-cache")
    first = _child("force", str(cache))
    assert first["tier"] == "fused" and first["origin"] == "" and first["numba"]
    _check_results(first)
    return cache, first


def test_the_second_process_runs_native_kernels_from_its_first_call(warm_cache):
    cache, first = warm_cache
    assert len(_native_files(cache)) == first["groups"] >= 3
    second = _child("auto", str(cache))
    assert second["tier"] == "fused" and second["origin"] == "native cache"
    assert second["numba"] is False            # not even after the first call
    assert "native kernels from the disk cache" in second["report"][0]
    _check_results(second)


def test_forced_fusion_also_prefers_the_native_kernels(warm_cache):
    second = _child("force", str(warm_cache[0]))
    assert second["origin"] == "native cache" and second["numba"] is False
    _check_results(second)


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_a_damaged_native_file_falls_back_to_numba_and_is_rewritten(warm_cache, tmp_path,
                                                                     damage):
    cache = tmp_path / "cache"
    shutil.copytree(warm_cache[0], cache)
    name = _native_files(cache)[0]
    path = cache / "fused" / "native" / name
    data = path.read_bytes()
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:                         # one byte of the object code: only the hash can tell
        k = len(data) - 100
        data = data[:k] + bytes([data[k] ^ 0x5A]) + data[k + 1:]
    path.write_bytes(data)
    res = _child("auto", str(cache))
    # NumPy now (Numba's cache loads in the background), fused once it is in
    assert res["tier"] in ("compiling", "numpy") and res["origin"] == ""
    assert res["final"] == "fused"
    why = res["reason"]
    assert "native cache unusable" in why and ("corrupted" in why or "not a symgraph" in why)
    _check_results(res)
    # the bad file was removed and written again by the Numba load: the next one is native
    assert path.read_bytes() != data
    assert _child("auto", str(cache))["origin"] == "native cache"


def test_the_cold_path_imports_neither_numba_nor_llvmlite(tmp_path):
    code = ("import sys, numpy as np, symgraph as sg\n"
            "x = sg.var('x', (8,))\n"
            "a = x\n"
            "for k in range(12): a = sg.tanh(a) * 1.5 + 0.25\n"
            "f = sg.function([x], a, fusion='auto')\n"
            "f(np.ones(8))\n"
            "print('numba' in sys.modules, 'llvmlite' in sys.modules, f._tiers.tier)\n")
    env = dict(os.environ, SYMGRAPH_CACHE_DIR=str(tmp_path / "empty"), PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True, timeout=120)
    assert out.stdout.split() == ["False", "False", "numpy"]


# --- in this process ---------------------------------------------------------------------
@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMGRAPH_CACHE_DIR", str(tmp_path))
    return tmp_path


def _chain_function(shape, dtype="float64", fusion="force", n=10):
    x, y = sg.var("x", shape, dtype), sg.var("y", shape[-1:], dtype)
    a = x
    for k in range(n):
        a = sg.tanh(a * y + 0.125) if k % 2 else a * 0.75 - y
    return sg.function([x, y], a, fusion=fusion), (x, y, a)


def test_the_entry_checks_every_argument_before_running(cache):
    f, _ = _chain_function((3, 4))
    assert f._tiers.origin == ""                       # Numba compiled it, and stored it
    g, _ = _chain_function((3, 4))
    assert g._tiers.origin == "native cache"
    group = g._tiers.groups[0]
    entry = fused_native._loaded[group.key]
    x, y, out = np.ones((3, 4)), np.ones(4), np.empty((3, 4))
    assert entry(x, y, out) is None and np.all(np.isfinite(out))
    class Sub(np.ndarray):
        pass
    bad = [(x.astype(np.float32), y, out),          # another dtype
           (np.ones((4, 3)), y, out),               # another shape
           (np.ones((4, 3)).T, y, out),             # the right shape, Fortran order
           (x, y, np.ones(12)),                     # another rank
           (x[:, :2], y, out),                      # a slice
           (x, [1.0] * 4, out), (np.float64(1.0), y, out), (x.view(Sub), y, out),
           (x, y), (x, y, out, out),                # argument count
           (x, y, np.broadcast_to(np.ones(4), (3, 4)))]   # a read-only output
    for args in bad:
        with pytest.raises(TypeError, match="symgraph native kernel"):
            entry(*args)


def test_native_results_match_numpy_through_views_and_float32(cache):
    for dtype, rtol in (("float64", RTOL64), ("float32", RTOL32)):
        _chain_function((2, 5), dtype)
        f, (x, y, a) = _chain_function((2, 5), dtype)
        assert f._tiers.origin == "native cache"
        ref = sg.function([x, y], a, fusion="off")
        rng = np.random.default_rng(5)
        base = rng.uniform(-1, 1, (5, 2)).astype(dtype)
        yv = rng.uniform(-1, 1, 10).astype(dtype)[::2]        # a strided view
        got = f(base.T, yv)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, ref(base.T, yv), rtol=rtol, atol=1e-6)


def test_files_hash_their_payload_and_name_their_kernel():
    meta = {"key": "k", "args": [[[2], "float64"]]}
    data = fused_native.pack(meta, b"\x7fELF-object")
    assert fused_native.unpack(data) == (meta, b"\x7fELF-object")
    for bad in (data[:-1], data[:20], b"", data[:-3] + b"xyz",
                fused_native.FORMAT + bytes(32) + data[len(fused_native.FORMAT) + 32:]):
        with pytest.raises(ValueError):
            fused_native.unpack(bad)


def test_stored_objects_need_only_libm_and_python(cache):
    f, _ = _chain_function((6,), n=12)
    g, _ = _chain_function((6,), n=12)
    folder = os.path.join(str(cache), "fused", "native")
    (name,) = [n for n in os.listdir(folder) if n.endswith(".bin")]
    with open(os.path.join(folder, name), "rb") as fh:
        meta, obj = fused_native.unpack(fh.read())
    symbols = fused_native.undefined_symbols(obj)
    assert "tanh" in symbols
    assert not [s for s in symbols if s.startswith(("numba", "NRT"))]
    assert all(fused_native._process_symbol(s) for s in symbols)
    assert meta["args"] == [[[6], "float64"], [[6], "float64"], [[6], "float64"]]


def test_a_kernel_needing_numba_helpers_is_refused_not_stored(cache, monkeypatch):
    real = fused_native._process_symbol
    monkeypatch.setattr(fused_native, "_process_symbol",
                        lambda name: None if name == "tanh" else real(name))
    f, _ = _chain_function((7,))
    assert f._tiers.tier == "fused" and f._tiers.origin == ""
    folder = os.path.join(str(cache), "fused", "native")
    names = os.listdir(folder)
    assert [n for n in names if n.endswith(".refused")] and \
        not [n for n in names if n.endswith(".bin")]
    g, _ = _chain_function((7,))                      # no file: the Numba path again
    assert g._tiers.tier == "fused" and g._tiers.origin == ""


def test_native_kernels_can_be_turned_off(cache, monkeypatch):
    monkeypatch.setenv("SYMGRAPH_NATIVE_KERNELS", "off")
    _chain_function((9,))
    g, _ = _chain_function((9,))
    assert g._tiers.origin == "" and not os.path.exists(os.path.join(str(cache), "fused",
                                                                     "native"))


def test_big_graphs_planned_in_the_background_load_native_kernels(cache, monkeypatch):
    _chain_function((4,), n=12)
    monkeypatch.setattr(fused, "PLAN_AT_COMPILE_STEPS", 3)
    monkeypatch.setattr(fused, "CALLS_BEFORE_FUSING", 2)
    f, (x, y, a) = _chain_function((4,), fusion="auto", n=12)
    assert f._tiers.groups is None
    xv, yv = np.linspace(-1, 1, 4), np.linspace(0, 1, 4)
    want = f(xv, yv)
    f(xv, yv)
    assert fused.wait(f) == "fused" and f._tiers.origin == "native cache"
    np.testing.assert_allclose(f(xv, yv), want, rtol=RTOL64)


def test_long_kernels_run_without_the_gil_and_short_ones_keep_it(cache):
    for shape, n in (((6,), 12), ((64,), 60)):      # one group each: 24 and 150 ops
        _chain_function(shape, n=n)
    folder = os.path.join(str(cache), "fused", "native")
    released = {}
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as fh:
            meta, obj = fused_native.unpack(fh.read())
        released[meta["args"][0][0][0]] = "PyEval_SaveThread" in \
            fused_native.undefined_symbols(obj)
    assert released == {6: False, 64: True}
    f, (x, y, a) = _chain_function((64,), n=60)
    assert f._tiers.origin == "native cache"
    xv, yv = np.linspace(-1, 1, 64), np.linspace(0, 1, 64)
    np.testing.assert_allclose(f(xv, yv), sg.function([x, y], a, fusion="off")(xv, yv),
                               rtol=RTOL64)


def test_unpickled_and_byte_swapped_inputs(cache):
    import pickle
    _chain_function((2, 3))
    f, (x, y, a) = _chain_function((2, 3))
    assert f._tiers.origin == "native cache"
    entry = fused_native._loaded[f._tiers.groups[0].key]
    xv = pickle.loads(pickle.dumps(np.linspace(-1, 1, 6).reshape(2, 3)))
    assert xv.dtype is not np.dtype("float64")        # a copy of the dtype: still accepted
    entry(xv, np.ones(3), np.empty((2, 3)))
    swapped = np.linspace(0, 1, 3).astype(">f8")       # same values, other byte order
    with pytest.raises(TypeError, match="symgraph native kernel"):
        entry(xv, swapped, np.empty((2, 3)))
    ref = sg.function([x, y], a, fusion="off")
    np.testing.assert_allclose(f(xv, swapped), ref(xv, swapped), rtol=RTOL64)


def _twice(make):
    """Build with fusion forced twice: Numba (writing the native copies), then native."""
    make()
    return make()


def test_native_kernels_write_parameter_updates_into_the_spare_buffer(cache):
    def make():
        W = sg.param(np.linspace(-1, 1, 4), name="W")
        x = sg.var("x", (4,))
        g = sg.grad(sg.sum(sg.tanh(W * x)), W)
        return W, sg.function([x], [], updates={W: W - 0.1 * g}, fusion="force")
    W, f = _twice(make)
    assert f._tiers.origin == "native cache"
    assert [b for grp in f._tiers.groups for b in grp.buffers if b and b[0] == "param"]
    held = W.value
    before = held.copy()
    X = np.array([0.5, -1.0, 2.0, 0.25])
    f(X)
    np.testing.assert_array_equal(held, before)          # the array W held: never written
    expected = before - 0.1 * X * (1 - np.tanh(before * X) ** 2)
    np.testing.assert_allclose(W.value, expected, rtol=1e-14)
    f(X)
    expected = expected - 0.1 * X * (1 - np.tanh(expected * X) ** 2)
    np.testing.assert_allclose(W.value, expected, rtol=1e-14)


def test_native_adam_matches_the_numpy_tier(cache):
    for dtype in ("float32", "float64"):
        values = []
        for mode in ("off", "force", "force"):
            rng = np.random.default_rng(0)
            W = sg.param(rng.standard_normal((40, 30)).astype(dtype) * 0.1, name="W")
            x0 = rng.standard_normal((64, 40)).astype(dtype)
            x = sg.var("x", (64, 40), dtype)
            loss = sg.mean(sg.tanh(x @ W) ** 2)
            opt = sg.optim.Adam(0.01)
            f = sg.function([x], loss, updates=opt.updates(loss, [W]), fusion=mode)
            for _ in range(3):
                f(x0)
            values.append([W.value.copy()] + [s.value.copy() for s in opt.slots["mean"]]
                          + [s.value.copy() for s in opt.slots["mean_sq"]])
        assert f._tiers.origin == "native cache"
        tol = 1e-6 if dtype == "float32" else 1e-13
        for ref, numba_run, native_run in zip(*values):
            assert native_run.dtype == np.dtype(dtype)
            np.testing.assert_allclose(native_run, ref, rtol=tol, atol=tol)
            np.testing.assert_allclose(native_run, numba_run, rtol=tol, atol=tol)


def test_native_kernels_take_a_new_array_for_a_fortran_ordered_in_place_input(cache):
    a, b = sg.var("a", (4, 3)), sg.var("b", (3,))
    y = sg.cross(a, b)
    rng = np.random.default_rng(2)
    A, B = rng.standard_normal((4, 3)), rng.standard_normal(3)
    U, V = rng.standard_normal((4, 3)), rng.standard_normal(3)
    outs = [sg.jvp([y], [a, b], [U, V])[0], *sg.vjp([y], [a, b], [U])]
    want = sg.function([a, b], outs, fusion="off")(A, B)
    f = _twice(lambda: sg.function([a, b], outs, fusion="force"))
    assert f._tiers.origin == "native cache"
    for g, w in zip(f(A, B), want):
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-15)
