"""Solvers by name. Built in: ``optimal`` (exact: the DP, or Hu–Shing for long dense chains),
``forward``, ``reverse``, ``hu-shing`` (exact, dense chains only) and ``bounded`` (fast, any
chain, with a certified lower bound on the optimum).

Later solvers (matrix-free, memory-limited, very long chains) register themselves with
:func:`register_solver` and become available to :func:`chainorder.plan` and the CLI.
"""

from chainorder.matfree.planning import matrix_free_tree
from chainorder.solvers.bounded import bounded_solution
from chainorder.solvers.dp import MAX_EXACT_LINKS, optimal_tree, solve_dp
from chainorder.solvers.fixed import solve_forward, solve_reverse
from chainorder.solvers.hu_shing import hu_shing, hu_shing_tree
from chainorder.solvers.optimal import HU_SHING_FROM, hu_shing_solution, solve_optimal
from chainorder.solvers.registry import (
    Solution,
    SolverInfo,
    available_solvers,
    get_solver,
    register_solver,
    unregister_solver,
)

__all__ = [
    "HU_SHING_FROM",
    "MAX_EXACT_LINKS",
    "Solution",
    "SolverInfo",
    "available_solvers",
    "bounded_solution",
    "get_solver",
    "hu_shing",
    "hu_shing_solution",
    "hu_shing_tree",
    "optimal_tree",
    "register_solver",
    "solve_dp",
    "solve_forward",
    "solve_optimal",
    "solve_reverse",
    "unregister_solver",
]

register_solver(
    "optimal",
    solve_optimal,
    "fewest multiplications, exact: dynamic programme, or Hu–Shing for long dense chains",
    reports_progress=True,
)
register_solver("forward", solve_forward, "forward mode (tangent / JVP), from the input")
register_solver("reverse", solve_reverse, "reverse mode (adjoint / VJP, backprop), from the output")
register_solver("matrix-free", matrix_free_tree, "generalised DP, links given (plan_matrix_free)")
register_solver("hu-shing", hu_shing_solution, "Hu–Shing: exact, O(L log L), dense chains only")
register_solver(
    "bounded",
    bounded_solution,
    "fast order for any chain, with a proven lower bound on the optimum (the gap)",
)
