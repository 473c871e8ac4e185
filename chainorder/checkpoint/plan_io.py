"""The JSON document of a memory-limited plan: the plan's own, plus ``checkpointing``.

``checkpointing`` holds the limit, the bytes of it reserved for the executor's bookkeeping,
the peak (bytes and elements), the mults by kind
(Jacobian products, forward pass, recomputation, total), the number of recomputed
activations, the checkpoints recomputation starts from, the strategy, what was searched, the
forward cost of every link and the schedule as compact event codes: ``c3`` compute ``x_3``,
``r3`` release ``x_3``, ``f4`` form ``J_4``, ``m7`` multiply node 7, ``x7`` free node 7 (node
numbers of the plan's flat tree, children before parents).
"""

from __future__ import annotations

from typing import Any

from chainorder.plan_json import plan_to_dict

__all__ = ["EVENT_CODES", "checkpoint_to_dict"]

EVENT_CODES = {"compute": "c", "release": "r", "form": "f", "multiply": "m", "free": "x"}


def checkpoint_to_dict(cp: Any) -> dict[str, Any]:
    """JSON-ready dict of a :class:`~chainorder.checkpoint.CheckpointPlan`.

    Examples
    --------
    >>> from chainorder.checkpoint import plan_with_memory_limit
    >>> d = checkpoint_to_dict(plan_with_memory_limit("4,4,4,4,4,4,1", "256", reserve=0))
    >>> c = d["checkpointing"]
    >>> c["memory_limit_bytes"], c["peak_bytes"], c["recompute_mults"], c["checkpoints"]
    (256, 256, 32, [0, 2])

    Notes
    -----
    O(L + number of events).
    """
    out = plan_to_dict(cp.plan)
    out["checkpointing"] = {
        "memory_limit_bytes": cp.memory_limit,
        "reserve_bytes": cp.reserve_bytes,
        "peak_bytes": cp.peak_bytes,
        "peak_elements": cp.peak_elements,
        "jacobian_mults": cp.jacobian_mults,
        "forward_mults": cp.forward_mults,
        "recompute_mults": cp.recompute_mults,
        "total_mults": cp.total_mults,
        "recomputations": cp.recomputations,
        "checkpoints": list(cp.checkpoints),
        "strategy": cp.strategy,
        "searched": cp.searched,
        "forward_costs": list(cp.forward_costs),
        "events": " ".join(f"{EVENT_CODES[e.kind]}{e.index}" for e in cp.events),
    }
    return out
