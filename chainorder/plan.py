"""Plan: an immutable record of a chain, its bracketing, and everything predicted about it.

Like opt_einsum's ``(path, PathInfo)``, a :class:`Plan` computes its derived figures once
(multiplications, FLOPs, peak memory in both settings, the largest intermediate, the
speedup over pure forward and pure reverse mode) and offers the step schedule, the written
expression and a versioned JSON round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from chainorder.chain import Chain, Structure, as_chain
from chainorder.cost import (
    NodeShapes,
    node_shapes,
    product_flops,
    product_mults,
    pure_mode_mults,
)
from chainorder.dtypes import as_dtype
from chainorder.errors import PlanFormatError, SpecError
from chainorder.gcpause import gc_paused
from chainorder.memory import (
    Event,
    MemoryProfile,
    Setting,
    as_setting,
    given_memory,
    largest_intermediate,
    schedule_events,
    streamed_memory,
)
from chainorder.plan_json import (
    PLAN_FORMAT,
    PLAN_FORMAT_VERSION,
    json_text,
    plan_from_dict,
    plan_from_json,
    plan_to_dict,
)
from chainorder.plan_steps import Step, schedule_steps
from chainorder.solvers import Solution, get_solver
from chainorder.solvers.interval import ProgressFn
from chainorder.tree import FlatTree, Mode, Tree, flatten, tree_expression, tree_mode, unflatten

__all__ = [
    "PLAN_FORMAT",
    "PLAN_FORMAT_VERSION",
    "Plan",
    "Step",
    "compare_modes",
    "json_text",
    "plan",
]


@dataclass(frozen=True, eq=False)
class Plan:
    """A bracketing of a chain and its predicted cost and memory.

    Build one with :func:`plan`. All figures are exact Python ints; bytes are for
    :attr:`dtype`.

    Attributes
    ----------
    chain : Chain
    tree : Tree
        Nested tuples of 1-based link numbers; forward for ``L = 3`` is ``(3, (2, 1))``.
    solver : str
        The mode / solver that produced the tree (``optimal``, ``forward``, ``reverse``, ...).
    dtype : numpy.dtype
    mode : Mode
        ``forward``, ``reverse`` or ``mixed`` (for ``L <= 2``: ``forward``).
    mults, flops : int
        Scalar multiplications (lecture unit) and FLOPs (2 per multiply-add).
    given, streamed : MemoryProfile
        Peak elements and evaluation order in each memory setting.
    largest_intermediate : int
        Elements of the largest product formed.
    forward_mults, reverse_mults : int
        Multiplications of pure forward and pure reverse mode on the same chain.
    shapes : NodeShapes
        Shape and structure of every node of :attr:`flat`, computed once; the schedule, the
        memory figures, the report and the executor all read them from here.
    method : str
        The algorithm that ran (``dp``, ``hu-shing``, ``bounded``, ...; else the solver name).
    lower_bound : int or None
        A proven lower bound on the optimal multiplications of the chain, when the solver
        gave one: equal to :attr:`mults` for an exact solver, below it for ``bounded``
        (:attr:`gap`). ``None`` when nothing is proven (``forward``, ``reverse``, custom).
    """

    chain: Chain
    tree: Tree = field(repr=False)
    solver: str
    dtype: np.dtype
    flat: FlatTree = field(repr=False)
    mode: Mode
    mults: int
    flops: int
    given: MemoryProfile = field(repr=False)
    streamed: MemoryProfile = field(repr=False)
    largest_intermediate: int
    forward_mults: int
    reverse_mults: int
    shapes: NodeShapes = field(repr=False)
    method: str = ""
    lower_bound: int | None = None

    # construction -------------------------------------------------------------------------
    @classmethod
    def from_tree(
        cls,
        chain: Chain,
        tree: Tree | FlatTree,
        solver: str = "custom",
        dtype: object = "float64",
        method: str | None = None,
        lower_bound: int | None = None,
    ) -> Plan:
        """Evaluate a given tree on ``chain`` (validates the tree).

        ``method`` defaults to ``solver``; ``lower_bound`` (a proven lower bound on the
        optimum, see :attr:`lower_bound`) must not exceed the tree's cost.

        Examples
        --------
        >>> p = Plan.from_tree(Chain.from_dims([2, 3, 4, 5]), ((3, 2), 1))
        >>> p.mode.value, p.mults
        ('reverse', 90)

        Notes
        -----
        O(L) time and memory.
        """
        if isinstance(tree, FlatTree):  # e.g. read from a plan file: no nested tree to walk
            flat = tree
            if flat.lo[-1] != 1 or flat.hi[-1] != chain.n_links:
                flatten(unflatten(flat), chain.n_links)  # raises TreeError with the cover
            tree = unflatten(flat)
        else:
            flat = flatten(tree, chain.n_links)
        shapes = node_shapes(chain, flat)
        mults = flops = 0
        rows, cols, kinds, dense = shapes.rows, shapes.cols, shapes.structure, Structure.DENSE
        for i in flat.internal():
            a, b = flat.left[i], flat.right[i]
            p, q, r = rows[a], rows[b], cols[b]
            sa, sb = kinds[a], kinds[b]
            if sa is dense and sb is dense:  # the common case inline: p·q·r, 2 FLOPs each
                m = p * q * r
                mults += m
                flops += 2 * m
            else:
                mults += product_mults(p, q, r, sa, sb)
                flops += product_flops(p, q, r, sa, sb)
        return cls(
            chain=chain,
            tree=tree,
            solver=solver,
            dtype=as_dtype(dtype),
            flat=flat,
            mode=tree_mode(flat),
            mults=mults,
            flops=flops,
            given=given_memory(chain, flat, shapes),
            streamed=streamed_memory(chain, flat, shapes),
            largest_intermediate=largest_intermediate(chain, flat, shapes),
            forward_mults=pure_mode_mults(chain),
            reverse_mults=pure_mode_mults(chain, reverse=True),
            shapes=shapes,
            method=solver if method is None else method,
            lower_bound=_check_bound(lower_bound, mults),
        )

    # derived figures ----------------------------------------------------------------------
    @property
    def n_links(self) -> int:
        """``L``."""
        return self.chain.n_links

    @property
    def itemsize(self) -> int:
        """Bytes per element of :attr:`dtype`."""
        return self.dtype.itemsize

    def peak_elements(self, setting: Setting | str = Setting.GIVEN) -> int:
        """Predicted peak memory in elements for ``setting``."""
        return self.memory(setting).peak_elements

    def peak_bytes(self, setting: Setting | str = Setting.GIVEN) -> int:
        """Predicted peak memory in bytes of :attr:`dtype` for ``setting``."""
        return self.peak_elements(setting) * self.itemsize

    def memory(self, setting: Setting | str = Setting.GIVEN) -> MemoryProfile:
        """The :class:`~chainorder.memory.MemoryProfile` for ``setting``."""
        return self.given if as_setting(setting) is Setting.GIVEN else self.streamed

    @property
    def largest_intermediate_bytes(self) -> int:
        """Bytes of the largest product formed."""
        return self.largest_intermediate * self.itemsize

    @property
    def gap(self) -> float | None:
        """How far above optimal this plan can be, at most: ``mults / lower_bound − 1``.

        ``0.0`` for a proven optimum, ``None`` when no lower bound is known.

        Examples
        --------
        >>> plan("30,35,15,5,10,20,25").gap
        0.0
        >>> plan("30,35,15,5,10,20,25", mode="forward").gap is None
        True
        """
        if self.lower_bound is None:
            return None
        if self.lower_bound == self.mults:
            return 0.0
        return _ratio(self.mults, self.lower_bound) - 1.0

    @property
    def speedup_vs_forward(self) -> float:
        """``forward_mults / mults`` (``inf`` if this plan needs no multiplication)."""
        return _ratio(self.forward_mults, self.mults)

    @property
    def speedup_vs_reverse(self) -> float:
        """``reverse_mults / mults``."""
        return _ratio(self.reverse_mults, self.mults)

    @property
    def is_forward(self) -> bool:
        """Every product's left factor is a single link (also true for ``L <= 2``)."""
        return self.mode is Mode.FORWARD

    @property
    def is_reverse(self) -> bool:
        """Every product's right factor is a single link (also true for ``L <= 2``)."""
        flat = self.flat
        return all(flat.is_leaf(flat.right[i]) for i in flat.internal())

    def expression(self, dot: str = "·") -> str:
        """The bracketing written out, e.g. ``J4·(J3·(J2·J1))``."""
        return tree_expression(self.flat, dot=dot)

    def schedule(self, setting: Setting | str = Setting.GIVEN) -> list[Step]:
        """The products in execution order for ``setting``, with shapes and costs.

        Examples
        --------
        >>> p = plan([2, 3, 4, 5], mode="forward")
        >>> [s.describe() for s in p.schedule()]
        ['J2 · J1 -> 4×2', 'J3 · J2..J1 -> 5×2']

        Notes
        -----
        O(L).
        """
        return schedule_steps(self.flat, self.shapes, self.memory(setting).order)

    def events(self, setting: Setting | str = Setting.GIVEN) -> list[Event]:
        """Explicit event list (compute/form/multiply/free) of the schedule for ``setting``."""
        setting = as_setting(setting)
        return schedule_events(self.chain, self.flat, self.memory(setting).order, setting)

    # serialisation ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with a format name and version (see :mod:`chainorder.plan_json`).

        Examples
        --------
        >>> d = plan("30,35,15,5,10,20,25").to_dict()
        >>> d["mults"], d["tree"], d["mode"]
        (15125, '[[6,[5,4]],[[3,2],1]]', 'mixed')
        """
        return plan_to_dict(self)

    def to_json(self, indent: int | None = 2) -> str:
        """Serialise to JSON text (see :meth:`to_dict`); fixed depth at any length."""
        return json_text(self.to_dict(), indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        """Rebuild a plan and check every stored figure against a fresh computation.

        Raises
        ------
        PlanFormatError
            Wrong format name or version, missing fields, or stored figures that disagree
            with the recomputation (a corrupted or hand-edited file).
        """
        with gc_paused():
            return plan_from_dict(cls, data)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        """Inverse of :meth:`to_json`.

        Raises
        ------
        PlanFormatError
            Not text (``None``, a number, ...), not JSON, or not a valid plan.

        Examples
        --------
        >>> p = plan([30, 35, 15, 5])
        >>> Plan.from_json(p.to_json()) == p
        True
        """
        with gc_paused():
            return plan_from_json(cls, text)

    # identity -----------------------------------------------------------------------------
    def _key(self) -> tuple[object, ...]:
        return (self.chain, self.flat, self.solver, self.dtype)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Plan) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"Plan(chain={self.chain.spec()!r}, solver={self.solver!r}, "
            f"mode={self.mode.value!r}, mults={self.mults}, expression={self.expression()!r})"
        )


def plan(
    chain: Chain | str | Sequence[int | str],
    mode: str = "optimal",
    dtype: object = "float64",
    progress: ProgressFn | None = None,
    *,
    memory_limit: int | str | None = None,
    forward_costs: Any = None,
) -> Plan | Any:
    """Plan the product ``J_L ⋯ J_1`` of a chain.

    Parameters
    ----------
    chain : Chain, str or sequence
        A :class:`~chainorder.chain.Chain`, a spec such as ``"784,512,tanh,512,tanh,10"``,
        or a sequence of widths and elementwise words.
    mode : str
        A registered solver: ``"optimal"`` (exact: the DP, or Hu–Shing for dense chains over
        500 links), ``"forward"``, ``"reverse"``, ``"hu-shing"``, ``"bounded"`` (any chain,
        fast, with a proven lower bound: :attr:`Plan.gap`). :attr:`Plan.method` says which
        algorithm ran.
    dtype : str or numpy.dtype
        Element type for the byte figures (default float64).
    progress : callable, optional
        ``progress(done, total)`` during a long search (solvers that report progress, e.g.
        ``optimal``); ignored by the others.
    memory_limit, forward_costs : optional
        With a limit (bytes or ``"64MiB"``): the cheapest checkpointed streamed plan that
        fits, a :class:`chainorder.checkpoint.CheckpointPlan` (see its ``plan_with_memory_limit``).

    Returns
    -------
    Plan

    Raises
    ------
    SpecError, SpecTypeError
        Malformed chain; a ``mode`` other than ``"optimal"`` with ``memory_limit``.
    UnknownSolverError
        Unknown ``mode``.
    DtypeError
        Unknown or non-floating ``dtype``.
    ChainTooLongError
        ``mode="optimal"`` on a chain with elementwise links longer than the DP's limit
        (``MAX_EXACT_LINKS``) whose bounded order is not proven optimal.

    Examples
    --------
    >>> p = plan("30,35,15,5,10,20,25")
    >>> p.mults, p.forward_mults, p.reverse_mults
    (15125, 40500, 47500)
    >>> p.expression()
    '(J6·(J5·J4))·((J3·J2)·J1)'
    >>> round(p.speedup_vs_forward, 2)
    2.68

    Notes
    -----
    ``optimal``: O(L³) time and O(L²) memory by the DP, O(L log L) by Hu–Shing (dense chains
    over 500 links: 10⁶ links in seconds); ``bounded`` O(L log L); ``forward``/``reverse``: O(L).
    """
    if memory_limit is not None:
        from chainorder.checkpoint import plan_with_memory_limit

        if mode != "optimal":  # the checkpoint planner searches every bracketing itself
            raise SpecError(f"mode {mode!r} does not apply with memory_limit; leave it 'optimal'")
        return plan_with_memory_limit(chain, memory_limit, dtype, forward_costs)
    solver = get_solver(mode)
    dt = as_dtype(dtype)
    with gc_paused():  # millions of small acyclic objects on long chains
        resolved = as_chain(chain)
        if progress is not None and solver.reports_progress:
            result = solver.solve(resolved, progress=progress)  # type: ignore[call-arg]
        else:
            result = solver.solve(resolved)
        if isinstance(result, Solution):
            return Plan.from_tree(
                resolved, result.tree, solver.name, dt, result.method, result.lower_bound
            )
        return Plan.from_tree(resolved, result, solver.name, dt)


def compare_modes(
    chain: Chain | str | Sequence[int | str],
    dtype: object = "float64",
    modes: Sequence[str] = ("optimal", "forward", "reverse"),
) -> dict[str, Plan]:
    """Plans of the same chain under several modes, keyed by mode name.

    Examples
    --------
    >>> plans = compare_modes("784,512,512,10")
    >>> {name: p.mults for name, p in plans.items()}
    {'optimal': 6635520, 'forward': 209534976, 'reverse': 6635520}

    Notes
    -----
    The cost of the most expensive solver requested (O(L³) for ``optimal``).
    """
    resolved = as_chain(chain)
    dt = as_dtype(dtype)
    return {name: plan(resolved, name, dt) for name in modes}


def _check_bound(bound: int | None, mults: int) -> int | None:
    if bound is None:
        return None
    if isinstance(bound, bool) or not isinstance(bound, int) or not 0 <= bound <= mults:
        raise PlanFormatError(
            f"lower bound {bound!r} must be an int between 0 and the plan's {mults} mults"
        )
    return bound


def _ratio(num: int, den: int) -> float:
    if den == 0:
        return float("inf") if num else 1.0
    try:
        return float(Fraction(num, den))
    except OverflowError:  # beyond 1.8e308: exact ints of any size can get there
        return float("inf")
