"""The loader is strict and safe: every malformed file gets one FormatError that says what
is wrong and where; nothing in a file is executed or unpickled."""
from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

import symgraph as sg
from symgraph.io.schema import VERSION

from io_archive import document, members, npy, pack, sample_function, sample_graph, with_document


def _fails(blob: bytes, *patterns: str, **kw) -> str:
    with pytest.raises(sg.FormatError) as info:
        sg.loads(blob, **kw)
    message = str(info.value)
    for p in patterns:
        assert p in message, message
    return message


def _node_index(doc: dict, op: str) -> int:
    return next(i for i, n in enumerate(doc["nodes"]) if n.get("op") == op)


def test_sample_files_load():
    assert len(sg.loads(sample_graph())) == 2
    assert isinstance(sg.loads(sample_function()), sg.Function)


def test_loads_takes_bytes():
    with pytest.raises(TypeError, match="sg.load"):
        sg.loads("model.sgz")


def test_not_a_zip_truncated_and_empty():
    blob = sample_graph()
    _fails(b"", "<bytes>: not a symgraph file")
    _fails(b"hello world", "not a symgraph file")
    for cut in (10, len(blob) // 2, len(blob) - 5):
        _fails(blob[:cut])


def test_flipped_byte_in_a_member_is_caught_by_its_checksum():
    blob = bytearray(sample_graph())
    start = blob.index(b"graph.json") + 20
    blob[start + 5] ^= 0xFF
    _fails(bytes(blob))


def test_newer_format_version():
    blob = with_document(sample_graph(), lambda d: d.update(version=VERSION + 1))
    _fails(blob, f"format version {VERSION + 1}", "newer")


def test_not_a_symgraph_document():
    _fails(pack({"graph.json": b"[1, 2]"}), "not a symgraph document")
    _fails(pack({"graph.json": b"{\"format\": \"symgraph\", \"version\": 1, \"nodes\": [NaN]}"}),
           "not valid JSON")
    _fails(pack({"graph.json": b"\xff\xfe"}), "not valid JSON")
    _fails(pack({"graph.json": b'{"format": "symgraph", "version": 1, "version": 2}'}),
           "'version' appears twice")


def test_unknown_op():
    def change(d):
        d["nodes"][_node_index(d, "tanh")]["op"] = "os.system"
    _fails(with_document(sample_graph(), change), "unknown op 'os.system'", "node 5")


def test_cycle_and_forward_reference_and_missing_input():
    for bad in ([5], [99], [-1], ["0"]):
        def change(d, bad=bad):
            d["nodes"][_node_index(d, "tanh")]["in"] = bad
        _fails(with_document(sample_graph(), change), "node 5 (tanh)", "not an earlier node")


def test_shape_that_does_not_match_the_type_rule():
    def change(d):
        d["nodes"][_node_index(d, "tanh")]["type"][0] = [None, 7]
    _fails(with_document(sample_graph(), change), "node 5 (tanh)", "the op's type rule gives")


def test_attribute_of_the_wrong_type_or_range():
    def wrong_type(d):
        d["nodes"][_node_index(d, "sum")]["attrs"] = [["axis", "one"], ["keepdims", False]]
    _fails(with_document(sample_graph(), wrong_type), "(sum)", "type rule rejects")

    def out_of_range(d):
        d["nodes"][_node_index(d, "sum")]["attrs"] = [["axis", {"$t": [7]}], ["keepdims", False]]
    _fails(with_document(sample_graph(), out_of_range), "(sum)", "out of range")

    def big_int(d):
        d["nodes"][_node_index(d, "reshape")]["attrs"] = [["shape", {"$t": [2 ** 70]}]]
    _fails(with_document(sample_graph(), big_int), "expected an integer")

    def bare_float(d):
        d["nodes"][_node_index(d, "reshape")]["attrs"] = [["shape", {"$t": [1.5]}]]
    _fails(with_document(sample_graph(), bare_float), "floats are tagged")

    def unhashable(d):
        d["nodes"][_node_index(d, "reshape")]["attrs"] = [["shape", {"$d": [["a", 1]]}]]
    _fails(with_document(sample_graph(), unhashable), "(reshape)", "unhashable dict")

    def reference(d):
        d["nodes"][_node_index(d, "reshape")]["attrs"] = [["shape", {"$o": 0}]]
    _fails(with_document(sample_graph(), reference), "plain values")


def test_data_that_does_not_match_its_node():
    files = members(sample_graph())
    files["arrays/0.npy"] = npy(np.zeros((2, 2)))
    _fails(pack(files), "node 1 (param)", "data is float64(2, 2)")
    files["arrays/0.npy"] = npy(np.zeros((3, 2), np.float32))
    _fails(pack(files), "node 1 (param)", "float32")


def test_pickled_and_object_arrays_are_refused(tmp_path):
    canary = tmp_path / "canary"
    files = members(sample_graph())

    class Boom:
        def __reduce__(self):
            return (open, (str(canary), "w"))
    files["arrays/0.npy"] = npy(np.array([Boom()], dtype=object), allow_pickle=True)
    _fails(pack(files), "numeric dtypes")
    files["graph.json"] = pickle.dumps(Boom())
    _fails(pack(files))
    assert not canary.exists()


def test_npy_header_lies_about_its_size():
    files = members(sample_graph())
    good = files["arrays/0.npy"]
    _fails(pack({**files, "arrays/0.npy": good[:-8]}), "header says")
    _fails(pack({**files, "arrays/0.npy": good + b"\0" * 8}), "header says")
    _fails(pack({**files, "arrays/0.npy": b"\x93NUMPY\x01\x00\x10\x00{'descr': 1}     "}),
           "not readable")


def test_sizes_over_the_limit():
    def huge(d):
        d["nodes"][0]["type"][0] = [10 ** 12, 3]
    _fails(with_document(sample_graph(), huge), "node 0", "over the limit")
    files = members(sample_graph())
    files["arrays/0.npy"] = npy(np.zeros((3, 2)))[:10] + b"..."   # a header claiming more
    huge_header = "{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), }"
    files["arrays/0.npy"] = b"\x93NUMPY\x01\x00" + len(huge_header).to_bytes(2, "little") \
        + huge_header.encode()
    _fails(pack(files), "over the limit")
    big = sg.dumps(sg.param(np.zeros(1000)))
    _fails(big, "over the limit", max_bytes=4000)
    assert sg.loads(big, max_bytes=10_000).shape == (1000,)


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_member_names_outside_the_format():
    files = members(sample_graph())
    for name in ("../evil.npy", "/etc/passwd", "arrays/../../x.npy", "arrays/1.npy/",
                 "graph.json/../x", "arrays/01.npy", "code.py"):
        _fails(pack({**files, name: b"x"}), "unexpected member")
    _fails(pack(list(files.items()) + [("graph.json", files["graph.json"])]), "appears twice")


def test_missing_member():
    files = members(sample_graph())
    del files["arrays/0.npy"]
    _fails(pack(files), "arrays/0.npy", "missing")
    _fails(pack({}), "graph.json", "missing")


def test_classes_and_functions_outside_symgraph_are_refused():
    model_blob = sg.dumps(sg.nn.MLP([2, 2, 2]))

    def foreign_class(d):
        d["objects"][0]["class"] = "os._wrap_close"
    _fails(with_document(model_blob, foreign_class), "class 'os._wrap_close'", "classes=")

    for inner in ("symgraph.graph.Node", "symgraph.runtime.function.Function",
                  "symgraph.runtime.codegen.Program", "symgraph.ops.registry.Op",
                  "symgraph.io.writer.Writer"):
        def internal_class(d, inner=inner):
            d["objects"][0]["class"] = inner
        _fails(with_document(model_blob, internal_class), f"class {inner!r}")

    def foreign_function(d):
        text = json.dumps(d).replace("symgraph.relu", "os.system")
        return json.loads(text)
    _fails(with_document(model_blob, foreign_function), "unknown function 'os.system'")


class Scale(sg.nn.Layer):
    """A user's own layer class."""

    def __init__(self, k):
        super().__init__()
        self.k = sg.param(np.array(k), name="k")

    def forward(self, x, training):
        return x * self.k


def test_own_layer_classes_load_only_when_given():
    blob = sg.dumps(Scale(3.0))
    _fails(blob, "Scale", "classes=")
    layer = sg.loads(blob, classes=[Scale])
    assert isinstance(layer, Scale) and float(layer.k.value) == 3.0
    # saved from a script (module __main__), loaded where the class lives in a module
    moved = with_document(blob, lambda d: d["objects"][0].update(
        {"class": "__main__." + d["objects"][0]["class"].rsplit(".", 1)[-1]}))
    assert isinstance(sg.loads(moved, classes=[Scale]), Scale)


def test_wrong_structure_anywhere():
    cases = [
        lambda d: d.update(nodes={}),
        lambda d: d["nodes"].append(["op", "tanh"]),
        lambda d: d["nodes"][0].update(extra=1),
        lambda d: d["nodes"][0].pop("type"),
        lambda d: d["nodes"][0].update(type=[[3], "object", False]),
        lambda d: d["nodes"][0].update(name=None),
        lambda d: d["nodes"][1].pop("value"),
        lambda d: d["nodes"][1].update(value={"$a": 99}),
        lambda d: d["nodes"][_node_index(d, "tanh")].update(value={"$f": "1"}),
        lambda d: d["nodes"][0].update(at=["f", -1]),
        lambda d: d["items"].append({"$n": 10 ** 6}),
        lambda d: d["items"].append({"$zz": 1}),
        lambda d: d["items"].append({"$o": 0}),
        lambda d: d["objects"].append({"kind": "function", "inputs": [], "outputs": [],
                                       "single": True, "updates": []}),
        lambda d: d["objects"].append({"kind": "shell"}),
        lambda d: d.update(extra={"$d": [[[1], 2]]}),
        lambda d: d.update(named=[["k", {"$d": [[[1], 2]]}]]),
        lambda d: d.update(arrays=-1),
    ]
    messages = [_fails(with_document(sample_graph(), change)) for change in cases]
    assert all("<bytes>: " in m for m in messages)
    assert len(set(messages)) == len(messages)          # each says its own problem


def test_the_function_in_a_file_is_checked_by_the_compiler():
    def drop_input(d):
        d["objects"][0]["inputs"] = []
    _fails(with_document(sample_function(), drop_input), "object 0", "cannot compile")


def test_save_writes_only_its_target(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    sg.save(folder / "a.sgz", sg.param(np.ones(3)))
    sg.save(folder / "a.sgz", sg.param(np.zeros(3)))          # replaces it
    assert [p.name for p in folder.iterdir()] == ["a.sgz"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    np.testing.assert_array_equal(sg.load(folder / "a.sgz").value, np.zeros(3))
