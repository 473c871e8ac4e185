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

Adding an op means adding one entry to :data:`REGISTRY` (see :func:`register`).
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
