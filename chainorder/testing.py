"""Reference implementations and seeded generators, shipped for tests and for users.

Like opt_einsum's ``testing`` module: a brute-force enumeration of every bracketing (the
Catalan number ``C_{L-1}`` of them) to check any solver against, reproducible random
chains and trees, the matrix-free brute force over every tree and every per-node choice
(``brute_force_matrix_free``, ``all_plans``; GDJCPB's example gives 56), the checkpointed
streamed plans' front by enumeration and replay (``brute_force_front``) and the best reverse
sweep over every event sequence (``reverse_sweep_optimum``), and autograd-style
``check_grads`` (JVP and VJP of a traced NumPy function against central finite
differences, from :mod:`chainorder.gradcheck`).

>>> from chainorder.matfree import custom
>>> brute_force_matrix_free([custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)])[0]
56
"""

from __future__ import annotations

import random

from chainorder.chain import Chain, Structure
from chainorder.checkpoint.reference import brute_force_front, reverse_sweep_optimum
from chainorder.cost import tree_cost
from chainorder.gradcheck import central_difference, check_grads
from chainorder.matfree.reference import all_plans
from chainorder.matfree.reference import brute_force as brute_force_matrix_free
from chainorder.memory import given_memory
from chainorder.tree import Tree, all_trees, flatten

__all__ = [
    "all_plans",
    "all_trees",
    "brute_force_front",
    "brute_force_matrix_free",
    "brute_force_optimum",
    "catalan",
    "central_difference",
    "check_grads",
    "random_chain",
    "random_tree",
    "reverse_sweep_optimum",
]


def catalan(n: int) -> int:
    """The Catalan number ``C_n``: bracketings of a chain of ``n + 1`` links.

    Examples
    --------
    >>> [catalan(n) for n in range(6)]
    [1, 1, 2, 5, 14, 42]

    Notes
    -----
    O(n) big-integer steps.
    """
    c = 1
    for k in range(n):
        c = c * 2 * (2 * k + 1) // (k + 2)
    return c


def brute_force_optimum(chain: Chain) -> tuple[int, int]:
    """``(mults, given peak elements)`` of the lexicographically best tree, by enumeration.

    Examples
    --------
    >>> brute_force_optimum(Chain.from_dims([30, 35, 15, 5, 10, 20, 25]))[0]
    15125

    Notes
    -----
    O(C_{L-1} · L) time.
    """
    return min(
        (tree_cost(chain, t).mults, given_memory(chain, flatten(t)).peak_elements)
        for t in all_trees(chain.n_links)
    )


def random_chain(
    seed: int | random.Random,
    n_links: int,
    low: int = 1,
    high: int = 64,
    diagonal_fraction: float = 0.0,
) -> Chain:
    """A reproducible random chain; some links turned into elementwise (diagonal) ones.

    Parameters
    ----------
    seed : int or random.Random
    n_links : int
        ``L``.
    low, high : int
        Widths are drawn uniformly from ``low..high``.
    diagonal_fraction : float
        Probability that a link is an elementwise link (width kept).

    Examples
    --------
    >>> random_chain(0, 4).n_links
    4
    >>> random_chain(1, 5, diagonal_fraction=1.0).is_dense
    False

    Notes
    -----
    O(L).
    """
    rng = seed if isinstance(seed, random.Random) else random.Random(seed)
    dims = [rng.randint(low, high)]
    structures: list[Structure] = []
    for _ in range(n_links):
        if rng.random() < diagonal_fraction:
            dims.append(dims[-1])
            structures.append(Structure.DIAGONAL)
        else:
            dims.append(rng.randint(low, high))
            structures.append(Structure.DENSE)
    return Chain.from_dims(dims, structures)


def random_tree(seed: int | random.Random, n_links: int) -> Tree:
    """A random bracketing of links ``1..n_links`` (random split at every node).

    Examples
    --------
    >>> from chainorder.tree import flatten
    >>> flatten(random_tree(3, 7), 7).n_links
    7

    Notes
    -----
    O(L) time, iterative.
    """
    rng = seed if isinstance(seed, random.Random) else random.Random(seed)
    from chainorder.tree import tree_from_splits

    return tree_from_splits(lambda i, j: rng.randint(i, j - 1), n_links)
