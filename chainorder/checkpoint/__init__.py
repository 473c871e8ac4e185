"""Plans under a memory budget: checkpointing and recomputation in the streamed setting.

``plan_with_memory_limit(chain, "64MiB")`` returns the cheapest :class:`CheckpointPlan`
(Jacobian + recomputation mults) whose predicted streamed peak fits; ``pareto_front(chain)``
lists the cost–memory front. The executor (:func:`chainorder.execute.compile_plan`) replays a
checkpoint plan's event list, recomputations included.

For a gradient (or any narrow output) the adjoint sweep never forms ``J_l`` at all:
``plan_adjoint_with_memory_limit(chain, "16KiB")`` gives the cheapest checkpointed VJP sweep
(:class:`AdjointPlan`) and :func:`run_adjoint` replays it on a network.

>>> from chainorder.checkpoint import plan_with_memory_limit
>>> cp = plan_with_memory_limit("90,100,tanh,110,tanh,100,tanh,1", "94KiB")
>>> cp.footprint_bytes <= 94 * 1024, cp.recomputations, cp.checkpoints
(True, 1, (1,))
"""

from chainorder.checkpoint.adjoint import (
    AdjointPlan,
    adjoint_pareto_front,
    plan_adjoint_with_memory_limit,
)
from chainorder.checkpoint.adjoint_run import run_adjoint
from chainorder.checkpoint.forward_cost import default_forward_cost, forward_costs
from chainorder.checkpoint.plan import CheckpointPlan, pareto_front, plan_with_memory_limit

__all__ = [
    "AdjointPlan",
    "CheckpointPlan",
    "adjoint_pareto_front",
    "default_forward_cost",
    "forward_costs",
    "pareto_front",
    "plan_adjoint_with_memory_limit",
    "plan_with_memory_limit",
    "run_adjoint",
]
