"""Op-table cases for the contractions (symgraph/ops/einsum.py): einsum in NumPy's forms,
and tensordot, inner and vdot, which build einsum nodes."""
from __future__ import annotations

import numpy as np

import symgraph as sg

from op_case import Case, normal


def _ein(subscripts: str, *shapes: tuple, **kw) -> Case:
    return Case(f"einsum[{subscripts}]", "einsum", normal(*shapes),
                lambda *xs: sg.einsum(subscripts, *xs),
                lambda *xs: np.einsum(subscripts, *xs), **kw)


CASES: list[Case] = [
    _ein("ij,jk->ik", (2, 3), (3, 4)),
    _ein("ij,jk", (2, 3), (3, 4)),                         # implicit output
    _ein("ij,kj->ik", (2, 3), (4, 3)),
    _ein("bhqd,bhkd->bhqk", (2, 2, 3, 4), (2, 2, 5, 4)),   # attention scores (batch letters)
    _ein("...ij,...jk->...ik", (2, 2, 3), (3, 2)),         # ellipsis, broadcast batch
    _ein("...ij,...jk", (1, 2, 3), (4, 3, 2)),             # size-1 ellipsis axis broadcasts
    _ein("i...,i...->...", (3, 2), (3, 1)),
    _ein("ii", (3, 3)),                                    # trace
    _ein("ii->i", (3, 3)),                                 # diagonal
    _ein("iij,jk->ik", (3, 3, 2), (2, 4)),                 # diagonal inside a product
    _ein("ij->ji", (2, 3)),
    _ein("ijk->j", (2, 3, 4)),
    _ein("i,j->ij", (3,), (4,)),
    _ein("ij,j->", (2, 3), (3,)),
    _ein("ab,ac->bc", (4, 2), (1, 3)),                     # a letter broadcast from size 1
    _ein("i,i,i->", (3,), (3,), (3,)),
    _ein("ij,jk,kl->il", (2, 3), (3, 4), (4, 2)),          # pairwise along einsum_path
    _ein("ea,fb,abcd,gc,hd->efgh", (2, 2), (2, 2), (2, 2, 2, 2), (2, 2), (2, 2)),
    Case("einsum-sublists", "einsum", normal((2, 3), (3, 4)),
         lambda a, b: sg.einsum(a, [0, 1], b, [1, 2], [0, 2]),
         lambda a, b: np.einsum(a, [0, 1], b, [1, 2], [0, 2])),
    Case("einsum-none-dims", "einsum", normal((4, 3), (3, 2)),
         lambda a, b: sg.einsum("ij,jk->ik", a, b), lambda a, b: a @ b,
         shapes=((None, 3), (3, None))),
    Case("einsum-unoptimized-chain", "einsum", normal((2, 3), (3, 4), (4, 2)),
         lambda a, b, c: sg.einsum("ij,jk,kl->il", a, b, c, optimize=False),
         lambda a, b, c: np.einsum("ij,jk,kl->il", a, b, c)),
    Case("tensordot", "einsum", normal((2, 3, 4), (3, 4, 5)), sg.tensordot,
         lambda a, b: np.tensordot(a, b)),
    Case("tensordot-axes-lists", "einsum", normal((3, 2, 4), (4, 3)),
         lambda a, b: sg.tensordot(a, b, ([0, 2], [1, 0])),
         lambda a, b: np.tensordot(a, b, ([0, 2], [1, 0]))),
    Case("tensordot-outer", "einsum", normal((2,), (3,)), lambda a, b: sg.tensordot(a, b, 0),
         lambda a, b: np.tensordot(a, b, 0)),
    Case("inner", "einsum", normal((2, 3), (4, 3)), sg.inner, np.inner),
    Case("vdot", "einsum", normal((2, 3), (3, 2)), sg.vdot, np.vdot),
]
