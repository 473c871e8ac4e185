"""A registry of solvers by name: each turns a :class:`~chainorder.chain.Chain` into a tree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from chainorder.chain import Chain
from chainorder.errors import UnknownSolverError
from chainorder.tree import Tree

__all__ = [
    "Solution",
    "SolverFn",
    "SolverInfo",
    "available_solvers",
    "get_solver",
    "register_solver",
    "unregister_solver",
]


class Solution(NamedTuple):
    """What a solver may return instead of a bare tree: the tree and how it was found.

    ``method`` names the algorithm that ran (``"dp"``, ``"hu-shing"``, ...); ``lower_bound``
    is a proven lower bound on the optimal number of multiplications (``None``: not known;
    equal to the tree's cost: the tree is optimal).
    """

    tree: Tree
    method: str
    lower_bound: int | None = None


SolverFn = Callable[[Chain], "Tree | Solution"]


@dataclass(frozen=True, slots=True)
class SolverInfo:
    """A registered solver: its name, the function and a one-line description."""

    name: str
    solve: SolverFn
    description: str
    reports_progress: bool = False  # solve(chain, progress=fn) calls fn(done, total)


_REGISTRY: dict[str, SolverInfo] = {}


def register_solver(
    name: str, solve: SolverFn, description: str, reports_progress: bool = False
) -> SolverInfo:
    """Register ``solve`` under ``name`` (replacing any previous one).

    Examples
    --------
    >>> from chainorder.tree import forward_tree
    >>> info = register_solver("my-forward", lambda c: forward_tree(c.n_links), "demo")
    >>> get_solver("my-forward").description
    'demo'
    >>> _ = unregister_solver("my-forward")

    Notes
    -----
    O(1). The CLI's ``--mode`` accepts every registered name. A solver registered with
    ``reports_progress=True`` takes a ``progress=`` keyword (``progress(done, total)``).
    """
    info = SolverInfo(name, solve, description, reports_progress)
    _REGISTRY[name] = info
    return info


def unregister_solver(name: str) -> SolverInfo:
    """Remove a solver; returns what was registered.

    Examples
    --------
    >>> _ = register_solver("tmp", lambda c: 1, "demo")
    >>> unregister_solver("tmp").name
    'tmp'

    Notes
    -----
    O(1).
    """
    return _REGISTRY.pop(name)


def get_solver(name: str) -> SolverInfo:
    """The solver registered as ``name``.

    Raises
    ------
    UnknownSolverError
        With the list of valid names.

    Examples
    --------
    >>> get_solver("reverse").name
    'reverse'

    Notes
    -----
    O(1).
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise UnknownSolverError(
            f"unknown mode {name!r}; expected one of: {', '.join(available_solvers())}"
        ) from None


def available_solvers() -> tuple[str, ...]:
    """Registered names, in registration order.

    Examples
    --------
    >>> available_solvers()[:3]
    ('optimal', 'forward', 'reverse')

    Notes
    -----
    O(number of solvers).
    """
    return tuple(_REGISTRY)
