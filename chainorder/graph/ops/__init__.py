"""The op registry: one small :class:`OpRule` per traced NumPy operation.

Each rule knows, for an op ``out = f(*args, **params)``:

* ``forward(*values, **params)`` — the NumPy value;
* ``jvp(i, t, values, out, params)`` — the tangent of ``out`` for a batch of tangents
  ``t`` of argument ``i`` (shape ``(k, *arg_shape)`` → ``(k, *out_shape)``);
* ``vjp(i, c, values, out, params)`` — the adjoint of argument ``i`` for a batch of
  cotangents ``c`` of ``out`` (``(k, *out_shape)`` → ``(k, *arg_shape)``);
* ``structure(i, shapes, out_shape, params)`` — the :class:`EdgeStructure` of ``∂out/∂arg_i``;
* ``jvp_cost`` / ``vjp_cost`` — scalar multiplications per direction (one tangent or one
  cotangent) of the rule above. Forming the op's own derivative values (e.g. ``1 − tanh²``)
  belongs to the primal pass and is not counted.

* ``partial`` — one line on the structure of its local partials, for README's op table
  (:mod:`chainorder.graph.optable`).

The rules live by family: :mod:`~chainorder.graph.ops.elementwise` (elementwise ops, sum,
mean, transpose, reshape), :mod:`~chainorder.graph.ops.gather` (every op that copies input
entries: indexing, concatenate/stack, pad, sort, ...), :mod:`~chainorder.graph.ops.reductions`
(max/min, prod, var/std, cumsum/cumprod, trace), :mod:`~chainorder.graph.ops.linalg`
(matmul/dot/einsum, solve, inv) and :mod:`~chainorder.graph.ops.decomp` (cholesky, det,
slogdet, norm). :data:`ZERO_DERIVATIVE` lists the functions traced as constants.

Adding an op means adding one entry to :data:`REGISTRY` (see :func:`register`), a handler
in :mod:`chainorder.graph.handlers` when it is not a ufunc, and a case in the tests.
"""

from chainorder.graph.ops import decomp as _decomp  # noqa: F401  (registers rules)
from chainorder.graph.ops import elementwise as _elementwise  # noqa: F401
from chainorder.graph.ops import gather as _gather  # noqa: F401
from chainorder.graph.ops import reductions as _reductions  # noqa: F401
from chainorder.graph.ops.linalg import einsum_spec, matmul_spec
from chainorder.graph.ops.registry import (
    REGISTRY,
    ZERO_DERIVATIVE,
    OpRule,
    get_rule,
    register,
)

__all__ = [
    "REGISTRY",
    "ZERO_DERIVATIVE",
    "OpRule", "einsum_spec", "get_rule", "matmul_spec", "register"]
