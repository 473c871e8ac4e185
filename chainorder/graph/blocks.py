"""Local partials formed from the op's values without multiplying: structured formers.

For an elementwise op on same-shape operands the partial is the diagonal of its factor
(``y`` for ``x * y``, ``1 - tanh²`` for ``tanh``: what the tangent rule multiplies a
tangent by, evaluated without a seed, which the sweeps' prices leave uncounted too); for
``W @ x`` with a vector ``x`` it is ``W`` itself; for ``A @ B`` of matrices it is ``A ⊗ I``
(with respect to ``B``) or ``I ⊗ Bᵀ`` (with respect to ``A``). Forming these partials
costs no mults — the entries are the factor's or the other operand's, placed — whereas
forming them by the tangent rule on identity seeds multiplies every seed entry. The
elimination state prices such an edge's forming at 0 mults and the executor calls the
former.

:func:`former` says whether an edge has one (and how many scalars it allocates: 0 when the
partial is an operand itself, held by the graph); :func:`form` computes it.
"""

from __future__ import annotations

import numpy as np

from chainorder.graph.ops.elementwise import DIAGONAL_FACTORS
from chainorder.graph.ops.registry import dense_copy

__all__ = ["form", "form_transposed", "former"]


def _operands(graph, u: str, v: str):
    d = graph.nx.nodes[v]
    argnums = graph.nx.edges[u, v]["argnums"]
    if len(argnums) != 1:
        return None
    return d["op"], argnums[0], [np.shape(graph.value(a)) for a in d["args"]], d


def former(graph, u: str, v: str) -> tuple[str, int] | None:
    """``(kind, scalars allocated)`` of the structured former of ``∂v/∂u``, or ``None``.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> W = np.ones((2, 3))
    >>> g = trace(lambda x: W @ (x * x[::-1]), np.ones(3))
    >>> former(g, "v2", "v3"), former(g, "x", "v2")
    (('dense', 0), ('diag', 3))

    Notes
    -----
    O(1).
    """
    found = _operands(graph, u, v)
    if found is None:
        return None
    op, i, shapes, _ = found
    if op in DIAGONAL_FACTORS and tuple(shapes[i]) == tuple(np.shape(graph.value(v))):
        return "diag", int(np.prod(shapes[i]))
    if op in ("matmul", "dot") and len(shapes) == 2:
        sa, sb = shapes
        if len(sa) == 2 and len(sb) == 1:
            return ("dense", 0) if i == 1 else ("dense", sa[0] * sa[0] * sa[1])
        if len(sa) == 1 and len(sb) == 2:
            return ("dense", 0) if i == 0 else ("dense", sb[1] * sb[0] * sb[1])
        if len(sa) == 2 and len(sb) == 2:
            m, n, p = sa[0], sa[1], sb[1]
            return "dense", (m * p) * (n * p if i == 1 else m * n)
    return None


def form(graph, u: str, v: str, xp=np, static: dict | None = None):
    """The partial ``∂v/∂u`` by its structured former (a vector if diagonal, else a matrix),
    in the array namespace ``xp`` of the graph's values.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> A = np.arange(6.0).reshape(2, 3)
    >>> g = trace(lambda B: A @ B, np.ones((3, 2)))
    >>> J = form(g, "B", "v1")
    >>> bool(np.allclose(J @ np.ones(6), (A @ np.ones((3, 2))).ravel()))
    True

    Notes
    -----
    No mults; the size of the partial in copies (none when it is an operand). ``static``
    (a compiled instruction's cache) keeps the edge's structure between runs.
    """
    found = None if static is None else static.get("form")
    if found is None:  # the structure (op, argument, shapes), kept by a compiled program
        found = _operands(graph, u, v)
        if static is not None:
            static["form"] = found
    op, i, shapes, d = found
    if op in DIAGONAL_FACTORS:
        factor, units, _ = DIAGONAL_FACTORS[op]
        out = graph.value(v)
        if i in units:
            f = units[i]
        else:
            f = factor(i, tuple(graph.value(a) for a in d["args"]), out)
        if xp is np:  # a new array of the factor: copied, filled, or repeated (dense_copy)
            shape = np.shape(out)
            if np.shape(f) == shape:
                return np.array(f, dtype=float).reshape(-1)
            if np.ndim(f) == 0:
                return np.full(int(np.prod(shape)), float(f))
            return dense_copy(np.broadcast_to(np.asarray(f, dtype=float), shape)).ravel()
        f = xp.asarray(f, dtype=float)  # a unit factor is a Python number
        return xp.array(xp.broadcast_to(f, np.shape(out))).reshape(-1)
    other = graph.value(d["args"][1 - i])
    sa, sb = shapes
    if len(sa) == 2 and len(sb) == 1:
        if i == 1:
            return xp.asarray(other, dtype=float)
        m, n = sa
        j = xp.zeros((m, m, n))
        idx = xp.arange(m)
        j[idx, idx, :] = other
        return j.reshape(m, m * n)
    if len(sa) == 1 and len(sb) == 2:
        n, p = sb
        if i == 0:
            return xp.asarray(other, dtype=float).T
        j = xp.zeros((p, n, p))
        idx = xp.arange(p)
        j[idx, :, idx] = other
        return j.reshape(p, n * p)
    m, n, p = sa[0], sa[1], sb[1]
    j = xp.zeros((m, p, *sb) if i == 1 else (m, p, *sa))
    _kron_into(j, other, i, xp)
    return j.reshape(m * p, -1)


def _kron_into(j, other, i: int, xp) -> None:
    """Write ``∂(A B)/∂B = A ⊗ I_p`` (``i = 1``) or ``∂(A B)/∂A = I_m ⊗ Bᵀ`` into the
    zeros ``j`` of shape ``(m, p, *shape_arg)`` (any view of that shape)."""
    if i == 1:
        idx = xp.arange(j.shape[1])
        j[:, idx, :, idx] = other
    else:
        idx = xp.arange(j.shape[0])
        j[idx, :, idx, :] = xp.asarray(other).T


def form_transposed(graph, info: dict, xp=np, static: dict | None = None):
    """The columns ``size(k) × size(u)`` of ``∂k/∂u`` for ``k = transpose(v, axes)`` and
    ``v = A @ B`` of matrices (``u`` one operand): the Kronecker former's entries written
    straight into the transposed layout, C-contiguous, as forming ``∂v/∂u`` and applying
    the transpose's tangent rule to its columns would leave them after one more copy.

    ``info``: ``u``, ``v``, ``axes`` (the transpose's), ``shape_u``, ``shape_v``,
    ``shape_k``.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> A = np.arange(6.0).reshape(2, 3)
    >>> g = trace(lambda B: (A @ B).T, np.ones((3, 2)))
    >>> info = {"u": "B", "v": "v1", "axes": (1, 0), "shape_u": (3, 2), "shape_v": (2, 2),
    ...         "shape_k": (2, 2)}
    >>> J = form_transposed(g, info)
    >>> bool(np.array_equal(J @ np.arange(6.0), (A @ np.arange(6.0).reshape(3, 2)).T.ravel()))
    True

    Notes
    -----
    No mults; ``size(k) · size(u)`` scalars written (zeros, then the nonzeros).
    """
    found = None if static is None else static.get("form")
    if found is None:
        found = _operands(graph, info["u"], info["v"])
        if static is not None:
            static["form"] = found
    _, i, _, d = found
    su, sv, sk = info["shape_u"], info["shape_v"], info["shape_k"]
    nu = int(np.prod(su))
    if xp is not np:  # no writes through permuted views of device arrays: form, then copy
        a = form(graph, info["u"], info["v"], xp, static)
        r = a.T.reshape((nu, *sv)).transpose((0, *(1 + int(x) for x in info["axes"])))
        return xp.ascontiguousarray(xp.moveaxis(r, 0, -1)).reshape(-1, nu)
    res = xp.zeros((int(np.prod(sk)), nu))
    tangents_k = res.T.reshape((nu, *sk))  # a view: split of the last axis
    inv = np.argsort(info["axes"])
    tangents_v = tangents_k.transpose((0, *(1 + int(a) for a in inv)))
    j = tangents_v.reshape((*su, *sv))  # a view: split of the seed axis (stride 1)
    j = j.transpose((*range(len(su), len(su) + len(sv)), *range(len(su))))
    _kron_into(j, graph.value(d["args"][1 - i]), i, xp)
    return res
