"""Matrix-free Jacobian chains (issue 10): links known through JVP/VJP cost models.

- :mod:`~chainorder.matfree.links`: the link cost model (:class:`LinkCost`, ``dense``,
  ``elementwise``, ``conv1d``, ``conv2d``, ``custom``).
- :mod:`~chainorder.matfree.spec`: the spec words (``1x28x28,conv2d(8,k=3),relu,10``).
- :mod:`~chainorder.matfree.solver`: Naumann's generalised DP, vectorised, exact integers.
- :mod:`~chainorder.matfree.plan`: :class:`MatrixFreePlan` and its nodes.
- :mod:`~chainorder.matfree.planning`: :func:`plan_matrix_free` and the baseline plans.
- :mod:`~chainorder.matfree.reference`: brute force over every plan (tests).
- :mod:`~chainorder.matfree.chainfile`: JSON chain files and GDJCPB instances.
- :mod:`~chainorder.matfree.plan_io`: expression, description and JSON of plans.
- :mod:`~chainorder.matfree.elementals` / :mod:`~chainorder.matfree.conv`: real layers with
  forward, batched JVP and batched VJP (:class:`ElementalChain`).
- :mod:`~chainorder.matfree.schedule` / :mod:`~chainorder.matfree.memory`: the event schedule
  of a plan and its predicted peak memory.
- :mod:`~chainorder.matfree.execute` / :mod:`~chainorder.matfree.measure`: run a plan on real
  layers; predicted against measured time and peak (:func:`measure_matrix_free`).
"""

from chainorder.matfree.bounded import matfree_lower_bound, solve_matrix_free_bounded
from chainorder.matfree.chainfile import (
    parse_chain_json,
    parse_gdjcpb,
    read_chain_file,
    write_chain_file,
)
from chainorder.matfree.elementals import ElementalChain
from chainorder.matfree.execute import execute
from chainorder.matfree.links import (
    KINDS,
    LinkCost,
    conv1d,
    conv2d,
    conv_output_length,
    custom,
    dense,
    elementwise,
)
from chainorder.matfree.measure import MatrixFreeReport, measure_matrix_free
from chainorder.matfree.memory import predict_memory
from chainorder.matfree.plan import ACTIONS, Comparison, MatrixFreePlan, PlanNode, make_node
from chainorder.matfree.planning import (
    as_links,
    comparison,
    given_matrix_plan,
    links_from_chain,
    matrix_free_tree,
    plan_matrix_free,
    pure_adjoint_plan,
    pure_tangent_plan,
)
from chainorder.matfree.reference import all_costs, all_plans, brute_force
from chainorder.matfree.schedule import schedule
from chainorder.matfree.solver import MAX_MATFREE_LINKS, check_links, solve_matrix_free
from chainorder.matfree.spec import parse_matrix_free

__all__ = [
    "ACTIONS",
    "KINDS",
    "MAX_MATFREE_LINKS",
    "Comparison",
    "ElementalChain",
    "LinkCost",
    "MatrixFreePlan",
    "MatrixFreeReport",
    "PlanNode",
    "all_costs",
    "all_plans",
    "as_links",
    "brute_force",
    "check_links",
    "comparison",
    "conv1d",
    "conv2d",
    "conv_output_length",
    "custom",
    "dense",
    "elementwise",
    "execute",
    "given_matrix_plan",
    "links_from_chain",
    "make_node",
    "matfree_lower_bound",
    "matrix_free_tree",
    "measure_matrix_free",
    "parse_chain_json",
    "parse_gdjcpb",
    "parse_matrix_free",
    "plan_matrix_free",
    "predict_memory",
    "pure_adjoint_plan",
    "pure_tangent_plan",
    "read_chain_file",
    "schedule",
    "solve_matrix_free",
    "solve_matrix_free_bounded",
    "write_chain_file",
]
