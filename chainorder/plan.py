"""Plan: an immutable record of a chain, its bracketing, and everything predicted about it.

Like opt_einsum's ``(path, PathInfo)``, a :class:`Plan` computes its derived figures once
(multiplications, FLOPs, peak memory in both settings, the largest intermediate, the
speedup over pure forward and pure reverse mode) and offers the step schedule, the written
expression and a versioned JSON round trip.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from chainorder.chain import Chain, Structure, as_chain
from chainorder.cost import (
    node_shapes,
    product_flops,
    product_mults,
    pure_mode_mults,
    tree_cost,
)
from chainorder.dtypes import as_dtype
from chainorder.errors import PlanFormatError, TreeError
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
from chainorder.solvers import get_solver
from chainorder.tree import (
    FlatTree,
    Mode,
    Tree,
    flatten,
    from_lists,
    to_lists,
    tree_expression,
    tree_mode,
)

__all__ = [
    "PLAN_FORMAT",
    "PLAN_FORMAT_VERSION",
    "Plan",
    "Step",
    "compare_modes",
    "json_text",
    "plan",
]

PLAN_FORMAT = "chainorder-plan"
PLAN_FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class Step:
    """One product of a schedule: ``out = left @ right``.

    ``left_links``/``right_links`` are ``(first, last)`` link ranges (``left`` covers the
    later links); shapes are ``(rows, cols)``; ``mults`` and ``flops`` in their units.
    """

    number: int
    node: int
    left_links: tuple[int, int]
    right_links: tuple[int, int]
    left_shape: tuple[int, int]
    right_shape: tuple[int, int]
    out_shape: tuple[int, int]
    left_structure: Structure
    right_structure: Structure
    out_structure: Structure
    mults: int
    flops: int

    @staticmethod
    def label(links: tuple[int, int]) -> str:
        """``"J3"`` for one link, ``"J5..J2"`` for a product of several."""
        first, last = links
        return f"J{first}" if first == last else f"J{last}..J{first}"

    def describe(self) -> str:
        """``"J3 · J2..J1 -> (d3×d0)"``-style one-liner."""
        return (
            f"{self.label(self.left_links)} · {self.label(self.right_links)} -> "
            f"{self.out_shape[0]}×{self.out_shape[1]}"
        )


@contextlib.contextmanager
def _deep(depth: int) -> Iterator[None]:
    """Allow the json module to nest ``depth`` levels (deep pure-mode trees)."""
    old = sys.getrecursionlimit()
    if depth + 1000 > old:
        sys.setrecursionlimit(depth + 1000)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


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

    # construction -------------------------------------------------------------------------
    @classmethod
    def from_tree(
        cls, chain: Chain, tree: Tree, solver: str = "custom", dtype: object = "float64"
    ) -> Plan:
        """Evaluate a given tree on ``chain`` (validates the tree).

        Examples
        --------
        >>> p = Plan.from_tree(Chain.from_dims([2, 3, 4, 5]), ((3, 2), 1))
        >>> p.mode.value, p.mults
        ('reverse', 90)

        Notes
        -----
        O(L) time and memory.
        """
        flat = flatten(tree, chain.n_links)
        cost = tree_cost(chain, flat)
        shapes = node_shapes(chain, flat)
        return cls(
            chain=chain,
            tree=tree,
            solver=solver,
            dtype=as_dtype(dtype),
            flat=flat,
            mode=tree_mode(flat),
            mults=cost.mults,
            flops=cost.flops,
            given=given_memory(chain, flat, shapes),
            streamed=streamed_memory(chain, flat, shapes),
            largest_intermediate=largest_intermediate(chain, flat),
            forward_mults=pure_mode_mults(chain),
            reverse_mults=pure_mode_mults(chain, reverse=True),
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
        flat = self.flat
        shapes = node_shapes(self.chain, flat)
        steps: list[Step] = []
        for i in self.memory(setting).order:
            if flat.is_leaf(i):
                continue
            a, b = flat.left[i], flat.right[i]
            p, q, r = shapes.rows[a], shapes.rows[b], shapes.cols[b]
            sa, sb = shapes.structure[a], shapes.structure[b]
            steps.append(
                Step(
                    number=len(steps) + 1,
                    node=i,
                    left_links=(flat.lo[a], flat.hi[a]),
                    right_links=(flat.lo[b], flat.hi[b]),
                    left_shape=(p, q),
                    right_shape=(q, r),
                    out_shape=(p, r),
                    left_structure=sa,
                    right_structure=sb,
                    out_structure=shapes.structure[i],
                    mults=product_mults(p, q, r, sa, sb),
                    flops=product_flops(p, q, r, sa, sb),
                )
            )
        return steps

    def events(self, setting: Setting | str = Setting.GIVEN) -> list[Event]:
        """Explicit event list (compute/form/multiply/free) of the schedule for ``setting``."""
        setting = as_setting(setting)
        return schedule_events(self.chain, self.flat, self.memory(setting).order, setting)

    # serialisation ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with a format name and version.

        Examples
        --------
        >>> d = plan("30,35,15,5,10,20,25").to_dict()
        >>> d["mults"], d["tree"], d["mode"]
        (15125, [[6, [5, 4]], [[3, 2], 1]], 'mixed')
        """
        return {
            "format": PLAN_FORMAT,
            "version": PLAN_FORMAT_VERSION,
            "chain": self.chain.to_dict(),
            "dtype": self.dtype.name,
            "solver": self.solver,
            "tree": to_lists(self.tree),
            "expression": self.expression(),
            "mode": self.mode.value,
            "mults": self.mults,
            "flops": self.flops,
            "peak_memory_elements": {
                "given": self.given.peak_elements,
                "streamed": self.streamed.peak_elements,
            },
            "peak_memory_bytes": {
                "given": self.peak_bytes(Setting.GIVEN),
                "streamed": self.peak_bytes(Setting.STREAMED),
            },
            "largest_intermediate_elements": self.largest_intermediate,
            "largest_intermediate_bytes": self.largest_intermediate_bytes,
            "forward_mults": self.forward_mults,
            "reverse_mults": self.reverse_mults,
            "speedup_vs_forward": _json_float(self.speedup_vs_forward),
            "speedup_vs_reverse": _json_float(self.speedup_vs_reverse),
            "units": {
                "mults": "scalar multiplications",
                "flops": "floating-point operations, 2 per multiply-add (BLAS convention)",
                "bytes": f"{self.dtype.name}, {self.itemsize} bytes per element",
            },
        }

    def to_json(self, indent: int | None = 2) -> str:
        """Serialise to JSON text (see :meth:`to_dict`); trees on one line (O(L) text)."""
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
        if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
            raise PlanFormatError(f'not a chainorder plan: expected "format": "{PLAN_FORMAT}"')
        if data.get("version") != PLAN_FORMAT_VERSION:
            raise PlanFormatError(
                f"plan format version {data.get('version')!r} is not supported; "
                f"this chainorder reads version {PLAN_FORMAT_VERSION}"
            )
        try:
            chain = Chain.from_dict(data["chain"])
            tree = from_lists(data["tree"], chain.n_links)
            result = cls.from_tree(chain, tree, str(data["solver"]), data["dtype"])
        except KeyError as exc:
            raise PlanFormatError(f"plan is missing the field {exc.args[0]!r}") from None
        except TreeError as exc:
            raise PlanFormatError(f"plan has an invalid tree: {exc}") from None
        fresh = result.to_dict()
        for key in (
            "mode",
            "mults",
            "flops",
            "peak_memory_elements",
            "largest_intermediate_elements",
        ):
            if key in data and data[key] != fresh[key]:
                raise PlanFormatError(
                    f"plan field {key!r} is {data[key]!r} but the chain and tree give "
                    f"{fresh[key]!r}; the file is inconsistent"
                )
        return result

    @classmethod
    def from_json(cls, text: str) -> Plan:
        """Inverse of :meth:`to_json`.

        Examples
        --------
        >>> p = plan([30, 35, 15, 5])
        >>> Plan.from_json(p.to_json()) == p
        True
        """
        try:
            with _deep(_MAX_JSON_DEPTH):
                data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PlanFormatError(f"plan is not valid JSON: {exc}") from None
        except RecursionError:
            raise PlanFormatError(
                f"plan JSON is nested deeper than {_MAX_JSON_DEPTH} levels"
            ) from None
        return cls.from_dict(data)

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


_MAX_JSON_DEPTH = 20_000  # deepest tree (links) a JSON plan may hold


def json_text(data: dict[str, Any], indent: int | None = 2) -> str:
    """JSON of ``data`` with every ``"tree"`` value (nested lists) written compactly.

    Pure-mode trees are L levels deep: indenting them would take O(L²) characters and the
    ``json`` module would hit Python's recursion limit, so each tree is written on one line.

    Examples
    --------
    >>> print(json_text({"plans": {"forward": {"tree": [3, [2, 1]]}}}))
    {
      "plans": {
        "forward": {
          "tree": [3,[2,1]]
        }
      }
    }

    Notes
    -----
    O(size of the output).
    """
    trees: list[str] = []

    def strip(node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if key == "tree" and isinstance(value, list | int):
                with _deep(_MAX_JSON_DEPTH):
                    trees.append(json.dumps(value, separators=(",", ":")))
                out[key] = f"\u0000tree{len(trees) - 1}\u0000"
            else:
                out[key] = strip(value)
        return out

    text = json.dumps(strip(data), indent=indent, ensure_ascii=False)
    for i, tree in enumerate(trees):
        text = text.replace(json.dumps(f"\u0000tree{i}\u0000"), tree, 1)
    return text


def plan(
    chain: Chain | str | Sequence[int | str],
    mode: str = "optimal",
    dtype: object = "float64",
) -> Plan:
    """Plan the product ``J_L ⋯ J_1`` of a chain.

    Parameters
    ----------
    chain : Chain, str or sequence
        A :class:`~chainorder.chain.Chain`, a spec such as ``"784,512,tanh,512,tanh,10"``,
        or a sequence of widths and elementwise words.
    mode : str
        A registered solver: ``"optimal"`` (exact DP), ``"forward"``, ``"reverse"``.
    dtype : str or numpy.dtype
        Element type for the byte figures (default float64).

    Returns
    -------
    Plan

    Raises
    ------
    SpecError, SpecTypeError
        Malformed chain.
    UnknownSolverError
        Unknown ``mode``.
    DtypeError
        Unknown or non-floating ``dtype``.
    ChainTooLongError
        ``mode="optimal"`` on a chain longer than the exact solver's limit.

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
    ``optimal``: O(L³) time and O(L²) memory; ``forward``/``reverse``: O(L).
    """
    solver = get_solver(mode)
    dt = as_dtype(dtype)
    resolved = as_chain(chain)
    return Plan.from_tree(resolved, solver.solve(resolved), solver.name, dt)


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


def _ratio(num: int, den: int) -> float:
    if den == 0:
        return float("inf") if num else 1.0
    return float(Fraction(num, den))


def _json_float(value: float) -> float | None:
    return None if value == float("inf") else value
