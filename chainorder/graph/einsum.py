"""``np.einsum`` with any number of operands on traced values, contracted in a planned order.

The subscripts are normalised (ellipses become fresh capital letters; an operand with a
repeated index first has its diagonal taken, a gather), then the operands are contracted
pairwise in the order :func:`numpy.einsum_path` (greedy) chooses, each pair one two-operand
``einsum`` op of the registry keeping only the indices still needed; a last ``sum`` /
``transpose`` brings a single operand to the requested output.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from chainorder.graph.boxed import TracedArray, tape_of, value_of
from chainorder.graph.unsupported import unsupported

__all__ = ["parse_einsum", "traced_einsum"]


def parse_einsum(subscripts: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str]:
    """Operand subscripts and output of ``subscripts``, ellipses spelt as capital letters.

    Examples
    --------
    >>> parse_einsum("ij,jk", [(2, 3), (3, 4)])
    (['ij', 'jk'], 'ik')
    >>> parse_einsum("...i,i->...", [(5, 2, 3), (3,)])
    (['ABi', 'i'], 'AB')

    Notes
    -----
    O(length of the subscripts).
    """
    s = subscripts.replace(" ", "")
    ins, _, out = s.partition("->")
    parts = ins.split(",")
    if len(parts) != len(shapes):
        raise ValueError(f"{len(parts)} operand subscripts for {len(shapes)} operands")
    n_ell = max(
        (len(sh) - len(p.replace("...", "")) for p, sh in zip(parts, shapes, strict=True)
         if "..." in p),
        default=0,
    )  # fmt: skip
    caps = string.ascii_uppercase[:n_ell]
    fixed = []
    for p, sh in zip(parts, shapes, strict=True):
        if "..." in p:
            k = len(sh) - len(p.replace("...", ""))
            p = p.replace("...", caps[n_ell - k :])
        if len(p) != len(sh):
            raise ValueError(f"einsum operand {p!r} does not match shape {sh}")
        fixed.append(p)
    if "->" in s:
        out = out.replace("...", caps)
    else:
        letters = "".join(fixed)
        out = caps + "".join(
            sorted(ch for ch in set(letters) if letters.count(ch) == 1 and ch not in caps)
        )
    if len(set(out)) != len(out) or not set(out) <= set("".join(fixed)):
        raise ValueError(f"bad einsum output {out!r}")
    return fixed, out


def _unique(sub: str) -> str:
    return "".join(dict.fromkeys(sub))


def _to_output(x: Any, sub: str, out: str) -> Any:
    summed = tuple(i for i, ch in enumerate(sub) if ch not in out)
    if summed:
        x = np.sum(x, axis=summed)
        sub = "".join(ch for ch in sub if ch in out)
    if sub != out:
        x = np.transpose(x, tuple(sub.index(ch) for ch in out))
    return x


def traced_einsum(subscripts: str, *operands: Any) -> Any:
    """Record ``np.einsum(subscripts, *operands)`` as pairwise two-operand einsum ops.

    Examples
    --------
    >>> from chainorder.graph import trace
    >>> g = trace(lambda a, b, c: traced_einsum("ij,jk,kl->il", a, b, c),
    ...           np.ones((2, 3)), np.ones((3, 4)), np.ones((4, 5)))
    >>> [n.op for n in g.nodes() if n.kind == "intermediate"]
    ['einsum', 'einsum']

    Notes
    -----
    The contraction order of ``np.einsum_path(..., optimize="greedy")``; each pairwise op
    costs the product of the extents of its indices in each sweep direction.
    """
    shapes = [np.shape(value_of(x)) for x in operands]
    try:
        subs, out = parse_einsum(subscripts, shapes)
    except ValueError as exc:
        raise unsupported(f"np.einsum({subscripts!r}): {exc}") from None
    ops: list[tuple[Any, str]] = []
    for x, sub in zip(operands, subs, strict=True):
        uniq = _unique(sub)
        if uniq != sub:
            spec = f"{sub}->{uniq}"
            if isinstance(x, TracedArray):
                x = tape_of(x).apply("einsum_diagonal", (x,), {"spec": spec})
            else:
                x = np.einsum(spec, x)
        ops.append((x, uniq))
    if len(ops) > 1:
        values = [np.empty(np.shape(value_of(x))) for x, _ in ops]
        expr = ",".join(s for _, s in ops) + "->" + out
        path = np.einsum_path(expr, *values, optimize="greedy")[0][1:]
        for pair in path:
            i, j = sorted(pair)
            (b, sb), (a, sa) = ops.pop(j), ops.pop(i)
            rest = out + "".join(s for _, s in ops)
            so = "".join(ch for ch in _unique(sa + sb) if ch in rest)
            spec = (sa, sb, so)
            if isinstance(a, TracedArray) or isinstance(b, TracedArray):
                res = tape_of(a, b).apply("einsum", (a, b), {"spec": spec})
            else:
                res = np.einsum(f"{sa},{sb}->{so}", a, b)
            ops.append((res, so))
    x, sub = ops[0]
    return _to_output(x, sub, out)
