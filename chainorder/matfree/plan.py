"""A matrix-free plan: which parts of the chain are swept by JVPs/VJPs and which are multiplied.

A plan over links ``1..L`` is a flat list of :class:`PlanNode`, children before parents, the root
last. Node ``(lo, hi)`` produces the array ``J_hi ⋯ J_lo`` (shape ``d_hi × d_{lo-1}``) by one of:

``given``
    ``lo == hi``; the link is given as an array (its diagonal when elementwise). 0 mults.
``diagonal``
    ``lo == hi``, an elementwise link: one JVP on a vector of ones gives its diagonal
    (``seeds = 1``, ``tangent_l`` mults). The result is stored as a vector.
``tangent``
    A tangent sweep: JVPs of links ``split, split+1, .., hi`` one after the other, on a block of
    ``seeds = d_{lo-1}`` columns. The block starts as the ``right`` child's array (links
    ``lo..split-1``), or as the identity ``I`` when ``split == lo`` (``right == -1``).
    ``seeds·Σ_{l=split..hi} tangent_l`` mults. ``left`` is always ``-1``.
``adjoint``
    An adjoint sweep: VJPs of links ``split-1, .., lo`` (from the output side down) on a block of
    ``seeds = d_hi`` rows. The block starts as the ``left`` child's array (links
    ``split..hi``), or as ``I`` when ``split == hi + 1`` (``left == -1``).
    ``seeds·Σ_{l=lo..split-1} adjoint_l`` mults. ``right`` is always ``-1``.
``dense``
    ``left @ right`` with ``left`` = links ``split..hi`` and ``right`` = links ``lo..split-1``,
    both children; priced by structure as in :mod:`chainorder.cost` (a diagonal factor is
    cheap). ``seeds = 0``.

So pure tangent (``jacfwd``) is the single node ``(1, L, split=1, "tangent")`` and pure adjoint
(``jacrev``) the single node ``(1, L, split=L+1, "adjoint")``. ``mults`` of a node is its own
work; the plan's ``mults`` is their sum. FLOPs: 2 per multiply-add, 1 per multiply of a
diagonal (elementwise) factor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from chainorder.chain import Structure
from chainorder.cost import product_flops, product_mults
from chainorder.errors import PlanFormatError
from chainorder.matfree.comparison import Comparison
from chainorder.matfree.links import LinkCost
from chainorder.tree import Tree, tree_mode

__all__ = [
    "ACTIONS",
    "Comparison",
    "MatrixFreePlan",
    "PlanNode",
    "make_node",
]

#: Node actions.
ACTIONS: tuple[str, ...] = ("given", "diagonal", "tangent", "adjoint", "dense")


@dataclass(frozen=True, slots=True)
class PlanNode:
    """One node of a plan; see the module notes for the meaning of each action.

    ``left`` / ``right`` are indices of child nodes in the plan's ``nodes`` (``-1``: none).
    ``diagonal``: the node's array is diagonal and stored as its ``d_hi`` diagonal entries.
    """

    lo: int
    hi: int
    split: int
    action: str
    seeds: int
    mults: int
    flops: int
    left: int = -1
    right: int = -1
    diagonal: bool = False

    def swept(self) -> range:
        """The links this node sweeps, in the order the sweep visits them (empty if none)."""
        if self.action == "tangent":
            return range(self.split, self.hi + 1)
        if self.action == "adjoint":
            return range(self.split - 1, self.lo - 1, -1)
        if self.action == "diagonal":
            return range(self.lo, self.lo + 1)
        return range(0)


def make_node(
    links: Sequence[LinkCost],
    lo: int,
    hi: int,
    split: int,
    action: str,
    left: PlanNode | None = None,
    right: PlanNode | None = None,
    left_index: int = -1,
    right_index: int = -1,
) -> PlanNode:
    """Build a node and price it from the links (1-based ``lo..hi``) and its children.

    Raises
    ------
    PlanFormatError
        An action that does not fit the links, split or children.

    Examples
    --------
    >>> from chainorder.matfree.links import custom
    >>> ls = [custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)]
    >>> make_node(ls, 1, 3, 1, "tangent").mults  # pure tangent: 3·(29+14+7)
    150

    Notes
    -----
    O(hi - lo + 1).
    """
    L = len(links)
    if not 1 <= lo <= hi <= L:
        raise PlanFormatError(f"node covers links {lo}..{hi}; expected 1 <= lo <= hi <= {L}")
    n_lo, m_hi = links[lo - 1].cols, links[hi - 1].rows
    where = f"node {lo}..{hi}"

    def child(node: PlanNode | None, a: int, b: int, name: str) -> PlanNode:
        if node is None or (node.lo, node.hi) != (a, b):
            got = "none" if node is None else f"{node.lo}..{node.hi}"
            raise PlanFormatError(
                f"{where} ({action}) needs a {name} child over {a}..{b}, got {got}"
            )
        return node

    if action in ("given", "diagonal"):
        if lo != hi or split != 0 or left is not None or right is not None:
            raise PlanFormatError(
                f"{where}: action {action!r} is for a single link, split 0, without children"
            )
        link = links[lo - 1]
        if action == "given":
            if not link.given:
                raise PlanFormatError(f"{where}: link {lo} is not given as an array")
            return PlanNode(lo, hi, 0, action, 0, 0, 0, -1, -1, link.diagonal)
        if not link.diagonal:
            raise PlanFormatError(f"{where}: 'diagonal' needs an elementwise link, got {link.kind}")
        return PlanNode(lo, hi, 0, action, 1, link.tangent, link.tangent, -1, -1, True)
    if action == "tangent":
        if not lo <= split <= hi or left is not None:
            raise PlanFormatError(
                f"{where}: a tangent sweep needs lo <= split <= hi and no left child"
            )
        if split > lo:
            child(right, lo, split - 1, "right")
        elif right is not None:
            raise PlanFormatError(f"{where}: a tangent sweep from the identity has no right child")
        mults, flops = _sweep(links, range(split, hi + 1), n_lo, adjoint=False)
        return PlanNode(
            lo, hi, split, action, n_lo, mults, flops, -1, right_index if split > lo else -1
        )
    if action == "adjoint":
        if not lo < split <= hi + 1 or right is not None:
            raise PlanFormatError(
                f"{where}: an adjoint sweep needs lo < split <= hi + 1 and no right child"
            )
        if split <= hi:
            child(left, split, hi, "left")
        elif left is not None:
            raise PlanFormatError(f"{where}: an adjoint sweep from the identity has no left child")
        mults, flops = _sweep(links, range(lo, split), m_hi, adjoint=True)
        return PlanNode(
            lo, hi, split, action, m_hi, mults, flops, left_index if split <= hi else -1
        )
    if action == "dense":
        if not lo < split <= hi:
            raise PlanFormatError(f"{where}: a dense product needs lo < split <= hi")
        a, b = child(left, split, hi, "left"), child(right, lo, split - 1, "right")
        sa = Structure.DIAGONAL if a.diagonal else Structure.DENSE
        sb = Structure.DIAGONAL if b.diagonal else Structure.DENSE
        n_k = links[split - 1].cols
        mults = product_mults(m_hi, n_k, n_lo, sa, sb)
        flops = product_flops(m_hi, n_k, n_lo, sa, sb)
        return PlanNode(
            lo,
            hi,
            split,
            action,
            0,
            mults,
            flops,
            left_index,
            right_index,
            a.diagonal and b.diagonal,
        )
    raise PlanFormatError(
        f"{where}: unknown action {action!r}; expected one of {', '.join(ACTIONS)}"
    )


def _sweep(links: Sequence[LinkCost], swept: range, seeds: int, adjoint: bool) -> tuple[int, int]:
    mults = flops = 0
    for l in swept:
        link = links[l - 1]
        per = link.adjoint if adjoint else link.tangent
        mults += seeds * per
        flops += seeds * per * (1 if link.diagonal else 2)
    return mults, flops


@dataclass(frozen=True)
class MatrixFreePlan:
    """An immutable matrix-free plan: the links, the dtype and the flat node list.

    Build one with :func:`chainorder.matfree.plan_matrix_free` (the optimum), the baseline
    constructors (:func:`chainorder.matfree.pure_tangent_plan`, ...) or
    :meth:`from_nodes`. ``nodes`` are children before parents, the root (covering ``1..L``)
    last, each with ``(lo, hi, split, action, seeds, mults, flops, left, right, diagonal)``.
    ``comparison`` holds the baseline figures when the planner computed them.
    """

    links: tuple[LinkCost, ...]
    nodes: tuple[PlanNode, ...]
    dtype: str = "float64"
    comparison: Comparison | None = field(default=None, compare=False)
    #: A proven lower bound on the optimum when the plan may not be optimal (long chains).
    lower_bound: int | None = field(default=None, compare=False)

    @property
    def gap(self) -> float | None:
        """``mults / lower_bound - 1`` (0 = proven optimal); None without a bound."""
        if self.lower_bound is None:
            return None
        if self.lower_bound == 0:
            return 0.0 if self.mults == 0 else float("inf")
        return self.mults / self.lower_bound - 1

    # construction ---------------------------------------------------------------------------
    @classmethod
    def from_nodes(
        cls,
        links: Sequence[LinkCost],
        nodes: Sequence[tuple[int, int, int, str] | PlanNode],
        dtype: str = "float64",
        comparison: Comparison | None = None,
    ) -> MatrixFreePlan:
        """Build and price a plan from ``(lo, hi, split, action)`` per node, children first.

        Children are found by their interval among earlier nodes; each node must be used
        exactly once and the last node must cover ``1..L``.

        Raises
        ------
        PlanFormatError
            Nodes that do not form one valid plan over the links.

        Examples
        --------
        >>> from chainorder.matfree.links import custom
        >>> ls = [custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)]
        >>> p = MatrixFreePlan.from_nodes(ls, [(1, 2, 3, "adjoint"), (3, 3, 3, "tangent"),
        ...                                    (1, 3, 3, "dense")])
        >>> p.mults
        56

        Notes
        -----
        O(number of nodes · L).
        """
        links = tuple(links)
        if not links:
            raise PlanFormatError("a plan needs at least one link")
        built: list[PlanNode] = []
        open_: dict[tuple[int, int], int] = {}
        for spec in nodes:
            lo, hi, split, action = (
                (spec.lo, spec.hi, spec.split, spec.action) if isinstance(spec, PlanNode) else spec
            )
            li = ri = -1
            if action == "dense" or (action == "adjoint" and split <= hi):
                li = open_.pop((split, hi), -1)
            if action == "dense" or (action == "tangent" and split > lo):
                ri = open_.pop((lo, split - 1), -1)
            node = make_node(
                links,
                lo,
                hi,
                split,
                action,
                built[li] if li >= 0 else None,
                built[ri] if ri >= 0 else None,
                li,
                ri,
            )
            if isinstance(spec, PlanNode) and (spec.seeds, spec.mults) != (node.seeds, node.mults):
                raise PlanFormatError(
                    f"node {lo}..{hi} ({action}) states {spec.seeds} seeds and {spec.mults} mults;"
                    f" the links give {node.seeds} and {node.mults}"
                )
            if (lo, hi) in open_:
                raise PlanFormatError(f"two unused nodes cover links {lo}..{hi}")
            open_[(lo, hi)] = len(built)
            built.append(node)
        L = len(links)
        if list(open_) != [(1, L)] or open_[(1, L)] != len(built) - 1:
            raise PlanFormatError(
                f"nodes do not form one plan over links 1..{L}: unused nodes "
                f"{', '.join(f'{a}..{b}' for a, b in open_)} (the root must come last)"
            )
        return cls(links, tuple(built), str(dtype), comparison)

    # figures -------------------------------------------------------------------------------
    @property
    def n_links(self) -> int:
        """``L``."""
        return len(self.links)

    @property
    def root(self) -> PlanNode:
        """The last node, covering ``1..L``."""
        return self.nodes[-1]

    @property
    def mults(self) -> int:
        """Total scalar multiplications."""
        return sum(node.mults for node in self.nodes)

    @property
    def flops(self) -> int:
        """Total FLOPs (2 per multiply-add, 1 per diagonal scaling)."""
        return sum(node.flops for node in self.nodes)

    @property
    def actions(self) -> frozenset[str]:
        """The set of actions the plan uses."""
        return frozenset(node.action for node in self.nodes)

    @property
    def matrix_free(self) -> bool:
        """True when some link that is not given is used through its JVP/VJP (a sweep or a
        diagonal); sweeping a given array is just a product with it."""
        return any(
            not self.links[l - 1].given for node in self.nodes for l in node.swept()
        )

    @property
    def pure_sweep(self) -> str | None:
        """``"tangent"`` / ``"adjoint"`` when the plan is one sweep over the whole chain from
        the identity (what ``jacfwd`` / ``jacrev`` do), else None."""
        if len(self.nodes) == 1 and self.root.action in ("tangent", "adjoint"):
            return self.root.action
        return None

    @property
    def mode(self) -> str:
        """``"forward"``, ``"reverse"`` or ``"mixed"``.

        Sweeps only of one kind (no dense product) give ``forward`` (tangent) or ``reverse``
        (adjoint); dense products only are labelled by their bracketing
        (:func:`chainorder.tree.tree_mode`); anything else is ``mixed``.
        """
        acts = self.actions - {"given", "diagonal"}
        if acts == {"tangent"}:
            return "forward"
        if acts == {"adjoint"}:
            return "reverse"
        if acts <= {"dense"}:
            return tree_mode(self.tree).value if self.n_links > 1 else "forward"
        return "mixed"

    @property
    def mode_label(self) -> str:
        """``mode`` plus ``", matrix-free"`` when it uses sweeps."""
        return f"{self.mode}, matrix-free" if self.matrix_free else self.mode

    @property
    def tree(self) -> Tree:
        """The bracketing as a nested tuple (:mod:`chainorder.tree`); sweeps expand to chains.

        A tangent sweep through ``k..j`` onto ``R`` is ``(j, (.., (k, R)))``, an adjoint sweep
        through ``i..k-1`` from ``A`` is ``(((A, k-1), ..), i)``.
        """
        trees: list[Tree] = []
        for node in self.nodes:
            t: Tree | None
            if node.action in ("given", "diagonal"):
                t = node.lo
            elif node.action == "dense":
                t = (trees[node.left], trees[node.right])
            elif node.action == "tangent":
                t = trees[node.right] if node.right >= 0 else None
                for l in node.swept():
                    t = l if t is None else (l, t)
            else:
                t = trees[node.left] if node.left >= 0 else None
                for l in node.swept():
                    t = l if t is None else (t, l)
            trees.append(t)  # type: ignore[arg-type]
        return trees[-1]

    # text and JSON (chainorder.matfree.plan_io) --------------------------------------------
    def expression(self, dot: str = "·") -> str:
        """The plan as one expression, e.g. ``(T[3]·I)·(I·A[2..1])``; see :mod:`.plan_io`."""
        from chainorder.matfree.plan_io import plan_expression

        return plan_expression(self, dot)

    def describe(self) -> list[str]:
        """Human-readable lines: summary, expression, one per node, comparison."""
        from chainorder.matfree.plan_io import describe_plan

        return describe_plan(self)

    def to_dict(self) -> dict[str, object]:
        """Versioned JSON-ready dict (a flat node list)."""
        from chainorder.matfree.plan_io import plan_to_dict

        return plan_to_dict(self)

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        from chainorder.matfree.plan_io import plan_json

        return plan_json(self, indent)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> MatrixFreePlan:
        """Inverse of :meth:`to_dict`; every number re-checked (PlanFormatError)."""
        from chainorder.matfree.plan_io import plan_from_dict

        return plan_from_dict(data)

    @classmethod
    def from_json(cls, text: str) -> MatrixFreePlan:
        """Inverse of :meth:`to_json`."""
        from chainorder.matfree.plan_io import plan_from_json

        return plan_from_json(text)
