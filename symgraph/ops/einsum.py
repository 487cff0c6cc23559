"""Contractions: ``einsum`` (NumPy's subscripts, ellipsis and implicit output included),
``tensordot``, ``inner`` and ``vdot``.

One op, ``einsum``, holds a fully explicit spec of plain letters (``"ab,bc->ac"``; an
ellipsis is spelled out as letters at build time). ``sg.einsum`` with three or more operands
is decomposed at build time into pairwise ``einsum`` nodes along the path
``np.einsum_path`` finds optimal, so the graph shows (and the compiler sees) every
intermediate. Each derivative is again an einsum, so it differentiates again.
"""
from __future__ import annotations

import functools
import math
import string
from typing import Any, Optional, Sequence

import numpy as np

from symgraph.errors import ArgumentError, DTypeError, ShapeError
from symgraph.graph import Node, _user_location
from symgraph.ops.elementwise import _sum_tangents, add
from symgraph.ops.registry import REGISTRY, Op, apply, as_node, const, register
from symgraph.ops.shape import broadcast_like, expand_dims, reshape, sum_to_like, zeros_like
from symgraph.types import TensorType, format_shape, promote

_LETTERS = string.ascii_letters


# --- parsing NumPy's subscripts into an explicit spec of letters ---------------------------
def _where() -> str:
    location = _user_location()
    return f" (built at {location})" if location else ""


def _from_sublists(args: Sequence[Any]) -> tuple[str, list[Any]]:
    # einsum(op0, [0, 1], op1, [1, 2], [0, 2]): NumPy's interleaved form, as a string
    def letters(sub: Sequence[Any]) -> str:
        return "".join("..." if s is Ellipsis else _LETTERS[int(s)] for s in sub)
    operands = list(args[0::2][: len(args) // 2])
    subs = [letters(s) for s in args[1::2][: len(args) // 2]]
    spec = ",".join(subs)
    if len(args) % 2:
        spec += "->" + letters(args[-1])
    return spec, operands


def parse_subscripts(subscripts: str, ndims: Sequence[int], where: str = "") -> str:
    """NumPy's subscripts for operands of ``ndims`` axes as an explicit spec of letters.

    ``"...ij,...jk"`` for ndims (3, 2) becomes ``"aij,jk->aik"``: the ellipsis is replaced
    by fresh letters (right-aligned, as NumPy broadcasts), and an implicit output is the
    ellipsis followed by the letters that appear once, in alphabetical order.
    """
    text = subscripts.replace(" ", "")
    explicit = "->" in text
    lhs, _, rhs = text.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ndims):
        raise ShapeError(f"einsum: {subscripts!r} names {len(terms)} operands, "
                         f"{len(ndims)} given{where}")
    for term in terms + [rhs]:
        bad = set(term.replace("...", "")) - set(_LETTERS)
        if bad or term.count("...") > 1:
            raise ShapeError(f"einsum: bad subscripts {subscripts!r} (letters and one "
                             f"'...' per operand only){where}")
    used = set(lhs.replace("...", "")) | set(rhs.replace("...", ""))
    fresh = [c for c in _LETTERS if c not in used]
    widths = []
    for term, nd in zip(terms, ndims):
        named = len(term.replace("...", ""))
        width = nd - named
        if width < 0 or (width > 0 and "..." not in term):
            raise ShapeError(f"einsum: operand subscripts {term!r} do not fit an operand "
                             f"with {nd} axes{where}")
        widths.append(width if "..." in term else 0)
    span = "".join(fresh[:max(widths, default=0)])
    out_terms = [term.replace("...", span[len(span) - w:] if w else "")
                 for term, w in zip(terms, widths)]
    if explicit:
        if "..." not in rhs and span:
            raise ShapeError(f"einsum: the output of {subscripts!r} needs '...' for the "
                             f"operands' broadcast axes{where}")
        out = rhs.replace("...", span)
        named = out.replace(span, "") if span else out
        for c in named:
            if not any(c in t for t in out_terms):
                raise ShapeError(f"einsum: output subscript {c!r} is in no operand of "
                                 f"{subscripts!r}{where}")
        if len(set(out)) != len(out):
            raise ShapeError(f"einsum: output subscripts repeat a letter in {subscripts!r}{where}")
    else:
        counts: dict[str, int] = {}
        for t in terms:
            for c in t.replace("...", ""):
                counts[c] = counts.get(c, 0) + 1
        out = span + "".join(sorted(c for c, k in counts.items() if k == 1))
    return ",".join(out_terms) + "->" + out


def _split(spec: str) -> tuple[list[str], str]:
    lhs, out = spec.split("->")
    return lhs.split(","), out


def _letter_sizes(terms: Sequence[str], shapes: Sequence[tuple], where: str,
                  spec: str) -> dict[str, Optional[int]]:
    # NumPy broadcasts a letter of size 1 against any size; None is known only at run time.
    sizes: dict[str, Optional[int]] = {}
    unknown: set[str] = set()
    for term, shape in zip(terms, shapes):
        for c, d in zip(term, shape):
            if d is None:
                unknown.add(c)
            elif d != 1:
                if sizes.get(c, 1) not in (1, d):
                    listed = ", ".join(format_shape(s) for s in shapes)
                    raise ShapeError(f"einsum: subscript {c!r} has sizes {sizes[c]} and {d} in "
                                     f"{spec!r} for shapes {listed}{where}")
                sizes[c] = d
            else:
                sizes.setdefault(c, 1)
    for c in sorted(unknown):
        if sizes.get(c, 1) == 1:
            sizes[c] = None
    return sizes


def _einsum_infer(types, attrs, where):
    spec = attrs["spec"]
    terms, out = _split(spec)
    if len(terms) != len(types):
        raise ShapeError(f"einsum: spec {spec!r} names {len(terms)} operands, got "
                         f"{len(types)}{where}")
    for term, t in zip(terms, types):
        if len(term) != t.ndim:
            raise ShapeError(f"einsum: subscripts {term!r} do not fit an operand of shape "
                             f"{format_shape(t.shape)}{where}")
    sizes = _letter_sizes(terms, [t.shape for t in types], where, spec)
    dtype = promote("einsum", types, where).dtype
    if dtype.kind == "b":
        raise DTypeError(f"einsum: boolean operands are not supported{where}")
    return TensorType(tuple(sizes[c] for c in out), dtype)


# --- the kernel: a pair contracted by one matmul, like opt_einsum's BLAS path ---------------
@functools.lru_cache(maxsize=512)
def _pair_plan(spec: str, sa: tuple, sb: tuple):
    """How to contract two operands by transpose, reshape and one matmul; None if einsum
    must do it itself (a letter repeated within an operand, or a broadcast size 1)."""
    (ta, tb), out = _split(spec)
    if len(set(ta)) != len(ta) or len(set(tb)) != len(tb):
        return None
    size = {}
    for term, shape in ((ta, sa), (tb, sb)):
        for c, d in zip(term, shape):
            if size.setdefault(c, d) != d:
                return None
    sum_a = tuple(i for i, c in enumerate(ta) if c not in tb and c not in out)
    sum_b = tuple(i for i, c in enumerate(tb) if c not in ta and c not in out)
    ta2 = "".join(c for i, c in enumerate(ta) if i not in sum_a)
    tb2 = "".join(c for i, c in enumerate(tb) if i not in sum_b)
    batch = [c for c in out if c in ta2 and c in tb2]
    contr = [c for c in ta2 if c in tb2 and c not in out]
    keep_a = [c for c in ta2 if c not in tb2]
    keep_b = [c for c in tb2 if c not in ta2]
    perm_a = tuple(ta2.index(c) for c in batch + keep_a + contr)
    perm_b = tuple(tb2.index(c) for c in batch + contr + keep_b)
    nb, m, k, n = (math.prod(size[c] for c in group) for group in (batch, keep_a, contr, keep_b))
    mid = tuple(size[c] for c in batch + keep_a + keep_b)
    order = batch + keep_a + keep_b
    perm_out = tuple(order.index(c) for c in out)
    return sum_a, sum_b, perm_a, perm_b, (nb, m, k), (nb, k, n), mid, perm_out


def _einsum_kernel(*operands, spec=""):
    if any(type(o) in (bool, int, float, complex) for o in operands):
        # a weak Python scalar takes its partners' dtype, as the type rule says (NEP 50)
        arrays = [o for o in operands if type(o) not in (bool, int, float, complex)]
        operands = tuple(np.asarray(o, np.result_type(*arrays, o)) if type(o) in (
            bool, int, float, complex) else o for o in operands)
    if len(operands) == 2:
        a, b = np.asarray(operands[0]), np.asarray(operands[1])
        plan = _pair_plan(spec, a.shape, b.shape)
        if plan is not None:
            sum_a, sum_b, perm_a, perm_b, shape_a, shape_b, mid, perm_out = plan
            if sum_a:
                a = a.sum(axis=sum_a)
            if sum_b:
                b = b.sum(axis=sum_b)
            c = np.matmul(a.transpose(perm_a).reshape(shape_a), b.transpose(perm_b).reshape(shape_b))
            return c.reshape(mid).transpose(perm_out)
    if len(operands) == 1:
        # a fresh array: NumPy's one-operand einsum may return a view of its input
        return np.array(np.einsum(spec, operands[0]), copy=True)
    return np.einsum(spec, *operands, optimize=len(operands) > 2)


# --- derivatives: each is an einsum of the cotangent with the other operands ----------------
def _fresh(spec: str, count: int) -> list[str]:
    return [c for c in _LETTERS if c not in spec][:count]


def _cotangent_einsum(node: Node, i: int, g: Node) -> Node:
    # For y = einsum(..., A_i, ...): dA_i = einsum(g, the other operands -> A_i's subscripts).
    # A letter repeated in A_i (a diagonal) gets a fresh name and an identity matrix joins
    # the product; letters only A_i has were summed, so the result is broadcast along them.
    terms, out = _split(node.attr("spec"))
    x = node.inputs[i]
    target = terms[i]
    others = [(t, n) for k, (t, n) in enumerate(zip(terms, node.inputs)) if k != i]
    operands = [(out, g)] + others
    renamed = list(target)
    spare = iter(_fresh(node.attr("spec"), len(target)))
    seen: set[str] = set()
    for pos, c in enumerate(target):
        if c in seen:
            size = x.shape[pos]
            if size is None:
                raise ShapeError(f"einsum: cannot differentiate the diagonal {target!r} of an "
                                 f"operand with an unknown size {format_shape(x.shape)}{node.where()}")
            new = next(spare)
            renamed[pos] = new
            operands.append((c + new, const(np.eye(size, dtype=x.dtype))))
        seen.add(c)
    present = set("".join(t for t, _ in operands))
    lonely = [pos for pos, c in enumerate(renamed) if c not in present]
    result_terms = "".join(c for pos, c in enumerate(renamed) if pos not in lonely)
    spec = ",".join(t for t, _ in operands) + "->" + result_terms
    ct = _einsum_node(spec, [n for _, n in operands])
    if lonely:
        ct = broadcast_like(expand_dims(ct, tuple(lonely)), x)
    return _fit(ct, x)


def _fit(ct: Node, x: Node) -> Node:
    """``ct`` brought to x's shape: summed where x had size 1 and was broadcast, broadcast
    where the other operands had size 1 and x did not."""
    if ct.shape == x.shape and None not in x.shape:
        return ct
    stretch = None in ct.shape or None in x.shape or any(
        c == 1 and d != 1 for c, d in zip(ct.shape, x.shape))
    if stretch:
        ct = add(ct, zeros_like(x))   # broadcasts both ways; the sum below undoes x's side
    return sum_to_like(ct, x)


def _einsum_vjp(node, g):
    return tuple(_cotangent_einsum(node, i, g) for i in range(len(node.inputs)))


def _einsum_jvp(node, t):
    # einsum is linear in each operand: the tangent is the sum of the products with one
    # operand replaced by its tangent.
    spec = node.attr("spec")
    terms = []
    for i, ti in enumerate(t):
        if ti is not None:
            inputs = list(node.inputs)
            inputs[i] = ti
            terms.append(_einsum_node(spec, inputs))
    return _sum_tangents(*terms)


# The rules are plain transposes (no conjugation): right for complex operands under the
# convention of docs/higher-order.md, so the op says so (a field np-elementwise adds to Op).
_COMPLEX = {"complex_ok": True} if "complex_ok" in Op.__dataclass_fields__ else {}
register(Op("einsum", _einsum_infer, _einsum_kernel, _einsum_vjp, _einsum_jvp, **_COMPLEX))


def _einsum_node(spec: str, operands: Sequence[Node], name_: Optional[str] = None) -> Node:
    return apply("einsum", list(operands), name_, spec=spec)


# --- choosing the order: pairwise nodes along np.einsum_path's path -------------------------
def _stand_in(shape: tuple) -> np.ndarray:
    # A zero-stride array of the right shape (unknown sizes guessed at 16): einsum_path
    # reads only shapes, so nothing the size of the operands is allocated.
    dims = tuple(16 if d is None else d for d in shape)
    return np.lib.stride_tricks.as_strided(np.zeros(1), dims, (0,) * len(dims))


def _contract_along_path(spec: str, operands: list[Node], optimize: Any, name_: Optional[str]) -> Node:
    terms, out = _split(spec)
    strategy = "optimal" if optimize is True and len(terms) <= 4 else (
        "greedy" if optimize is True else optimize)
    stand_ins = [_stand_in(n.shape) for n in operands]
    path = np.einsum_path(spec, *stand_ins, optimize=strategy)[0][1:]
    items = list(zip(terms, operands))
    for step, picked in enumerate(path):
        chosen = [items[k] for k in picked]
        for k in sorted(picked, reverse=True):
            del items[k]
        rest = "".join(t for t, _ in items) + out
        last = not items
        letters = out if last else "".join(dict.fromkeys(
            c for t, _ in chosen for c in t if c in rest))
        node = _einsum_node(",".join(t for t, _ in chosen) + "->" + letters,
                            [n for _, n in chosen], name_ if last else None)
        items.append((letters, node))
    (term, node), = items
    if term != out:   # a path that ends before the output order (einsum_path never does)
        node = _einsum_node(f"{term}->{out}", [node], name_)
    return node


# --- the public functions ------------------------------------------------------------------
def einsum(subscripts: Any, *operands: Any, optimize: Any = True, **kwargs: Any) -> Node:
    """NumPy's ``einsum``: any subscripts NumPy accepts (``"ij,jk->ik"``, ``"...ij,...jk"``,
    implicit output, the interleaved ``einsum(a, [0, 1], b, [1, 2])`` form).

    Three or more operands are contracted pairwise in the order ``np.einsum_path`` finds
    (``optimize=True``: optimal up to four operands, greedy beyond; or NumPy's
    ``"greedy"``/``"optimal"``); ``optimize=False`` keeps one node for the whole product.
    """
    where = _where()
    name_ = kwargs.pop("name_", None)      # keyword-only, as every argument after operands
    for key in kwargs:
        raise ArgumentError(f"einsum: the argument {key}= has no symbolic meaning here; "
                        f"cast the result instead{where}")
    if not isinstance(subscripts, str):
        subscripts, operands = _from_sublists((subscripts,) + operands)
    nodes = [as_node(o) for o in operands]
    spec = parse_subscripts(subscripts, [n.ndim for n in nodes], where)
    if len(nodes) <= 2 or optimize is False:
        return _einsum_node(spec, nodes, name_)
    return _contract_along_path(spec, nodes, optimize, name_)


def tensordot(a: Any, b: Any, axes: Any = 2, name_: Optional[str] = None) -> Node:
    """NumPy's ``tensordot``: sum over the last ``axes`` axes of ``a`` and the first of
    ``b``, or over the axis lists ``axes = (axes_a, axes_b)``."""
    a, b = as_node(a), as_node(b)
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if n < 0 or n > min(a.ndim, b.ndim):
            raise ShapeError(f"tensordot: axes={n} does not fit shapes {format_shape(a.shape)} "
                             f"and {format_shape(b.shape)}{_where()}")
        ax_a, ax_b = list(range(a.ndim - n, a.ndim)), list(range(n))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
        if len(ax_a) != len(ax_b):
            raise ShapeError(f"tensordot: {len(ax_a)} axes of a against {len(ax_b)} of b{_where()}")
        ax_a = [x % a.ndim for x in ax_a] if a.ndim else ax_a
        ax_b = [x % b.ndim for x in ax_b] if b.ndim else ax_b
    la = list(_LETTERS[: a.ndim])
    lb = list(_LETTERS[a.ndim: a.ndim + b.ndim])
    for i, j in zip(ax_a, ax_b):
        lb[j] = la[i]
    out = [c for k, c in enumerate(la) if k not in ax_a] + [c for k, c in enumerate(lb) if k not in ax_b]
    return _einsum_node("".join(la) + "," + "".join(lb) + "->" + "".join(out), [a, b], name_)


def inner(a: Any, b: Any, name_: Optional[str] = None) -> Node:
    """NumPy's ``inner``: sum over the last axes (a product for scalars)."""
    a, b = as_node(a), as_node(b)
    if a.ndim == 0 or b.ndim == 0:
        from symgraph.ops.elementwise import multiply
        return multiply(a, b, name_)
    return tensordot(a, b, ([-1], [-1]), name_)


def vdot(a: Any, b: Any, name_: Optional[str] = None) -> Node:
    """NumPy's ``vdot``: the dot product of the flattened arrays, ``a`` conjugated."""
    a, b = as_node(a), as_node(b)
    if a.dtype.kind == "c":
        if "conj" not in REGISTRY:
            raise DTypeError(f"vdot: complex operands need the conj op{_where()}")
        a = apply("conj", [a])
    return _einsum_node("a,a->", [reshape(a, (-1,)), reshape(b, (-1,))], name_)
