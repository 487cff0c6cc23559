"""Loader fuzzing: a few thousand mutated files, from flipped bytes to well-formed archives
describing nonsense. Every one loads or raises FormatError (nothing else); no code runs
(a canary file that a pickle or a named callable would create never appears) and nothing
is written anywhere (the working folder stays as it was)."""
from __future__ import annotations

import json
import os
import pickle
import random

import numpy as np

import symgraph as sg
from symgraph.ops.registry import REGISTRY

from io_archive import members, npy, pack, sample_function, sample_graph


class _Canary:
    """Unpickling this creates the canary file: proof that code ran."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def _nasty(rng: random.Random, canary: str) -> object:
    deep: object = 1
    for _ in range(40):
        deep = [deep]
    return rng.choice([
        None, True, False, 0, -1, 2 ** 31, 2 ** 64, -(2 ** 70), 1.5, float("1e308"), "",
        "x" * 70000, "../../etc/passwd", "float64", "object", "nan", [], {}, [None] * 3,
        [[10 ** 12] * 3, "float64", False], [[-1], "float64", False], {"$n": 10 ** 9},
        {"$n": -1}, {"$o": 0}, {"$a": 0}, {"$a": 10 ** 6}, {"$fn": "builtins.exec"},
        {"$fn": "os.system"}, {"$t": [1, {"$f": "inf"}]}, {"$f": "1e999"}, {"$f": "abc"},
        {"$c": ["1", "2", "3"]}, {"$dt": "O"}, {"$dt": "<U8"}, {"$np": ["float64", "x"]},
        {"$np": ["int8", 1000]}, {"$s": [0, "a", 1]}, {"$d": [[{"k": 1}, 2]]}, {"$e": 0},
        {"$x": 1, "$y": 2}, deep, "__DEEP__", rng.choice(sorted(REGISTRY)),
        {"kind": "object", "class": "subprocess.Popen", "fields": {"$d": []}},
        {"kind": "object", "class": "builtins.eval", "fields": {"$d": []}},
        {"$pickle": pickle.dumps(_Canary(canary)).hex()},
    ])


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    """Every place in a JSON document (iteratively: documents can be large)."""
    out, stack = [], [(prefix, value)]
    while stack:
        path, v = stack.pop()
        out.append(path)
        if isinstance(v, dict):
            stack += [(path + (k,), w) for k, w in v.items()]
        elif isinstance(v, list):
            stack += [(path + (i,), w) for i, w in enumerate(v)]
    return out


def _structured(rng: random.Random, blob: bytes, canary: str) -> bytes:
    files = members(blob)
    doc = json.loads(files["graph.json"])
    kind = rng.randrange(9)
    nodes = doc["nodes"]
    if kind == 0:                                   # replace anything with something nasty
        path = rng.choice(_paths(doc)[1:])
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = _nasty(rng, canary)
    elif kind == 1:                                 # delete a field or an entry
        path = rng.choice(_paths(doc)[1:])
        target = doc
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    elif kind == 2:                                 # a cycle or forward reference
        users = [n for n in nodes if n.get("in")]
        if users:
            n = rng.choice(users)
            n["in"][rng.randrange(len(n["in"]))] = rng.randrange(len(nodes) + 3)
    elif kind == 3:                                 # another (registered or not) op
        n = rng.choice(nodes)
        n["op"] = rng.choice(sorted(REGISTRY) + ["eval", "exec", "__import__", "os.system"])
    elif kind == 4:                                 # huge or negative declared shapes
        n = rng.choice(nodes)
        if "type" in n:
            n["type"][0] = [rng.choice([10 ** 6, 10 ** 9, 2 ** 62, -5, None])
                            for _ in range(rng.randrange(1, 4))]
    elif kind == 5:                                 # member names outside the format
        name = rng.choice(["../evil.npy", "/tmp/evil", "arrays/../../evil.npy", "a\\..\\b",
                           "arrays/7.npy", "graph.json ", "x/../../" + canary])
        files[name] = pickle.dumps(_Canary(canary))
    elif kind == 6:                                 # arrays that lie or pickle
        choice = rng.randrange(4)
        key = rng.choice([k for k in files if k.startswith("arrays/")] or ["arrays/0.npy"])
        if choice == 0:
            files[key] = npy(np.array([_Canary(canary)], dtype=object), allow_pickle=True)
        elif choice == 1:
            files[key] = npy(np.zeros(rng.choice([(1,), (7, 7), ()]),
                                      rng.choice(["float32", "int64", "bool"])))
        elif choice == 2:
            files[key] = files.get(key, b"")[: rng.randrange(1, 80)]
        else:
            files[key] = pickle.dumps(_Canary(canary))
    elif kind == 7:                                 # a newer or nonsense version
        doc["version"] = rng.choice([2, 10 ** 9, 0, "1", 1.0, None])
    else:                                           # swap two nodes (breaks the order)
        if len(nodes) > 2:
            i, j = rng.sample(range(len(nodes)), 2)
            nodes[i], nodes[j] = nodes[j], nodes[i]
    # JSON nested far past any recursion limit (json.dumps itself could not write it)
    text = json.dumps(doc).replace('"__DEEP__"', "[" * 100_000 + "]" * 100_000)
    files["graph.json"] = text.encode()
    return pack(files)


def _bytewise(rng: random.Random, blob: bytes) -> bytes:
    data = bytearray(blob)
    kind = rng.randrange(5)
    if kind == 0:                                   # truncate
        return bytes(data[: rng.randrange(len(data))])
    if kind == 1:                                   # flip bytes
        for _ in range(rng.randrange(1, 8)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        return bytes(data)
    if kind == 2:                                   # mutate the JSON text, re-zip validly
        files = members(blob)
        text = bytearray(files["graph.json"])
        for _ in range(rng.randrange(1, 6)):
            text[rng.randrange(len(text))] = rng.choice(b'{}[]",:0123456789-eE.$nul \x00\xff')
        files["graph.json"] = bytes(text)
        return pack(files)
    if kind == 3:                                   # insert junk
        at = rng.randrange(len(data))
        return bytes(data[:at] + os.urandom(rng.randrange(1, 32)) + data[at:])
    at, size = rng.randrange(len(data)), rng.randrange(1, 64)   # duplicate a chunk
    return bytes(data[:at] + data[at:at + size] + data[at:])


def test_mutated_files_raise_only_format_error_and_run_no_code(tmp_path, monkeypatch):
    canary = str(tmp_path / "canary")
    # the canary is live: unpickling the payload does create its file
    live = tmp_path / "live"
    pickle.loads(pickle.dumps(_Canary(str(live)))).close()
    assert live.exists()
    live.unlink()
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    seeds = [sample_graph(), sample_graph(), sg.dumps(sg.nn.MLP([3, 4, 2], dropout=0.5),
                                                      sg.optim.Adam(0.1))]
    function_seed = sample_function()       # compiles when loaded: fewer of these
    rng = random.Random(1234)
    outcomes = {"loaded": 0, "FormatError": 0}
    crashes: list[str] = []
    cases = [(rng.choice(seeds), "bytes") for _ in range(1500)]
    cases += [(rng.choice(seeds), "structured") for _ in range(1500)]
    cases += [(function_seed, rng.choice(["bytes", "structured"])) for _ in range(150)]
    for k, (seed, how) in enumerate(cases):
        blob = _bytewise(rng, seed) if how == "bytes" else _structured(rng, seed, canary)
        try:
            sg.loads(blob)
            outcomes["loaded"] += 1
        except sg.FormatError:
            outcomes["FormatError"] += 1
        except Exception as exc:                   # noqa: BLE001 - this is what is counted
            crashes.append(f"case {k} ({how}): {type(exc).__name__}: {str(exc)[:200]}")
    assert not crashes, f"{len(crashes)} crashes, e.g.:\n" + "\n".join(crashes[:10])
    assert outcomes["FormatError"] > 2500
    assert not os.path.exists(canary)
    assert list(workdir.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]
