"""Predicted next to measured: run a graph plan's chosen mode and both sweeps, timing each
(best of k) and measuring its peak memory (``tracemalloc``, in a separate run).

The measured peak is what the run allocates above what was held before it (the traced
values, constants and inputs, which every mode keeps), plus those held values' bytes as the
model counts them: the constants and the values that the mode's model keeps (forward: its
live values; reverse and elimination: the tape of every active value). Both figures are
given separately so that a reader can see what each is made of.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from chainorder.engine.program import compile_program
from chainorder.graph.planning import GraphMethod, GraphPlan, ModeCost
from chainorder.measure import peak_memory, time_call

__all__ = ["ModeMeasurement", "measure_modes"]


@dataclass(frozen=True)
class ModeMeasurement:
    """One mode run for real.

    Attributes
    ----------
    name, method : str
        The plan row's display name and key.
    chosen : bool
        The plan's chosen row.
    predicted_mults : int
        Scalar multiplications the plan predicts.
    predicted_peak_bytes : int
        Peak bytes the plan predicts (values, constants and derivatives).
    seconds : float
        Best-of-``repeat`` wall time of the Jacobian.
    allocated_peak_bytes : int
        ``tracemalloc`` peak of the allocations during one run.
    held_bytes : int
        Bytes of the traced values and constants held before the run.
    """

    name: str
    method: str
    chosen: bool
    predicted_mults: int
    predicted_peak_bytes: int
    seconds: float
    allocated_peak_bytes: int
    held_bytes: int

    @property
    def measured_peak_bytes(self) -> int:
        """``held_bytes + allocated_peak_bytes``."""
        return self.held_bytes + self.allocated_peak_bytes

    def to_dict(self) -> dict:
        """JSON-ready, with the units."""
        return {**asdict(self), "measured_peak_bytes": self.measured_peak_bytes,
                "units": {"mults": "scalar multiplications", "memory": "bytes",
                          "time": "seconds"}}  # fmt: skip


def _held_bytes(plan: GraphPlan) -> int:
    g = plan.graph
    itemsize = g.itemsize
    return itemsize * plan.lin.values_elements()


def measure_modes(plan: GraphPlan, repeat: int = 3) -> list[ModeMeasurement]:
    """Run the chosen row and the forward and reverse sweeps of ``plan``; time and measure.

    Parameters
    ----------
    plan : GraphPlan
        From :func:`~chainorder.graph.planning.plan_graph`.
    repeat : int
        Timed runs per mode (the best is kept), after one warm-up run.

    Returns
    -------
    list of ModeMeasurement
        The chosen row first, then the sweeps not chosen.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import plan_graph, trace
    >>> rows = measure_modes(plan_graph(trace(lambda x: np.sin(x).sum(), np.ones(4))), repeat=1)
    >>> [(r.method, r.chosen, r.predicted_mults) for r in rows]
    [('elimination:forward', True, 0), ('forward', False, 16), ('reverse', False, 4)]
    >>> all(r.seconds > 0 and r.allocated_peak_bytes > 0 for r in rows)
    True

    Notes
    -----
    ``(repeat + 2)`` Jacobians per mode; each as the mode's own cost.
    """
    rows: list[ModeCost] = [plan.chosen]
    for m in (GraphMethod.FORWARD, GraphMethod.REVERSE):
        if plan.chosen.method != m:
            rows.append(next(r for r in plan.rows if r.method == m))
    held = _held_bytes(plan)
    out = []
    for row in rows:
        program = compile_program(plan.lin, row.method, row.order)
        timing = time_call(lambda program=program: program.run(plan.graph), repeat=repeat)
        mem = peak_memory(lambda program=program: program.run(plan.graph))
        out.append(
            ModeMeasurement(
                row.name,
                str(row.method),
                row is plan.chosen,
                row.mults,
                row.peak_bytes,
                timing.best,
                mem.peak_bytes,
                held,
            )
        )
    return out
