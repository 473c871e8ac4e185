"""The Jacobian engine: :func:`jacobian` and :func:`grad` of plain NumPy functions.

A call traces the function once per argument shapes and dtypes, plans the Jacobian
(:func:`~chainorder.graph.planning.plan_graph`), and caches the plan with a compiled replay
(:class:`~chainorder.engine.replay.Replay`); later calls replay the recorded program at the
new values and run the planned accumulation, tracing again only when a guard (a comparison,
``argmax`` ... that steered the trace) changes.
"""

from chainorder.engine.api import JacobianFunction, grad, jacobian
from chainorder.engine.replay import Replay

__all__ = ["JacobianFunction", "Replay", "grad", "jacobian"]
