"""Which checkpointed plans are searched, and the union of their fronts.

Chains of at most :data:`TREE_SEARCH_LINKS` links: every bracketing × every child order ×
every keep/drop choice (:func:`chainorder.checkpoint.dp.tree_fronts`), together with the
reverse sweep with nested checkpoints at every activation
(:func:`chainorder.checkpoint.reverse.reverse_fronts`). Both are exact for their model, and so
is their union.

Longer chains: the trees of the optimal (chain DP / Hu–Shing), forward and reverse plans, each
with every child order and keep/drop choice (exact for those trees, O(L·F)), and the reverse
sweep whose checkpoints are chosen among :data:`CHECKPOINT_POSITIONS` positions — the
narrowest activation of each of that many windows — reversing the stretch between two
chosen checkpoints with every activation stored (exact within that class; O(P³·F + P·L)).
"""

from __future__ import annotations

from dataclasses import dataclass

from chainorder.checkpoint.dp import TreeFronts, tree_fronts
from chainorder.checkpoint.model import ChainFigures
from chainorder.checkpoint.pareto import prune
from chainorder.checkpoint.reverse import ReverseFronts, reverse_fronts
from chainorder.tree import FlatTree, Tree, flatten, forward_tree, reverse_tree

__all__ = [
    "CHECKPOINT_POSITIONS",
    "TREE_SEARCH_LINKS",
    "Candidate",
    "Search",
    "checkpoint_positions",
    "default_candidates",
    "search",
    "thin",
]

#: Longest chain searched over every bracketing (O(L³·F)).
TREE_SEARCH_LINKS = 24
#: Checkpoint positions of the reverse sweep on longer chains.
CHECKPOINT_POSITIONS = 32


@dataclass(frozen=True)
class Candidate:
    """One point of the union front: peak elements, mults and how to rebuild it."""

    peak: int
    total: int  # Jacobian + recomputation mults
    source: str  # "tree:<name>" or "reverse"
    index: int  # point of that source's front


@dataclass(frozen=True)
class Search:
    """The fronts searched for one chain and their union (:attr:`front`)."""

    fig: ChainFigures
    trees: dict[str, tuple[FlatTree, TreeFronts]]
    reverse: ReverseFronts
    reverse_flat: FlatTree
    reverse_mults: int
    front: list[Candidate]
    exhaustive: bool
    reverse_skipped: bool = False

    @property
    def description(self) -> str:
        """What was searched, in words (for plans and reports)."""
        if self.exhaustive:
            return "every bracketing and keep/drop choice; reverse sweep, checkpoints anywhere"
        names = ", ".join(name.removeprefix("tree:") for name in self.trees)
        return (
            f"trees {names} with every keep/drop choice; reverse sweep, checkpoints among "
            f"{CHECKPOINT_POSITIONS} positions"
        )


def search(
    fig: ChainFigures,
    candidate_trees: dict[str, Tree],
    reverse_mults: int,
    limit: int | None = None,
    cheapest_only: bool = False,
) -> Search:
    """Fronts of every searched family and their Pareto union (peak ≤ ``limit`` elements).

    ``candidate_trees`` (name → tree) is used when the chain is longer than
    :data:`TREE_SEARCH_LINKS`; ``reverse_mults`` is the reverse tree's Jacobian mults. With
    ``cheapest_only`` the reverse sweep is skipped when a tree plan that fits already costs
    no more than ``reverse_mults`` (no checkpointed reverse sweep can then be cheaper).

    Examples
    --------
    >>> from chainorder.chain import Chain
    >>> fig = ChainFigures.of(Chain.from_dims([4, 4, 4, 4, 4, 4, 1]))
    >>> found = search(fig, {}, reverse_mults=80)  # the reverse tree's 80 Jacobian mults
    >>> [(c.peak, c.total, c.source) for c in found.front]
    [(28, 176, 'reverse'), (32, 112, 'reverse'), (36, 96, 'reverse'), (40, 80, 'tree:any')]

    Notes
    -----
    See the module notes for the complexity of each family.
    """
    n = fig.n
    exhaustive = n <= TREE_SEARCH_LINKS
    trees: dict[str, tuple[FlatTree, TreeFronts]] = {}
    if exhaustive:
        full = tree_fronts(fig, None, limit)
        trees["tree:any"] = (flatten(reverse_tree(n), n), full)  # flat rebuilt per point
    else:
        for name, tree in candidate_trees.items():
            flat = flatten(tree, n)
            split = {(flat.lo[i], flat.hi[i]): flat.hi[flat.right[i]] for i in flat.internal()}
            trees[f"tree:{name}"] = (flat, tree_fronts(fig, _fixed(split), limit))
    points = [
        (p, c, (name, j)) for name, (_, tf) in trees.items() for j, (p, c, _) in enumerate(tf.root)
    ]
    positions = None if n <= CHECKPOINT_POSITIONS else checkpoint_positions(fig)
    skipped = cheapest_only and any(c <= reverse_mults for _, c, _ in points)
    if skipped:
        rev = ReverseFronts(fig, {(0, n): []})
    else:
        rev = reverse_fronts(fig, limit, positions)
    first_pass = fig.fwd(1, n - 1)
    points += [
        (p, reverse_mults + c - first_pass, ("reverse", j)) for j, (p, c, _) in enumerate(rev.root)
    ]
    front = [Candidate(p, c, src, j) for p, c, (src, j) in prune(points, limit)]  # type: ignore[misc]
    return Search(
        fig, trees, rev, flatten(reverse_tree(n), n), reverse_mults, front, exhaustive, skipped
    )


def checkpoint_positions(fig: ChainFigures, count: int = CHECKPOINT_POSITIONS) -> list[int]:
    """The narrowest activation of each of ``count`` equal windows of ``x_1..x_{L-1}``.

    Examples
    --------
    >>> from chainorder.chain import Chain
    >>> checkpoint_positions(ChainFigures.of(Chain.from_dims([9, 5, 1, 7, 3, 8, 2])), 3)
    [1, 2, 4]

    Notes
    -----
    O(L).
    """
    n = fig.n
    out: list[int] = []
    for w in range(count):
        lo = 1 + (n - 1) * w // count
        hi = 1 + (n - 1) * (w + 1) // count
        if hi > lo:
            out.append(min(range(lo, hi), key=lambda k: (fig.d[k], -k)))
    return sorted(set(out))


def default_candidates(n: int, optimal: Tree) -> dict[str, Tree]:
    """The trees searched on long chains: optimal, forward, reverse (no duplicates).

    Examples
    --------
    >>> default_candidates(3, ((3, 2), 1))  # the optimal tree is the reverse one
    {'optimal': ((3, 2), 1), 'forward': (3, (2, 1))}

    Notes
    -----
    O(L).
    """
    out: dict[str, Tree] = {"optimal": optimal}
    seen = [flatten(optimal, n)]
    for name, tree in (("forward", forward_tree(n)), ("reverse", reverse_tree(n))):
        flat = flatten(tree, n)
        if flat not in seen:
            out[name] = tree
            seen.append(flat)
    return out


def _fixed(split: dict[tuple[int, int], int]):
    """The split function of one tree (``m`` of each of its nodes)."""
    return lambda lo, hi: (split[(lo, hi)],)


def thin(front: list[Candidate], most: int | None) -> list[Candidate]:
    """At most ``most`` points: the ends and those nearest evenly spaced peaks.

    Examples
    --------
    >>> pts = [Candidate(p, 100 - p, "reverse", i) for i, p in enumerate([1, 2, 3, 10, 50, 100])]
    >>> [c.peak for c in thin(pts, 3)]
    [1, 50, 100]

    Notes
    -----
    O(len(front)).
    """
    if most is None or len(front) <= most:
        return front
    if most < 2:
        return front[-max(most, 0) :] if most else []
    lo, hi = front[0].peak, front[-1].peak
    keep: dict[int, Candidate] = {}
    j = 0
    for step in range(most):
        target = lo + (hi - lo) * step / (most - 1)
        while j + 1 < len(front) and front[j + 1].peak <= target:
            j += 1
        keep[j] = front[j]
    keep[len(front) - 1] = front[-1]
    return [keep[i] for i in sorted(keep)]
