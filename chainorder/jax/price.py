"""Price one operation's tangent (JVP) and adjoint (VJP) in multiplications per seed.

For an operation with some *active* inputs (those that depend on the differentiated arguments)
the model counts, per seed column (JVP) or seed row (VJP), the scalar multiplications of its
linearisation; additions, copies, permutations and selections are free (0 mults):

====================================  ===========================================================
``dot_general``                       ``out · K`` per active operand (``K`` the contracted size)
``conv_general_dilated``              ``out · (kernel elements per output feature)`` per active
                                      operand
elementwise unary (``tanh``, ``exp``  ``out`` (one multiply by the stored derivative)
...)
``mul``, ``max``, ``min``             ``out`` per active operand
``div``                               ``out`` (numerator), ``2·out`` (denominator)
``pow``, ``atan2``, ``rem``           ``2·out`` per active operand
``reduce_max`` / ``reduce_min``       ``in`` (the mask)
structure (add, sub, neg, reshape,    0
transpose, broadcast, slice, pad,
concatenate, reduce_sum, gather, ...)
calls (``custom_jvp_call`` ...)       the sum over the called jaxpr
anything else                         ``out · (active input elements)``: a dense Jacobian, the
                                      most a linear map can cost; named as *unknown*
====================================  ===========================================================

``tape`` counts the elements the VJP keeps from the forward pass (a nonlinearity's output, the
other operand of a product of two active values); ``forward`` the multiplications of evaluating
the operation once. An operation is *diagonal* when output element ``i`` depends only on element
``i`` of every active operand (elementwise ops on same-size operands, reshapes, dtype casts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from math import prod
from typing import Any

__all__ = ["FREE", "UNARY", "OpCost", "is_inexact", "price_jaxpr", "price_op"]

#: Linear structural primitives: 0 mults per seed.
FREE: frozenset[str] = frozenset(
    {
        "add", "add_any", "sub", "neg", "reshape", "squeeze", "expand_dims", "broadcast_in_dim",
        "transpose", "slice", "dynamic_slice", "dynamic_update_slice", "concatenate", "pad",
        "rev", "convert_element_type", "copy", "copy_p", "reduce_sum", "cumsum", "select_n",
        "gather", "scatter-add", "scatter_add", "reduce_precision", "real", "imag",
        "stop_gradient", "sign", "floor", "ceil", "round", "split", "device_put",
        "optimization_barrier", "clamp",
    }
)  # fmt: skip

#: Elementwise nonlinear unary primitives: ``out`` mults per seed, ``out`` tape.
UNARY: frozenset[str] = frozenset(
    {
        "tanh", "exp", "exp2", "log", "log1p", "expm1", "sin", "cos", "tan", "logistic", "sqrt",
        "rsqrt", "cbrt", "erf", "erfc", "erf_inv", "lgamma", "digamma", "abs", "integer_pow",
        "square", "atan", "asin", "acos", "sinh", "cosh", "asinh", "acosh", "atanh",
    }
)  # fmt: skip

_PRODUCT = frozenset({"mul", "max", "min"})
_TWICE = frozenset({"pow", "atan2", "rem"})
# shape-preserving in flat (row-major) order: the Jacobian is the identity
_FLAT_IDENTITY = frozenset(
    {"reshape", "squeeze", "expand_dims", "convert_element_type", "copy", "copy_p",
     "reduce_precision", "device_put", "optimization_barrier"}
)  # fmt: skip
_ELEMENTWISE = (
    UNARY
    | _PRODUCT
    | _TWICE
    | {"add", "add_any", "sub", "neg", "div", "select_n", "sign", "floor", "ceil", "round",
       "clamp", "stop_gradient"}
)  # fmt: skip
_CALL_PARAMS = ("call_jaxpr", "fun_jaxpr", "jaxpr")


@dataclass(frozen=True, slots=True)
class OpCost:
    """Per-seed costs of one operation (mults), its tape (elements) and its shape class."""

    tangent: int = 0
    adjoint: int = 0
    tape: int = 0
    forward: int = 0
    diagonal: bool = True
    unknown: tuple[str, ...] = field(default=())

    def __add__(self, other: OpCost) -> OpCost:
        return OpCost(
            self.tangent + other.tangent,
            self.adjoint + other.adjoint,
            self.tape + other.tape,
            self.forward + other.forward,
            self.diagonal and other.diagonal,
            tuple(dict.fromkeys(self.unknown + other.unknown)),
        )


def _size(shape: Sequence[int]) -> int:
    return int(prod(int(s) for s in shape))


def price_op(eqn: Any, active: Sequence[bool]) -> OpCost:
    """Cost of one jaxpr equation given which of its inputs are active.

    Parameters
    ----------
    eqn : jax equation
        Its ``primitive``, ``params``, ``invars`` and ``outvars`` (avals) are read.
    active : sequence of bool
        One per input: does it depend on the differentiated arguments?

    Returns
    -------
    OpCost

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> eqn = jax.make_jaxpr(lambda x, w: x @ w)(jnp.ones(3), jnp.ones((3, 4))).eqns[0]
    >>> price_op(eqn, [True, False])  # 4 outputs × 3 contracted, once per seed
    OpCost(tangent=12, adjoint=12, tape=0, forward=12, diagonal=False, unknown=())

    Notes
    -----
    O(1) per equation; calls are priced by walking their jaxpr (O(its equations)).
    """
    name = eqn.primitive.name
    shapes = [tuple(getattr(v.aval, "shape", ())) for v in eqn.invars]
    out_shape = tuple(getattr(eqn.outvars[0].aval, "shape", ())) if eqn.outvars else ()
    out = _size(out_shape)
    n_active = sum(bool(a) for a in active)
    if n_active == 0:
        return OpCost(diagonal=True)
    act_shapes = [s for s, a in zip(shapes, active, strict=True) if a]
    same = all(_size(s) == out for s in act_shapes)
    if name == "dot_general":
        (lc, _rc), _ = eqn.params["dimension_numbers"]
        k = _size([shapes[0][d] for d in lc])
        per = out * k
        tape = sum(_size(s) for s in shapes) if n_active == 2 else 0
        return OpCost(per * n_active, per * n_active, tape, per, diagonal=False)
    if name == "conv_general_dilated":
        rhs = shapes[1]
        spec = eqn.params["dimension_numbers"].rhs_spec
        per = out * (_size(rhs) // max(1, int(rhs[spec[0]])))
        tape = sum(_size(s) for s in shapes) if n_active == 2 else 0
        return OpCost(per * n_active, per * n_active, tape, per, diagonal=False)
    if name in FREE:
        diag = (name in _ELEMENTWISE and same) or name in _FLAT_IDENTITY
        return OpCost(0, 0, 0, 0, diagonal=diag)
    if name in UNARY:
        return OpCost(out, out, out, out, diagonal=same)
    if name in _PRODUCT:
        tape = out * n_active if (name == "mul" and n_active == 2) or name != "mul" else 0
        return OpCost(out * n_active, out * n_active, tape, out, diagonal=same)
    if name == "div":
        per = (out if active[0] else 0) + (2 * out if active[1] else 0)
        return OpCost(per, per, out * n_active, out, diagonal=same)
    if name in _TWICE:
        return OpCost(2 * out * n_active, 2 * out * n_active, out * 2, out, diagonal=same)
    if name in ("reduce_max", "reduce_min", "argmax", "argmin", "reduce_prod"):
        size = _size(shapes[0])
        return OpCost(size, size, size, size, diagonal=False)
    sub = _called(eqn)
    if sub is not None and len(sub.invars) == len(active):
        return price_jaxpr(sub, active)
    dense = out * sum(_size(s) for s in act_shapes)
    return OpCost(dense, dense, sum(_size(s) for s in shapes), dense, False, (name,))


def _called(eqn: Any) -> Any:
    for key in _CALL_PARAMS:
        sub = eqn.params.get(key)
        if sub is not None and hasattr(getattr(sub, "jaxpr", sub), "eqns"):
            return getattr(sub, "jaxpr", sub)
    return None


def price_jaxpr(jaxpr: Any, active: Sequence[bool]) -> OpCost:
    """Sum of :func:`price_op` over a jaxpr's equations, activity propagated from its inputs.

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> jp = jax.make_jaxpr(lambda x: jnp.tanh(2.0 * x))(jnp.ones(5)).jaxpr
    >>> price_jaxpr(jp, [True]).tangent  # the scaling and the tanh, 5 each
    10

    Notes
    -----
    O(equations).
    """
    from jax.extend.core import Literal

    on: dict[Any, bool] = {v: bool(a) for v, a in zip(jaxpr.invars, active, strict=True)}
    total = OpCost()
    for eqn in jaxpr.eqns:
        act = [False if isinstance(v, Literal) else on.get(v, False) for v in eqn.invars]
        total = total + price_op(eqn, act)
        live = any(act) and eqn.primitive.name != "stop_gradient"
        for v in eqn.outvars:
            on[v] = live and is_inexact(getattr(v.aval, "dtype", None))
    return total


def is_inexact(dtype: Any) -> bool:
    """True for a floating (or complex) dtype: the values that carry derivatives.

    Examples
    --------
    >>> is_inexact("float32"), is_inexact("complex64"), is_inexact("int32")
    (True, True, False)

    Notes
    -----
    O(1).
    """
    import numpy as np

    try:
        return bool(np.issubdtype(np.dtype(dtype), np.inexact))
    except TypeError:
        return False
