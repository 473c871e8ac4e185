"""JAX front end (issue 12): ``chainorder.jax.jacobian``, an automatic ``jacfwd``/``jacrev``.

Modules, one topic each: :mod:`~chainorder.jax.program` (the jaxpr as a flat operation list),
:mod:`~chainorder.jax.price` (per-seed costs of each operation),
:mod:`~chainorder.jax.segments` (the chain of segments between cut vertices),
:mod:`~chainorder.jax.planning` (the matfree planners on that chain),
:mod:`~chainorder.jax.build` (running a plan with ``jax.jvp``/``jax.vjp``/``jax.vmap``),
:mod:`~chainorder.jax.timing` (timing close candidates once), :mod:`~chainorder.jax.explain`
(the plan as text), :mod:`~chainorder.jax.api` (the public function),
:mod:`~chainorder.jax.bench_cases` (the issue's models, for tests and benchmarks) and
:mod:`~chainorder.jax.compare` (one case measured against jit(jacfwd)/jit(jacrev)).

JAX itself is imported only when a function here runs (``import jax`` inside this package is
the real JAX: absolute imports).
"""

from chainorder.jax.api import JaxJacobian, jacobian

__all__ = ["JaxJacobian", "jacobian"]
