"""Rules of ``np.linalg.cholesky``, ``det``, ``slogdet`` (its log-magnitude) and ``norm``
(vector 1- and 2-norms, Frobenius), for square matrices and stacks of them.

Cholesky reads only the lower triangle of its argument (as LAPACK, and hence NumPy, does):
its partials are those of ``chol(tril(A) + tril(A, -1)ᵀ)``, which agree with finite
differences of ``np.linalg.cholesky`` and, for symmetric perturbations, with JAX.
"""

from __future__ import annotations

import numpy as np

from chainorder.graph.ops.reductions import _reduce_rule
from chainorder.graph.ops.registry import OpRule, eye_like, register, size_of
from chainorder.graph.structure import EdgeStructure

__all__: list[str] = []


def _mT(a):
    return np.swapaxes(a, -1, -2)


def _phi(x):
    """Lower triangle with the diagonal halved."""
    return np.tril(x) - 0.5 * np.einsum("...ii->...i", x)[..., None] * eye_like(x.shape[-1], like=x)


def _chol_jvp(i, t, values, out, params):
    L = out
    linv = np.linalg.inv(L)
    sym = np.tril(t) + _mT(np.tril(t, -1))
    x = linv @ sym @ _mT(linv)
    return L @ _phi(x)


def _chol_vjp(i, c, values, out, params):
    L = out
    linv = np.linalg.inv(L)
    s = _mT(linv) @ _phi(_mT(L) @ c) @ linv
    return np.tril(s) + np.tril(_mT(s), -1)


def _n3(shapes) -> int:
    n = int(shapes[0][-1])
    return size_of(shapes[0][:-2]) * n**3


register(
    OpRule(
        "cholesky",
        lambda a: np.linalg.cholesky(a),
        _chol_jvp,
        _chol_vjp,
        lambda i, s, o, p: EdgeStructure.dense(size_of(o), size_of(s[0])),
        lambda i, s, o, p: 2 * _n3(s),
        lambda i, s, o, p: 2 * _n3(s),
        "np.linalg.cholesky(a) (lower triangle of a read, as NumPy does)",
        spelling="np.linalg.cholesky",
        partial="dense (lower-triangular output)",
    )
)


def _inv_t(a):
    return _mT(np.linalg.inv(a))


def _det_jvp(i, t, values, out, params):
    return out * np.einsum("...ij,k...ij->k...", _inv_t(values[0]), t)


def _det_vjp(i, c, values, out, params):
    return (c * out)[..., None, None] * _inv_t(values[0])


def _logdet_jvp(i, t, values, out, params):
    return np.einsum("...ij,k...ij->k...", _inv_t(values[0]), t)


def _logdet_vjp(i, c, values, out, params):
    return c[..., None, None] * _inv_t(values[0])


def _det_struct(i, s, o, p):
    n = int(s[0][-1])
    return EdgeStructure.sparse("sparse", size_of(o), size_of(s[0]), size_of(o) * n * n)


def _det_cost(i, s, o, p):
    return size_of(s[0])


register(
    OpRule(
        "det", lambda a: np.linalg.det(a), _det_jvp, _det_vjp, _det_struct, _det_cost,
        _det_cost, "np.linalg.det(a): ∂det = det·A⁻ᵀ", spelling="np.linalg.det",
        partial="dense row per matrix",
    )
)  # fmt: skip
register(
    OpRule(
        "slogdet", lambda a: np.linalg.slogdet(a)[1], _logdet_jvp, _logdet_vjp, _det_struct,
        _det_cost, _det_cost,
        "np.linalg.slogdet(a): log|det| is traced (∂ = A⁻ᵀ), the sign is a constant",
        spelling="np.linalg.slogdet",
        partial="dense row per matrix",
    )
)  # fmt: skip


def _w_norm(x, out_k, axes, params):
    if params.get("ord") == 1:
        return np.sign(x)
    return x / out_k


def _norm_forward(x, ord=None, axis=None, keepdims=False):
    return np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)


_reduce_rule(
    "norm",
    _norm_forward,
    _w_norm,
    "np.linalg.norm: vector 2-norm and 1-norm, Frobenius; zero vector: undefined (2-norm)",
    "np.linalg.norm",
)
