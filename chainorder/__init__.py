"""chainorder: in which order should a chain of Jacobians be multiplied, what will it cost,
and is that prediction true?

>>> import chainorder
>>> p = chainorder.plan("30,35,15,5,10,20,25")
>>> p.mults, p.expression()
(15125, '(J6·(J5·J4))·((J3·J2)·J1)')
"""

from chainorder._version import __version__
from chainorder.chain import Chain, Link, Structure
from chainorder.cost import (
    forward_mults_closed_form,
    reverse_mults_closed_form,
    tree_cost,
)
from chainorder.engine import JacobianFunction, grad, jacobian
from chainorder.errors import (
    ChainorderError,
    ChainTooLongError,
    DtypeError,
    ExecutionError,
    JacobianMismatchError,
    PlanFormatError,
    SpecError,
    SpecTypeError,
    TreeError,
    UnknownSettingError,
    UnknownSolverError,
)
from chainorder.execute import CompiledPlan, compile_plan, evaluate, evaluate_streamed
from chainorder.gradcheck import check_grads
from chainorder.graph import GraphPlan, TracedGraph, plan_graph, trace, validate_graph
from chainorder.matfree import plan_matrix_free
from chainorder.memory import Setting, memory_profile
from chainorder.nets import MLP
from chainorder.plan import Plan, Step, compare_modes, plan
from chainorder.solvers import available_solvers, get_solver, register_solver
from chainorder.tree import Mode, forward_tree, reverse_tree, tree_expression, tree_mode
from chainorder.validate import ValidationReport, validate

__all__ = [
    "MLP",
    "Chain",
    "ChainTooLongError",
    "ChainorderError",
    "CompiledPlan",
    "DtypeError",
    "ExecutionError",
    "GraphPlan",
    "JacobianFunction",
    "JacobianMismatchError",
    "Link",
    "Mode",
    "Plan",
    "PlanFormatError",
    "Setting",
    "SpecError",
    "SpecTypeError",
    "Step",
    "Structure",
    "TracedGraph",
    "TreeError",
    "UnknownSettingError",
    "UnknownSolverError",
    "ValidationReport",
    "__version__",
    "available_solvers",
    "check_grads",
    "compare_modes",
    "compile_plan",
    "evaluate",
    "evaluate_streamed",
    "forward_mults_closed_form",
    "forward_tree",
    "get_solver",
    "grad",
    "jacobian",
    "memory_profile",
    "plan",
    "plan_graph",
    "plan_matrix_free",
    "register_solver",
    "reverse_mults_closed_form",
    "reverse_tree",
    "trace",
    "tree_cost",
    "tree_expression",
    "tree_mode",
    "validate",
    "validate_graph",
]
