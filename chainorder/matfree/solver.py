"""Naumann's generalised Jacobian chain DP (GDJCPB) over matrix-free links, vectorised.

With ``C(i..j)`` the cheapest way to form ``J_j ⋯ J_i`` as an array (``n_i = d_{i-1}``,
``m_j = d_j``, ``T_l``/``A_l`` the tangent/adjoint cost of link ``l`` per seed):

- leaf: ``C(l..l)`` = 0 when given; ``T_l`` for an elementwise link (its diagonal from one JVP of
  ones); else ``min(n_l·T_l, m_l·A_l)`` (``|E_l|·min(m_l, n_l)`` in the GDJCPB model);
- interval ``i..j``, over every split ``k``: a dense product ``C(k..j) + C(i..k-1) + m_j·n_k·n_i``
  (cheaper when a part is diagonal, as :mod:`chainorder.cost` prices it); a tangent sweep
  ``C(i..k-1) + n_i·Σ_{l=k..j} T_l`` for ``i <= k <= j``; an adjoint sweep
  ``C(k..j) + m_j·Σ_{l=i..k-1} A_l`` for ``i < k <= j+1``. ``k = i`` (tangent) and ``k = j+1``
  (adjoint) are the sweeps from the identity, so pure tangent ``n_0·Σ T_l`` and pure adjoint
  ``m_L·Σ A_l`` are plans the DP considers.
- An interval of elementwise links only is kept diagonal: its options are the dense
  (diagonal·diagonal) products; a sweep over it is never cheaper when ``d >= 2`` (``s`` links
  cost ``s·d²`` by sweeps against ``2·s·d`` as diagonals). At ``d = 1`` sweeps are allowed too
  (a 1×1 array is priced the same dense or diagonal).

Vectorisation. The dense option is an ``(intervals × splits)`` block per interval length built
from strided views as in :mod:`chainorder.solvers.dp`. The sweep options cost O(1) per interval:
``n_i·ST[j] + min_k (C(i..k-1) - n_i·ST[k-1])`` where ``ST`` is the prefix sum of ``T``; the
minimum over ``k`` is a running minimum per start ``i`` that gains one candidate per length
(and the same per end ``j`` for adjoint sweeps). So the generalised DP does the plain DP's O(L³)
block work plus O(L²).

Ties (exact integers, deterministic): tangent sweep, then adjoint sweep, then dense product;
among tangent splits the smallest ``k`` (the longest sweep, the identity first), among adjoint
splits the largest ``k`` (likewise), among dense splits the smallest ``k``. At a leaf, tangent
before adjoint. Integers: int64 when a bound on every intermediate value is below 2**62, Python
ints (object arrays) otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

from chainorder.errors import ChainTooLongError, SpecError
from chainorder.matfree.links import LinkCost
from chainorder.matfree.plan import MatrixFreePlan

__all__ = ["MAX_MATFREE_LINKS", "check_links", "solve_matrix_free", "solve_table"]

#: Longest chain the exact generalised DP accepts (its O(L²) tables; O(L³) time).
MAX_MATFREE_LINKS = 4000

_INT64_SAFE = 2**62
_DENSE, _TANGENT, _ADJOINT = 0, 1, 2


def check_links(links: Sequence[LinkCost]) -> tuple[LinkCost, ...]:
    """Check that ``links`` is a non-empty chain: ``cols`` of link ``l+1`` = ``rows`` of link ``l``.

    Raises
    ------
    SpecError
        No links, a non-LinkCost item, or neighbouring shapes that do not fit.

    Examples
    --------
    >>> from chainorder.matfree.links import dense
    >>> check_links([dense(3, 2), dense(4, 5)])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    chainorder.errors.SpecError: link 2 has 5 inputs but link 1 has 3 outputs; ...

    Notes
    -----
    O(L).
    """
    out = tuple(links)
    if not out:
        raise SpecError("a chain needs at least one link")
    for l, link in enumerate(out, start=1):
        if not isinstance(link, LinkCost):
            raise SpecError(f"link {l} is a {type(link).__name__}, expected a LinkCost")
        if l > 1 and link.cols != out[l - 2].rows:
            raise SpecError(
                f"link {l} has {link.cols} inputs but link {l - 1} has {out[l - 2].rows} outputs; "
                "expected each link's input size to equal the previous link's output size"
            )
    return out


def _windows(values: np.ndarray) -> np.ndarray:
    n = len(values)
    padded = np.concatenate([values, np.zeros(n, dtype=values.dtype)])
    step = padded.strides[0]
    return as_strided(padded, shape=(n, n), strides=(step, step), writeable=False)


def solve_table(
    links: Sequence[LinkCost], sweeps: bool = True
) -> tuple[int, np.ndarray, np.ndarray]:
    """Run the DP; return the optimum, the action table and the split table.

    Parameters
    ----------
    links : sequence of LinkCost
    sweeps : bool
        ``False`` restricts internal nodes to dense products (the given-matrix plan:
        every link preaccumulated, then the cheapest products).

    Returns
    -------
    (int, ndarray, ndarray)
        The optimal mults; ``action[i, length]`` (0 dense, 1 tangent, 2 adjoint) and
        ``split[i, length]`` (``k``) for the interval starting at link ``i``.

    Raises
    ------
    SpecError
        Links that do not form a chain.
    ChainTooLongError
        More than :data:`MAX_MATFREE_LINKS` links.

    Examples
    --------
    >>> from chainorder.matfree.links import custom
    >>> solve_table([custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)])[0]
    56

    Notes
    -----
    O(L³) arithmetic in O(L) whole-array NumPy calls per interval length, O(L²) memory.
    """
    links = check_links(links)
    L = len(links)
    if L > MAX_MATFREE_LINKS:
        raise ChainTooLongError(
            f"chain has {L} links; the generalised DP handles at most {MAX_MATFREE_LINKS} "
            "(O(L²) tables, O(L³) time); use the pure tangent or adjoint plan instead"
        )
    dims = [links[0].cols] + [link.rows for link in links]
    big = max(dims)
    t_all = sum(link.tangent for link in links)
    a_all = sum(link.adjoint for link in links)
    bound = 4 * (big * (t_all + a_all) + t_all + a_all + big**3 + L * big + 1)
    dtype: type | np.dtype = np.int64 if bound < _INT64_SAFE else object
    d = np.array(dims, dtype=dtype)
    st = np.array([0, *_prefix([link.tangent for link in links])], dtype=dtype)
    sa = np.array([0, *_prefix([link.adjoint for link in links])], dtype=dtype)
    prefix = np.zeros(L + 1, dtype=np.int64)  # non-elementwise links among 1..t
    prefix[1:] = np.cumsum([not link.diagonal for link in links])
    all_dense = not any(link.diagonal for link in links)

    cost_a = np.zeros((L + 2, L + 2), dtype=dtype)  # [start, length]
    cost_b = np.zeros((L + 2, L + 2), dtype=dtype)  # [end, L + 1 - length]
    action = np.zeros((L + 2, L + 2), dtype=np.int8)
    split = np.zeros((L + 2, L + 2), dtype=np.int32)
    for l, link in enumerate(links, start=1):
        cost_a[l, 1] = cost_b[l, L] = link.preaccumulation
    windows = _windows(d)
    prefix_windows = _windows(prefix)
    n_in = d[0:L]  # n_i for i = 1..L (index i-1)
    m_out = d[1 : L + 1]  # m_j for j = 1..L (index j-1)
    # running minima of the sweep options (index i-1 for tangent, j-1 for adjoint)
    # splits are kept relative: tangent as k - i + 1 (fixed for fixed i, k), adjoint as k - j
    tg = -(n_in * st[0:L])  # k = i: the sweep from the identity
    tk = np.ones(L, dtype=np.int64)  # k - i + 1
    ah = m_out * sa[1 : L + 1]  # k = j + 1: the sweep from the identity
    ak = np.ones(L, dtype=np.int64)  # k - j
    better = np.empty(L, dtype=bool)
    use = np.empty(L, dtype=bool)
    buffer = np.empty((L // 2 + 1) * (L - L // 2), dtype=dtype) if dtype is np.int64 else None

    for length in range(2, L + 1):
        n = L - length + 1
        w = length - 1
        rows = slice(1, n + 1)
        ends = slice(length, L + 1)
        p = d[ends]
        r = d[0:n]
        # dense products over every split: one block, views only
        right = cost_a[rows, 1:length]
        left = cost_b[ends, L + 1 - w : L + 1]
        q = windows[rows, :w]
        pr = p * r
        total = buffer[: n * w].reshape(n, w) if buffer is not None else np.empty((n, w), dtype)
        if all_dense:
            np.multiply(pr[:, None], q, out=total)
        else:
            pk = prefix_windows[rows, :w]
            right_diag = pk == prefix[0:n, None]
            left_diag = prefix[ends, None] == pk
            np.copyto(total, np.where(left_diag | right_diag, pr[:, None], pr[:, None] * q))
            row_diag = prefix[ends] == prefix[0:n]
            if row_diag.any():
                total[row_diag] = p[row_diag, None]
        total += right
        total += left
        best_col = total.argmin(axis=1)
        best = total[np.arange(n), best_col]
        best_k = best_col + 2  # k = i + s with s = col + 1, stored relative: k - i + 1
        act = np.zeros(n, dtype=np.int8)
        if sweeps:
            # tangent: new candidate k = j (right part i..j-1 of length w); k - i + 1 = length
            tg_v, tk_v, b = tg[0:n], tk[0:n], better[0:n]
            cand = cost_a[rows, w] - n_in[0:n] * st[length - 1 : L]
            np.less(cand, tg_v, out=b)
            np.copyto(tg_v, cand, where=b)
            np.copyto(tk_v, length, where=b)
            tan = n_in[0:n] * st[length : L + 1]
            tan += tg_v
            # adjoint: new candidate k = i + 1 (left part i+1..j of length w); k - j = 2 - length
            ah_v, ak_v, m_j = ah[length - 1 : L], ak[length - 1 : L], m_out[length - 1 : L]
            cand = cost_b[ends, L + 1 - w] + m_j * sa[1 : n + 1]
            np.less(cand, ah_v, out=b)
            np.copyto(ah_v, cand, where=b)
            np.copyto(ak_v, 2 - length, where=b)
            adj = ah_v - m_j * sa[0:n]
            # sweeps, except over elementwise links only (kept diagonal) of width >= 2
            u = use[0:n]
            for option, code, rel in ((adj, _ADJOINT, ak_v + length), (tan, _TANGENT, tk_v)):
                np.less_equal(option, best, out=u)  # ties: tangent, then adjoint, then dense
                if not all_dense:
                    u &= (prefix[ends] != prefix[0:n]) | (r == 1)
                np.copyto(best, option, where=u)
                np.copyto(act, code, where=u)
                np.copyto(best_k, rel, where=u)
        cost_a[rows, length] = best
        cost_b[ends, L + 1 - length] = best
        action[rows, length] = act
        split[rows, length] = best_k  # stored as k - i + 1
    return int(cost_a[1, L]), action, split


def _prefix(values: list[int]) -> list[int]:
    out, total = [], 0
    for v in values:
        total += v
        out.append(total)
    return out


def _leaf(link: LinkCost, l: int) -> tuple[int, int, int, str]:
    if link.given:
        return (l, l, 0, "given")
    if link.diagonal:
        return (l, l, 0, "diagonal")
    if link.cols * link.tangent <= link.rows * link.adjoint:
        return (l, l, l, "tangent")
    return (l, l, l + 1, "adjoint")


def plan_nodes(
    links: Sequence[LinkCost], action: np.ndarray, split: np.ndarray
) -> list[tuple[int, int, int, str]]:
    """Walk the DP tables into ``(lo, hi, split, action)`` nodes, children first, root last.

    A node's input-side (right) child comes before its output-side (left) child. Iterative.

    Notes
    -----
    O(L).
    """
    out: list[tuple[int, int, int, str]] = []
    stack: list[tuple[int, int, bool]] = [(1, len(links), False)]
    while stack:
        i, j, expanded = stack.pop()
        length = j - i + 1
        if length == 1:
            out.append(_leaf(links[i - 1], i))
            continue
        act = int(action[i, length])
        k = i + int(split[i, length]) - 1
        name = ("dense", "tangent", "adjoint")[act]
        if expanded:
            out.append((i, j, k, name))
            continue
        stack.append((i, j, True))
        children = []
        if act in (_DENSE, _TANGENT) and k > i:
            children.append((i, k - 1))  # right (input side)
        if act in (_DENSE, _ADJOINT) and k <= j:
            children.append((k, j))  # left (output side)
        for a, b in reversed(children):  # the stack pops the right child first
            stack.append((a, b, False))
    return out


def solve_matrix_free(
    links: Sequence[LinkCost], dtype: str = "float64", sweeps: bool = True
) -> MatrixFreePlan:
    """The plan of fewest multiplications (see the module notes), without its comparison.

    Parameters
    ----------
    links : sequence of LinkCost
    dtype : str
        Recorded in the plan (for memory in bytes).
    sweeps : bool
        ``False``: dense products only (the given-matrix plan).

    Returns
    -------
    MatrixFreePlan

    Raises
    ------
    SpecError, ChainTooLongError
        As :func:`solve_table`.

    Examples
    --------
    >>> from chainorder.matfree.links import custom
    >>> p = solve_matrix_free([custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)])
    >>> p.mults, [(n.lo, n.hi, n.action) for n in p.nodes]
    (56, [(1, 2, 'adjoint'), (3, 3, 'tangent'), (1, 3, 'dense')])

    Notes
    -----
    O(L³) time (:func:`solve_table`), O(L²) memory; building the plan is O(L).
    """
    links = check_links(links)
    best, action, split = solve_table(links, sweeps)
    plan = MatrixFreePlan.from_nodes(links, plan_nodes(links, action, split), dtype)
    if plan.mults != best:  # the plan is priced independently of the tables
        raise AssertionError(f"internal error: DP optimum {best} but its plan costs {plan.mults}")
    return plan
