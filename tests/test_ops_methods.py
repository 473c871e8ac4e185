"""Every ndarray method the tracer lists works on a traced array, with the NumPy value and
finite-difference derivatives; zero-derivative methods and functions give constants."""

from __future__ import annotations

import numpy as np
import pytest

from chainorder.errors import UnsupportedOperationError
from chainorder.gradcheck import check_grads
from chainorder.graph.trace import trace
from chainorder.graph.unsupported import METHODS, nearest_supported

X = np.random.default_rng(3).standard_normal((3, 4))

CALLS = {
    "x.T": lambda x: x.T,
    "x.sum()": lambda x: x.sum(axis=0),
    "x.mean()": lambda x: x.mean(1, keepdims=True),
    "x.prod()": lambda x: x.prod(axis=1),
    "x.max()": lambda x: x.max(axis=0),
    "x.min()": lambda x: x.min(),
    "x.var()": lambda x: x.var(axis=1, ddof=1),
    "x.std()": lambda x: x.std(axis=0),
    "x.cumsum()": lambda x: x.cumsum(axis=1),
    "x.cumprod()": lambda x: x.cumprod(axis=0),
    "x.transpose()": lambda x: x.transpose(1, 0),
    "x.reshape()": lambda x: x.reshape(2, 6),
    "x.ravel()": lambda x: x.ravel(),
    "x.flatten()": lambda x: x.flatten(),
    "x.dot()": lambda x: x.dot(np.ones(4)),
    "x.squeeze()": lambda x: x[:1].squeeze(),
    "x.swapaxes()": lambda x: x.swapaxes(0, 1),
    "x.clip()": lambda x: x.clip(-0.5, 0.5),
    "x.copy()": lambda x: x.copy(),
    "x.astype()": lambda x: x.astype(np.float64),
    "x.take()": lambda x: x.take(np.array([0, 5]), axis=None),
    "x.repeat()": lambda x: x.repeat(2, axis=1),
    "x.diagonal()": lambda x: x.diagonal(),
    "x.trace()": lambda x: x.trace(),
    "x.round()": lambda x: x * x.round(),
    "x.argmax()": lambda x: x.reshape(-1)[x.argmax()],
    "x.argmin()": lambda x: np.take_along_axis(x, x.argmin(axis=1)[:, None], axis=1),
    "x.argsort()": lambda x: np.take_along_axis(x, x.argsort(axis=1), axis=1),
    "x.nonzero()": lambda x: x[(x > 0).nonzero()],
    "x.all()": lambda x: x * (x > -10).all(),
    "x.any()": lambda x: x * (x > 10).any(),
}


def test_every_listed_method_has_a_case() -> None:
    assert set(CALLS) == set(METHODS)


@pytest.mark.parametrize("what", sorted(CALLS))
def test_method_value_and_derivatives(what: str) -> None:
    fn = CALLS[what]
    g = trace(fn, X)
    np.testing.assert_allclose(g.value(g.outputs[0]), fn(X))
    check_grads(fn, X, modes=("fwd", "rev"), rtol=1e-6)


def test_comparisons_and_piecewise_constant_ops_are_constants() -> None:
    def f(x):
        mask = (x == x.max()) | (x != 0.0)
        return x * mask + np.sign(x) + np.floor(x) * x + np.round(x, 1)

    g = trace(f, X)
    check_grads(f, X, modes=("fwd", "rev"))
    assert not {"sign", "floor", "round", "equal"} & {g.nx.nodes[v]["op"] for v in g.nx}


def test_max_ties_share_the_derivative_equally() -> None:
    from chainorder.graph.sweep import jacobian_reverse

    g = trace(lambda x: np.max(x), np.array([1.0, 3.0, 3.0, 2.0]))
    np.testing.assert_allclose(jacobian_reverse(g), [[0.0, 0.5, 0.5, 0.0]])
    g = trace(lambda x: np.maximum(x, 1.0) + np.clip(x, 1.0, 2.0), np.array([1.0, 2.0]))
    np.testing.assert_allclose(jacobian_reverse(g), [[1.0, 0.0], [0.0, 1.5]])


def test_in_place_sort_is_refused_with_the_alternative() -> None:
    with pytest.raises(
        UnsupportedOperationError, match=r"x\.sort\(\).*nearest supported: np\.sort"
    ):
        trace(lambda x: x.sort(), X)


def test_alias_map_suggests_ops_that_express_the_missing_one() -> None:
    assert nearest_supported("nanmean")[:2] == ["np.mean", "np.where"]
    assert nearest_supported("tensordot")[0] == "np.einsum"


def test_slogdet_result_and_array_constructors() -> None:
    def f(a):
        sign, logdet = np.linalg.slogdet(a)
        r = np.linalg.slogdet(a)
        return logdet + r.logabsdet * sign + np.array(a, dtype=int).sum() + np.asarray(a).sum()

    check_grads(f, 2 * np.eye(3) + 0.1, modes=("fwd", "rev"))


def test_item_assignment_is_refused_with_alternatives() -> None:
    def f(x):
        x[0] = 1.0
        return x

    with pytest.raises(UnsupportedOperationError, match=r"in-place.*nearest supported: np\.where"):
        trace(f, X)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: np.fmax(x, 0.0),
        lambda x: np.remainder(x, 1.0),
        lambda x: x % 2.0,
        lambda x: np.heaviside(x, 0.5) * x,
    ],
)
def test_ufuncs_without_a_rule_are_refused_not_silently_constant(fn) -> None:
    with pytest.raises(UnsupportedOperationError):
        trace(fn, X)


def test_integer_only_ufuncs_and_floor_divide_are_constants() -> None:
    f = lambda x: x * (x // 1.0) + x * np.floor_divide(2.0, x) + x * np.isnan(x)  # noqa: E731
    check_grads(f, X + 3.0, modes=("fwd", "rev"))


def test_stacking_helpers() -> None:
    def f(x):
        v = np.vstack([x[0], x[1:]])
        h = np.hstack([x[:, 0], x[0]])
        s = np.stack([x, x], axis=-1).sum(-1)
        return v.sum() + h.sum() + s

    check_grads(f, X, modes=("fwd", "rev"))
    for fn in (lambda x: np.dstack([x, x]), lambda x: np.atleast_2d(x)):
        with pytest.raises(UnsupportedOperationError, match="nearest supported"):
            trace(fn, X)
