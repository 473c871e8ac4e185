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

from __future__ import annotations

import math
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainorder.graph.structure import EdgeStructure

__all__ = ["REGISTRY", "OpRule", "einsum_spec", "get_rule", "register"]

Array = np.ndarray
Shape = tuple[int, ...]


@dataclass(frozen=True)
class OpRule:
    """Everything chainorder knows about one primitive op.

    Examples
    --------
    >>> rule = get_rule("tanh")
    >>> x = np.array([0.0, 1.0])
    >>> out = rule.forward(x)
    >>> rule.jvp(0, np.ones((1, 2)), (x,), out, {}).round(3)
    array([[1.  , 0.42]])
    >>> rule.jvp_cost(0, ((2,),), (2,), {})
    2
    """

    name: str
    forward: Callable[..., Any]
    jvp: Callable[[int, Array, tuple, Array, dict], Array]
    vjp: Callable[[int, Array, tuple, Array, dict], Array]
    structure: Callable[[int, tuple, Shape, dict], EdgeStructure]
    jvp_cost: Callable[[int, tuple, Shape, dict], int]
    vjp_cost: Callable[[int, tuple, Shape, dict], int]
    doc: str = ""
    nondiff_args: tuple[int, ...] = field(default=())
    spelling: str = ""

    @property
    def api(self) -> str:
        """How user code writes the op: ``spelling`` when given, else ``np.NAME``."""
        return self.spelling or f"np.{self.name}"


REGISTRY: dict[str, OpRule] = {}


def register(rule: OpRule) -> OpRule:
    """Add ``rule`` to :data:`REGISTRY` under ``rule.name`` and return it."""
    REGISTRY[rule.name] = rule
    return rule


def get_rule(name: str) -> OpRule:
    """The rule registered as ``name``; ``KeyError`` naming the known ops otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"no rule for op {name!r}; known: {', '.join(sorted(REGISTRY))}") from None


def _size(shape: Shape) -> int:
    return math.prod(shape)


# ----------------------------------------------------------------------------------------
# broadcasting helpers (batch axis 0 is never broadcast)


def _bcast_tangent(t: Array, out_shape: Shape) -> Array:
    """Broadcast a batch of tangents ``(k, *in_shape)`` to ``(k, *out_shape)``."""
    k, in_shape = t.shape[0], t.shape[1:]
    pad = len(out_shape) - len(in_shape)
    t = t.reshape((k,) + (1,) * pad + in_shape)
    return np.broadcast_to(t, (k, *out_shape))


def _unbroadcast(c: Array, in_shape: Shape) -> Array:
    """Sum a batch of cotangents ``(k, *out_shape)`` down to ``(k, *in_shape)``."""
    k = c.shape[0]
    pad = c.ndim - 1 - len(in_shape)
    if pad:
        c = c.sum(axis=tuple(range(1, 1 + pad)))
    axes = tuple(i + 1 for i, n in enumerate(in_shape) if n == 1 and c.shape[i + 1] != 1)
    if axes:
        c = c.sum(axis=axes, keepdims=True)
    return c.reshape((k, *in_shape))


# ----------------------------------------------------------------------------------------
# elementwise ops: described by the elementwise factor of each argument


def _elementwise(
    name: str,
    forward: Callable[..., Any],
    factors: Callable[[int, tuple, Array], Array | float],
    unit_args: dict[int, float] | None = None,
    doc: str = "",
    nondiff_args: tuple[int, ...] = (),
) -> OpRule:
    """Build the rule of an elementwise op from ``factor(i, values, out) = ∂out/∂arg_i``.

    ``unit_args`` maps argument positions whose factor is a constant ±1 to that sign: their
    partials are identity / broadcast matrices and cost no multiplications.
    """
    units = dict(unit_args or {})

    def jvp(i, t, values, out, params):
        tb = _bcast_tangent(t, np.shape(out))
        if i in units:
            return tb if units[i] > 0 else -tb
        return tb * factors(i, values, out)

    def vjp(i, c, values, out, params):
        in_shape = np.shape(values[i])
        if i in units:
            g = c if units[i] > 0 else -c
        else:
            g = c * factors(i, values, out)
        return _unbroadcast(g, in_shape)

    def structure(i, shapes, out_shape, params):
        n_out, n_in = _size(out_shape), _size(shapes[i])
        unit = i in units
        if tuple(shapes[i]) == tuple(out_shape):
            return EdgeStructure.diagonal(n_out, unit=unit)
        return EdgeStructure.sparse("broadcast", n_out, n_in, n_out, unit=unit)

    def cost(i, shapes, out_shape, params):
        return 0 if i in units else _size(out_shape)

    return register(OpRule(name, forward, jvp, vjp, structure, cost, cost, doc, nondiff_args))


def _f_add(i, v, out):
    return 1.0


_elementwise("add", np.add, _f_add, {0: 1, 1: 1}, "x + y")
_elementwise("subtract", np.subtract, _f_add, {0: 1, 1: -1}, "x - y")
_elementwise("negative", np.negative, _f_add, {0: -1}, "-x")
_elementwise("positive", np.positive, _f_add, {0: 1}, "+x (also: copy of an output)")
_elementwise("multiply", np.multiply, lambda i, v, out: v[1 - i], doc="x * y")
_elementwise(
    "divide",
    np.divide,
    lambda i, v, out: 1.0 / v[1] if i == 0 else -out / v[1],
    doc="x / y",
)


def _f_power(i, v, out):
    x, p = v
    if i == 0:
        return p * np.power(x, p - 1)
    return out * np.log(x)


_elementwise("power", np.power, _f_power, doc="x ** p")
_elementwise("square", np.square, lambda i, v, out: 2 * v[0], doc="x**2")
_elementwise("exp", np.exp, lambda i, v, out: out, doc="exp(x)")
_elementwise("log", np.log, lambda i, v, out: 1.0 / v[0], doc="log(x)")
_elementwise("tanh", np.tanh, lambda i, v, out: 1.0 - out * out, doc="tanh(x)")
_elementwise("sin", np.sin, lambda i, v, out: np.cos(v[0]), doc="sin(x)")
_elementwise("cos", np.cos, lambda i, v, out: -np.sin(v[0]), doc="cos(x)")
_elementwise("sqrt", np.sqrt, lambda i, v, out: 0.5 / out, doc="sqrt(x)")
_elementwise("absolute", np.absolute, lambda i, v, out: np.sign(v[0]), doc="abs(x)")


def _f_maximum(i, v, out):
    x, y = v
    win = np.greater(x, y) if i == 0 else np.greater(y, x)
    return win + 0.5 * np.equal(x, y)


_elementwise("maximum", np.maximum, _f_maximum, doc="maximum(x, y); ties split 1/2 each")


# ----------------------------------------------------------------------------------------
# reductions


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int | np.integer):
        axis = (axis,)
    out = []
    for a in axis:
        a = int(a)
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(a, ndim)
        out.append(a % ndim)
    return tuple(sorted(set(out)))


def _reduction(name: str, forward: Callable[..., Any], scaled: bool) -> OpRule:
    def count(shape: Shape, params: dict) -> int:
        return _size(tuple(shape[a] for a in _axes(params.get("axis"), len(shape))))

    def jvp(i, t, values, out, params):
        axes = _axes(params.get("axis"), np.ndim(values[0]))
        r = t.sum(axis=tuple(a + 1 for a in axes), keepdims=params.get("keepdims", False))
        return r / count(np.shape(values[0]), params) if scaled else r

    def vjp(i, c, values, out, params):
        shape = np.shape(values[0])
        axes = _axes(params.get("axis"), len(shape))
        kept = tuple(1 if a in axes else n for a, n in enumerate(shape))
        g = c.reshape((c.shape[0], *kept))
        if scaled:
            g = g / count(shape, params)
        return np.broadcast_to(g, (c.shape[0], *shape))

    def structure(i, shapes, out_shape, params):
        n_in = _size(shapes[0])
        return EdgeStructure.sparse("reduction", _size(out_shape), n_in, n_in, unit=not scaled)

    def cost(i, shapes, out_shape, params):
        return _size(out_shape) if scaled else 0

    return register(OpRule(name, forward, jvp, vjp, structure, cost, cost, f"{name} over axes"))


_reduction(
    "sum", lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims), False
)
_reduction(
    "mean", lambda x, axis=None, keepdims=False: np.mean(x, axis=axis, keepdims=keepdims), True
)


# ----------------------------------------------------------------------------------------
# shape ops: indexing, transpose, reshape (unit partials, no mults)


def _zero_cost(i, shapes, out_shape, params):
    return 0


def _shape_op(name, forward, jvp, vjp, kind, doc, spelling=""):
    def structure(i, shapes, out_shape, params):
        n_out, n_in = _size(out_shape), _size(shapes[0])
        if kind == "identity":
            return EdgeStructure.diagonal(n_out, unit=True)
        return EdgeStructure.sparse(kind, n_out, n_in, n_out, unit=True)

    return register(
        OpRule(name, forward, jvp, vjp, structure, _zero_cost, _zero_cost, doc, spelling=spelling)
    )


def _getitem_vjp(i, c, values, out, params):
    g = np.zeros((c.shape[0], *np.shape(values[0])), dtype=np.result_type(c, values[0]))
    g[(slice(None), *params["key"])] = c
    return g


_shape_op(
    "getitem",
    lambda x, key: x[key],
    lambda i, t, v, out, p: t[(slice(None), *p["key"])],
    _getitem_vjp,
    "select",
    "x[key] with ints, slices, None and ...",
    spelling="x[...] (basic indexing)",
)


def _perm(params: dict, ndim: int) -> tuple[int, ...]:
    axes = params.get("axes")
    return tuple(reversed(range(ndim))) if axes is None else tuple(int(a) % ndim for a in axes)


_shape_op(
    "transpose",
    lambda x, axes=None: np.transpose(x, axes),
    lambda i, t, v, out, p: t.transpose((0, *(a + 1 for a in _perm(p, np.ndim(v[0]))))),
    lambda i, c, v, out, p: c.transpose((0, *(a + 1 for a in np.argsort(_perm(p, np.ndim(v[0])))))),
    "permutation",
    "transpose(x, axes)",
)
_shape_op(
    "reshape",
    lambda x, shape: np.reshape(x, shape),
    lambda i, t, v, out, p: t.reshape((t.shape[0], *np.shape(out))),
    lambda i, c, v, out, p: c.reshape((c.shape[0], *np.shape(v[0]))),
    "identity",
    "reshape(x, shape) (C order: the identity on flattened values)",
)


# ----------------------------------------------------------------------------------------
# two-operand einsum, and matmul / dot written as einsum


def einsum_spec(subscripts: str, shape_a: Shape, shape_b: Shape) -> tuple[str, str, str]:
    """Split and check a two-operand einsum ``subscripts`` into ``(sa, sb, so)``.

    Raises ``ValueError`` for forms chainorder does not differentiate: ellipses, repeated
    indices within one operand, or indices of the output that no operand has.

    Examples
    --------
    >>> einsum_spec("ij,jk->ik", (2, 3), (3, 4))
    ('ij', 'jk', 'ik')
    >>> einsum_spec("ij,j", (2, 3), (3,))
    ('ij', 'j', 'i')
    """
    s = subscripts.replace(" ", "")
    if "." in s:
        raise ValueError("einsum with '...' is not supported")
    if "->" in s:
        ins, so = s.split("->")
    else:
        ins = s
        letters = ins.replace(",", "")
        so = "".join(sorted(ch for ch in set(letters) if letters.count(ch) == 1))
    parts = ins.split(",")
    if len(parts) != 2:
        raise ValueError("only two-operand einsum is supported")
    sa, sb = parts
    for sub, shape in ((sa, shape_a), (sb, shape_b)):
        if len(sub) != len(shape):
            raise ValueError(f"einsum operand {sub!r} does not match shape {shape}")
        if len(set(sub)) != len(sub):
            raise ValueError(
                f"einsum with a repeated index in {sub!r} (a diagonal) is not supported"
            )
    if len(set(so)) != len(so) or not set(so) <= set(sa) | set(sb):
        raise ValueError(f"bad einsum output {so!r}")
    return sa, sb, so


def _extents(sa: str, sb: str, shapes: tuple) -> dict[str, int]:
    ext: dict[str, int] = {}
    for sub, shape in ((sa, shapes[0]), (sb, shapes[1])):
        for ch, n in zip(sub, shape, strict=True):
            ext[ch] = int(n)
    return ext


def _contract_jvp(i, t, values, out, params):
    sa, sb, so = params["spec"]
    if i == 0:
        return np.einsum(f"...{sa},{sb}->...{so}", t, values[1])
    return np.einsum(f"{sa},...{sb}->...{so}", values[0], t)


def _contract_vjp(i, c, values, out, params):
    sa, sb, so = params["spec"]
    mine, other = (sa, sb) if i == 0 else (sb, sa)
    kept = "".join(ch for ch in mine if ch in so or ch in other)
    g = np.einsum(f"...{so},{other}->...{kept}", c, values[1 - i])
    shape = np.shape(values[i])
    missing = [pos for pos, ch in enumerate(mine) if ch not in kept]
    if missing:
        g = np.expand_dims(g, tuple(p + 1 for p in missing))
        g = np.broadcast_to(g, (c.shape[0], *shape))
    return g


def _contract_structure(i, shapes, out_shape, params):
    sa, sb, so = params["spec"]
    ext = _extents(sa, sb, shapes)
    mine = sa if i == 0 else sb
    nnz = math.prod(ext[ch] for ch in set(so) | set(mine))
    return EdgeStructure.sparse("kronecker", _size(out_shape), _size(shapes[i]), nnz)


def _contract_cost(i, shapes, out_shape, params):
    sa, sb, _ = params["spec"]
    ext = _extents(sa, sb, shapes)
    return math.prod(ext.values())


def _contraction(name: str, forward: Callable[..., Any], doc: str) -> OpRule:
    return register(
        OpRule(
            name,
            forward,
            _contract_jvp,
            _contract_vjp,
            _contract_structure,
            _contract_cost,
            _contract_cost,
            doc,
        )
    )


_contraction("matmul", lambda a, b, spec=None: np.matmul(a, b), "a @ b (1-D/2-D or equal batch)")
_contraction("dot", lambda a, b, spec=None: np.dot(a, b), "np.dot(a, b) for 1-D/2-D operands")
_contraction(
    "einsum",
    lambda a, b, spec=None: np.einsum(f"{spec[0]},{spec[1]}->{spec[2]}", a, b),
    "two-operand einsum without ellipsis",
)


def matmul_spec(shape_a: Shape, shape_b: Shape) -> tuple[str, str, str]:
    """Einsum subscripts of ``a @ b``; ``ValueError`` for unsupported ranks.

    Examples
    --------
    >>> matmul_spec((2, 3), (3,))
    ('ij', 'j', 'i')
    """
    na, nb = len(shape_a), len(shape_b)
    if na == 0 or nb == 0:
        raise ValueError("matmul of a 0-d operand")
    if na <= 2 and nb <= 2:
        sa = "ij"[2 - na :] if na == 2 else "j"
        sb = "jk" if nb == 2 else "j"
        so = ("i" if na == 2 else "") + ("k" if nb == 2 else "")
        return sa, sb, so
    if na == nb and shape_a[:-2] == shape_b[:-2]:
        batch = string.ascii_lowercase[10 : 10 + na - 2]
        return batch + "ij", batch + "jk", batch + "ik"
    raise ValueError(f"matmul of shapes {shape_a} and {shape_b} (batch broadcasting)")


# ----------------------------------------------------------------------------------------
# linear algebra: solve and inv


def _solve_batch(a: Array, r: Array) -> Array:
    """Solve ``a @ x = r[j]`` for every batch entry ``j`` of ``r`` (``(k, n, ...)``)."""
    k, n, rest = r.shape[0], r.shape[1], r.shape[2:]
    cols = np.moveaxis(r, 1, 0).reshape(n, -1)
    x = np.linalg.solve(a, cols)
    return np.moveaxis(x.reshape((n, k, *rest)), 0, 1)


def _solve_jvp(i, t, values, out, params):
    a = values[0]
    if i == 1:
        return _solve_batch(a, t)
    return -_solve_batch(a, t @ out)


def _solve_vjp(i, c, values, out, params):
    a = values[0]
    gb = _solve_batch(a.T, c)
    if i == 1:
        return gb
    if out.ndim == 1:
        return -gb[:, :, None] * out[None, None, :]
    return -np.einsum("kim,jm->kij", gb, out)


def _solve_m(shapes: tuple) -> int:
    return 1 if len(shapes[1]) == 1 else int(shapes[1][1])


def _solve_structure(i, shapes, out_shape, params):
    n, m = int(shapes[0][0]), _solve_m(shapes)
    if i == 0:
        return EdgeStructure.dense(n * m, n * n)
    return EdgeStructure.sparse("kronecker", n * m, n * m, n * n * m)


def _solve_cost(direction: str):
    def cost(i, shapes, out_shape, params):
        n, m = int(shapes[0][0]), _solve_m(shapes)
        # triangular solves with the LU factors of the primal pass: n²·m; dA @ x: n²·m
        return n * n * m * (2 if i == 0 else 1)

    return cost


register(
    OpRule(
        "solve",
        lambda a, b: np.linalg.solve(a, b),
        _solve_jvp,
        _solve_vjp,
        _solve_structure,
        _solve_cost("jvp"),
        _solve_cost("vjp"),
        "np.linalg.solve(a, b), a: n×n, b: n or n×m",
        spelling="np.linalg.solve",
    )
)


def _inv_cost(i, shapes, out_shape, params):
    n = int(shapes[0][0])
    return 2 * n**3


register(
    OpRule(
        "inv",
        lambda a: np.linalg.inv(a),
        lambda i, t, v, out, p: -(out @ t @ out),
        lambda i, c, v, out, p: -(out.T @ c @ out.T),
        lambda i, shapes, out_shape, p: EdgeStructure.dense(_size(out_shape), _size(shapes[0])),
        _inv_cost,
        _inv_cost,
        "np.linalg.inv(a), a: n×n",
        spelling="np.linalg.inv",
    )
)
