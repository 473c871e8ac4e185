"""Regression tests of issue 8's crashes: same-batch matmul through every Jacobian path, and
every attribute of a NumPy array on the boxed array (works, or the clear unsupported-op error
naming it and the user's line)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import chainorder
from chainorder.errors import UnsupportedOperationError
from chainorder.graph import graph_fd_jacobian, graph_jacobian, plan_graph, trace
from chainorder.graph.ops import matmul_spec
from chainorder.graph.unsupported import METHODS

RNG = np.random.default_rng(8)

MATMUL_SHAPES = [
    ((2, 3, 4), (2, 4, 5)),  # the case: batch letter collided with the contracted k
    ((2, 3, 3, 4), (2, 3, 4, 5)),
    ((1, 3, 4), (2, 4, 5)),
    ((3, 4), (2, 4, 5)),
    ((4,), (2, 4, 5)),
    ((2, 3, 4), (4,)),
]


@pytest.mark.parametrize(("sa", "sb"), MATMUL_SHAPES)
def test_batched_matmul_in_every_path(sa, sb) -> None:
    a, b = RNG.standard_normal(sa), RNG.standard_normal(sb)

    def f(a, b):
        return np.tanh(a @ b)

    g = trace(f, a, b)
    ref = graph_fd_jacobian(g)
    plan = plan_graph(g)
    methods = ["forward", "reverse"] + [str(r.method) for r in plan.rows if not r.method.is_sweep]
    for m in methods:
        np.testing.assert_allclose(graph_jacobian(g, m, lin=plan.lin), ref, atol=1e-7, err_msg=m)
    for m in ("auto", "forward", "reverse", "markowitz", "search"):
        da, db = chainorder.jacobian(f, argnums=(0, 1), method=m)(a, b)
        out = np.tanh(a @ b).shape
        assert da.shape == out + sa and db.shape == out + sb
        np.testing.assert_allclose(
            np.concatenate([da.reshape(-1, a.size), db.reshape(-1, b.size)], axis=1), ref,
            atol=1e-7,
        )  # fmt: skip


def test_matmul_batch_letters_never_collide() -> None:
    for nb in range(0, 20):
        sa, sb, so = matmul_spec((2,) * nb + (3, 4), (2,) * nb + (4, 5))
        assert sa[:nb] == sb[:nb] == so[:nb]
        assert not set(sa[:nb]) & set("ijk")
        assert len(set(so)) == len(so) == nb + 2


PUBLIC = sorted(n for n in dir(np.ndarray) if not n.startswith("_"))
SUPPORTED = {m[2:].removesuffix("()") for m in METHODS} | {"shape", "ndim", "size", "dtype"}


@pytest.mark.parametrize("name", PUBLIC)
def test_every_ndarray_attribute_works_or_is_a_clear_error(name: str) -> None:
    def f(x):
        a = getattr(x, name)  # the line the error must name
        if name not in SUPPORTED and callable(a):
            a()  # getattr(x, name)  (a method that exists to say that it is not traced)
        return x * 2.0

    if name in SUPPORTED:
        trace(f, np.ones((2, 2)))  # supported attributes and methods resolve
        return
    with pytest.raises(UnsupportedOperationError) as info:
        trace(f, np.ones((2, 2)))
    msg = str(info.value)
    assert name in msg.split(" at ")[0]
    assert "test_engine_crashes.py:" in msg and "getattr(x, name)" in msg


@pytest.mark.parametrize(
    ("expr", "words"),
    [
        (lambda x: x & x, "np.bitwise_and"),
        (lambda x: x | 1.0, "np.bitwise_or"),
        (lambda x: 2.0 ^ x, "np.bitwise_xor"),
        (lambda x: ~x, "np.invert"),
        (lambda x: x << 1, "np.left_shift"),
        (lambda x: x >> 1, "np.right_shift"),
        (lambda x: divmod(x, 2.0)[0], "np.divmod"),
        (lambda x: x * 2.0 if 1.0 in x else x, "`in`"),
        (lambda x: complex(x[0]) * x, "complex()"),
        (lambda x: x[: x[0]], "index"),
        (lambda x: [1.0, 2.0][x[0]] * x, "index"),
    ],
)
def test_operators_of_ndarray_raise_the_clear_error(expr, words: str) -> None:
    with pytest.raises(UnsupportedOperationError) as info:
        trace(expr, np.ones(2))
    assert words in str(info.value)
    assert "test_engine_crashes.py:" in str(info.value)


def test_copy_module_and_in_place_operators_trace() -> None:
    def f(x):
        y = copy.deepcopy(x) + copy.copy(x)
        y += 1.0
        y *= x
        y @= np.eye(2)
        return y

    x = np.array([0.5, -1.5])
    g = trace(f, x)
    np.testing.assert_allclose(graph_jacobian(g, "reverse"), graph_fd_jacobian(g), atol=1e-7)
