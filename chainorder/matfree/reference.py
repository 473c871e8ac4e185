"""Brute force over every matrix-free plan of a short chain: the reference for the DP.

The plans enumerated are exactly the family the DP optimises over (see
:mod:`chainorder.matfree.solver`): a given link is used as given; an elementwise link is
preaccumulated as its diagonal; any other link by a tangent or an adjoint sweep from the
identity. An interval of two or more links is formed by a tangent or adjoint sweep from the
identity, or, at every split, by a tangent sweep onto every plan of the right part, an adjoint
sweep from every plan of the left part, or a dense product of every pair of plans; an interval
of elementwise links only of width >= 2 is formed by dense (diagonal) products alone.

:func:`all_plans` yields every plan as a :class:`MatrixFreePlan` (priced node by node by
:func:`chainorder.matfree.plan.make_node`); :func:`brute_force` lists the cost of every plan
from the formulas alone (NumPy outer sums, so L = 7 with ~10^5..10^6 plans takes well under a
second) and returns the minimum and the count.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from functools import cache

import numpy as np

from chainorder.errors import ChainTooLongError
from chainorder.matfree.links import LinkCost
from chainorder.matfree.plan import MatrixFreePlan
from chainorder.matfree.solver import check_links

__all__ = ["MAX_BRUTE_LINKS", "all_costs", "all_plans", "brute_force"]

#: Longest chain the enumerations accept (the number of plans grows ~10× per link).
MAX_BRUTE_LINKS = 8

_Nodes = tuple[tuple[int, int, int, str], ...]


def _check(links: Sequence[LinkCost], limit: int) -> tuple[LinkCost, ...]:
    out = check_links(links)
    if len(out) > limit:
        raise ChainTooLongError(
            f"chain has {len(out)} links; the brute force enumerates at most {limit}"
        )
    return out


def _elementwise_only(links: tuple[LinkCost, ...], i: int, j: int) -> bool:
    return all(links[l - 1].diagonal for l in range(i, j + 1))


def _leaf_actions(link: LinkCost, l: int) -> list[tuple[int, int, int, str]]:
    if link.given:
        return [(l, l, 0, "given")]
    if link.diagonal:
        return [(l, l, 0, "diagonal")]
    return [(l, l, l, "tangent"), (l, l, l + 1, "adjoint")]


def all_plans(
    links: Sequence[LinkCost], dtype: str = "float64", limit: int = 6
) -> Iterator[MatrixFreePlan]:
    """Every plan of the chain (see the module notes), one :class:`MatrixFreePlan` each.

    Parameters
    ----------
    links : sequence of LinkCost
    dtype : str
    limit : int
        Refuse chains longer than this (``L = 6`` has ~4·10^4 plans).

    Raises
    ------
    ChainTooLongError
        More than ``limit`` links.

    Examples
    --------
    >>> from chainorder.matfree.links import custom
    >>> ls = [custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)]
    >>> plans = list(all_plans(ls))
    >>> len(plans), min(p.mults for p in plans), max(p.mults for p in plans)
    (66, 56, 168)

    Notes
    -----
    Time and memory proportional to the number of plans times L.
    """
    links = _check(links, min(limit, MAX_BRUTE_LINKS))

    @cache
    def plans(i: int, j: int) -> tuple[_Nodes, ...]:
        if i == j:
            return tuple((leaf,) for leaf in _leaf_actions(links[i - 1], i))
        out: list[_Nodes] = []
        if _elementwise_only(links, i, j) and links[i - 1].cols > 1:
            for k in range(i + 1, j + 1):
                for left, right in itertools.product(plans(k, j), plans(i, k - 1)):
                    out.append((*right, *left, (i, j, k, "dense")))
            return tuple(out)
        out.append(((i, j, i, "tangent"),))
        out.append(((i, j, j + 1, "adjoint"),))
        for k in range(i + 1, j + 1):
            for right in plans(i, k - 1):
                out.append((*right, (i, j, k, "tangent")))
            for left in plans(k, j):
                out.append((*left, (i, j, k, "adjoint")))
            for left, right in itertools.product(plans(k, j), plans(i, k - 1)):
                out.append((*right, *left, (i, j, k, "dense")))
        return tuple(out)

    for nodes in plans(1, len(links)):
        yield MatrixFreePlan.from_nodes(links, nodes, dtype)


def brute_force(links: Sequence[LinkCost]) -> tuple[int, int]:
    """The fewest mults over every plan, and the number of plans, by listing every cost.

    Independent of the DP: the cost of every plan is formed explicitly (outer sums over the
    parts' cost lists, :func:`all_costs`), then the minimum is taken.

    Raises
    ------
    ChainTooLongError
        More than :data:`MAX_BRUTE_LINKS` links.

    Examples
    --------
    >>> from chainorder.matfree.links import custom
    >>> brute_force([custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)])
    (56, 66)

    Notes
    -----
    Time and memory proportional to the number of plans.
    """
    every = all_costs(links)
    return int(every.min()), len(every)


def all_costs(links: Sequence[LinkCost]) -> np.ndarray:
    """The mults of every plan (object array of Python ints), from the formulas alone.

    Examples
    --------
    >>> from chainorder.matfree.links import custom
    >>> sorted(all_costs([custom(2, 2, 1), custom(2, 2, 1)]).tolist())
    [4, 4, 4, 4, 4, 4, 12, 12, 12, 12]

    Notes
    -----
    Time and memory proportional to the number of plans.
    """
    links = _check(links, MAX_BRUTE_LINKS)
    d = [links[0].cols] + [link.rows for link in links]

    def tangent(i: int, j: int) -> int:  # sweep through links i..j with n_{lo} seeds, per seed
        return sum(links[l - 1].tangent for l in range(i, j + 1))

    def adjoint(i: int, j: int) -> int:
        return sum(links[l - 1].adjoint for l in range(i, j + 1))

    @cache
    def costs(i: int, j: int) -> np.ndarray:
        if i == j:
            link = links[i - 1]
            if link.given:
                return np.array([0], dtype=object)
            if link.diagonal:
                return np.array([link.tangent], dtype=object)
            return np.array([link.cols * link.tangent, link.rows * link.adjoint], dtype=object)
        n_i, m_j = d[i - 1], d[j]
        parts: list[np.ndarray] = []
        diag = _elementwise_only(links, i, j) and n_i > 1  # kept diagonal: no sweeps
        if not diag:
            parts.append(np.array([n_i * tangent(i, j), m_j * adjoint(i, j)], dtype=object))
        for k in range(i + 1, j + 1):
            left, right = costs(k, j), costs(i, k - 1)
            if not diag:
                parts.append(right + n_i * tangent(k, j))
                parts.append(left + m_j * adjoint(i, k - 1))
            ldiag, rdiag = _elementwise_only(links, k, j), _elementwise_only(links, i, k - 1)
            if ldiag and rdiag:
                product = d[k - 1]
            elif ldiag or rdiag:
                product = m_j * n_i
            else:
                product = m_j * d[k - 1] * n_i
            parts.append(np.add.outer(left, right).ravel() + product)
        return np.concatenate(parts)

    return costs(1, len(links))
