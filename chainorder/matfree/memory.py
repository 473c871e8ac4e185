"""Peak memory of a matrix-free plan: simulate its event list (:mod:`~.schedule`).

The model, in elements of the plan's dtype (bytes = elements × itemsize)::

    live := base                      (given: every tape + every given array;
                                       streamed: x_0)
    for each event e, in order:
        live += e.alloc               (the array the event creates)
        peak  = max(peak, live + e.transient)   (its temporaries, e.g. im2col)
        live -= e.free                (what it consumes: the old block, children, x_{l-1})
    predicted peak = peak

(An event done in place, e.g. an elementwise link scaling the block it is given, allocates
and frees nothing: only its ufunc buffer appears, as transient.)

The arrays counted are exactly those the executor makes: activations and tapes of the
forward pass, identity / ones seeds, sweep blocks (``m_l × s`` after a JVP, ``s × n_l``
after a VJP), products, and the returned Jacobian. Parameters (weights, kernels) are not
counted. The ``given`` figure includes its inputs; :attr:`MemoryPrediction.allocated` is what
a run itself allocates (what ``tracemalloc`` sees when the inputs exist beforehand).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chainorder.matfree.plan import MatrixFreePlan
from chainorder.matfree.schedule import Schedule, schedule
from chainorder.memory import Setting

__all__ = ["MemoryPrediction", "predict_memory", "simulate"]


@dataclass(frozen=True, slots=True)
class MemoryPrediction:
    """Predicted peak of one plan in one setting.

    ``peak_elements`` includes the ``base`` inputs; ``end_elements`` is what is alive at the
    end (the result, plus the inputs in the ``given`` setting).
    """

    setting: Setting
    peak_elements: int
    base_elements: int
    end_elements: int
    itemsize: int

    @property
    def peak_bytes(self) -> int:
        """``peak_elements × itemsize``."""
        return self.peak_elements * self.itemsize

    @property
    def allocated_elements(self) -> int:
        """Peak above the inputs present before the run: ``peak - base`` (streamed: x_0 is
        created by the run, so this equals the peak)."""
        if self.setting is Setting.STREAMED:
            return self.peak_elements
        return self.peak_elements - self.base_elements

    @property
    def allocated_bytes(self) -> int:
        """``allocated_elements × itemsize``."""
        return self.allocated_elements * self.itemsize


def simulate(sched: Schedule) -> tuple[int, int]:
    """``(peak, end)`` elements alive while replaying ``sched`` (see the module notes).

    Examples
    --------
    >>> from chainorder.matfree.links import dense, elementwise
    >>> p = MatrixFreePlan.from_nodes([dense(4, 3), elementwise(4, "tanh")],
    ...                               [(1, 2, 1, "tangent")])
    >>> simulate(schedule(p, "streamed"))  # tape, J_1·I scaled in place, a ufunc buffer
    (28, 12)

    Notes
    -----
    O(number of events).
    """
    live = peak = sched.base
    for ev in sched.events:
        live += ev.alloc
        peak = max(peak, live + ev.transient)
        live -= ev.free
    return peak, live


def predict_memory(plan: MatrixFreePlan, setting: Setting | str = "streamed") -> MemoryPrediction:
    """Peak memory of running ``plan`` in ``setting``.

    Examples
    --------
    >>> from chainorder.matfree.links import dense, elementwise
    >>> p = MatrixFreePlan.from_nodes([dense(4, 3), elementwise(4, "tanh")],
    ...                               [(1, 2, 1, "tangent")])
    >>> m = predict_memory(p, "given")
    >>> m.peak_elements, m.base_elements, m.peak_bytes
    (28, 4, 224)

    Notes
    -----
    O(L + number of nodes).
    """
    sched = schedule(plan, setting)
    peak, end = simulate(sched)
    return MemoryPrediction(
        sched.setting, peak, sched.base, end, int(np.dtype(plan.dtype).itemsize)
    )
