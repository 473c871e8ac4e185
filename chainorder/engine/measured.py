"""Predicted next to measured: run a graph plan's chosen mode and both sweeps as compiled
programs (:func:`~chainorder.graph.program.compile_jacobian_program`), timing each (best of
k), counting its mults, and measuring its peak memory (``tracemalloc``, in a separate run).

Both peaks are the bytes a run allocates beyond the traced values, constants and inputs that
every mode keeps (``held_bytes``, given separately): the program's slots, seeds,
temporaries and the returned Jacobian.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from chainorder.graph.planning import GraphMethod, GraphPlan, ModeCost
from chainorder.graph.program import compile_jacobian_program
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
    plan_mults : int
        Scalar multiplications of the plan's row.
    predicted_mults, counted_mults : int
        The compiled program's mults: predicted, and counted while it ran.
    predicted_peak_bytes, measured_peak_bytes : int
        Peak bytes the program allocates beyond the held values: predicted, and measured by
        ``tracemalloc`` during one run.
    seconds : float
        Best-of-``repeat`` wall time of the Jacobian.
    held_bytes : int
        Bytes of the traced values and constants held before the run.
    """

    name: str
    method: str
    chosen: bool
    plan_mults: int
    predicted_mults: int
    counted_mults: int
    predicted_peak_bytes: int
    measured_peak_bytes: int
    seconds: float
    held_bytes: int

    def to_dict(self) -> dict:
        """JSON-ready, with the units."""
        return {**asdict(self), "units": {"mults": "scalar multiplications",
                                          "memory": "bytes", "time": "seconds"}}  # fmt: skip


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
    [('elimination:forward', True, 4), ('forward', False, 16), ('reverse', False, 4)]
    >>> all(r.counted_mults == r.predicted_mults and r.seconds > 0 for r in rows)
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
        program = compile_jacobian_program(plan.lin, row.method, row.order)
        timing = time_call(lambda program=program: program.run(plan.graph), repeat=repeat)
        mem = peak_memory(lambda program=program: program.run(plan.graph))
        out.append(
            ModeMeasurement(
                row.name,
                str(row.method),
                row is plan.chosen,
                row.mults,
                program.predicted_mults,
                int(program.last_mults),
                program.predicted_peak_bytes,
                mem.peak_bytes,
                timing.best,
                held,
            )
        )
    return out
