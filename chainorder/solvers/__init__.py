"""Solvers by name. ``optimal`` (exact DP), ``forward`` and ``reverse`` are built in.

Later solvers (matrix-free, memory-limited, very long chains) register themselves with
:func:`register_solver` and become available to :func:`chainorder.plan` and the CLI.
"""

from chainorder.matfree.planning import matrix_free_tree
from chainorder.solvers.dp import MAX_EXACT_LINKS, optimal_tree, solve_dp
from chainorder.solvers.fixed import solve_forward, solve_reverse
from chainorder.solvers.registry import (
    SolverInfo,
    available_solvers,
    get_solver,
    register_solver,
    unregister_solver,
)

__all__ = [
    "MAX_EXACT_LINKS",
    "SolverInfo",
    "available_solvers",
    "get_solver",
    "optimal_tree",
    "register_solver",
    "solve_dp",
    "solve_forward",
    "solve_reverse",
    "unregister_solver",
]

register_solver(
    "optimal",
    optimal_tree,
    "exact dynamic programme: fewest multiplications",
    reports_progress=True,
)
register_solver("forward", solve_forward, "forward mode (tangent / JVP), from the input")
register_solver("reverse", solve_reverse, "reverse mode (adjoint / VJP, backprop), from the output")
register_solver("matrix-free", matrix_free_tree, "generalised DP, links given (plan_matrix_free)")
