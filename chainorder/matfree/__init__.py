"""Matrix-free Jacobian chains (issue 10): links known through JVP/VJP cost models.

Public API (see each module): :mod:`~chainorder.matfree.links` (the link cost model),
:mod:`~chainorder.matfree.plan` (plans and their nodes).
"""

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
from chainorder.matfree.plan import ACTIONS, Comparison, MatrixFreePlan, PlanNode, make_node

__all__ = [
    "ACTIONS",
    "KINDS",
    "Comparison",
    "LinkCost",
    "MatrixFreePlan",
    "PlanNode",
    "conv1d",
    "conv2d",
    "conv_output_length",
    "custom",
    "dense",
    "elementwise",
    "make_node",
]
