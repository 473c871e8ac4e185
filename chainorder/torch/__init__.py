"""chainorder for PyTorch (issue 12): plan and run Jacobians of traced programs.

``chainorder.torch.jacobian(f, argnums=0, *, method="auto", measure=None)`` traces ``f`` (a
function or ``nn.Module``) with torch.fx, cuts it into a chain of segments, plans the cheapest
mix of tangent sweeps (JVPs), adjoint sweeps (VJPs) and dense products with the matrix-free
DP, and runs it: sweeps over operations with explicit batched rules on the direct route (one
torch call per operation on the whole block of seeds), the others with ``torch.func``.
PyTorch is imported only when a function here runs (``pip install 'jacobian-chainorder[torch]'``).

- :mod:`~chainorder.torch.pricing`: mults of each operation's JVP and VJP.
- :mod:`~chainorder.torch.graph`: tracing, cut points, segments (:class:`TorchChain`).
- :mod:`~chainorder.torch.rules`, :mod:`~chainorder.torch.rulebook`: batched tangent and
  adjoint rules per operation.
- :mod:`~chainorder.torch.direct`: the direct route (one forward pass, batched sweeps).
- :mod:`~chainorder.torch.execute`: running a plan (direct route, or ``jvp``/``vjp``/``vmap``).
- :mod:`~chainorder.torch.jacobian`: the public function, planning, measuring.
- :mod:`~chainorder.torch.candidates`: the candidates and the choice among timed ones (a time
  tie goes to the smallest measured peak).
- :mod:`~chainorder.torch.memory`: measured peak bytes of a call (CPU profiler, CUDA stats).
- :mod:`~chainorder.torch.explain`: the text of ``.explain()``.
"""

from chainorder.torch.jacobian import METHODS, TorchJacobian, jacobian

__all__ = ["METHODS", "TorchJacobian", "jacobian"]
