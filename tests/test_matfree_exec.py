"""The matrix-free executor: every plan of random short chains gives the explicit product of
the dense Jacobians and agrees with central finite differences, in both memory settings."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainorder.errors import ExecutionError, MemoryLimitError
from chainorder.gradcheck import central_difference
from chainorder.matfree.elementals import ElementalChain
from chainorder.matfree.execute import execute
from chainorder.matfree.links import conv1d, conv2d, custom, dense, elementwise
from chainorder.matfree.plan import MatrixFreePlan
from chainorder.matfree.reference import all_plans

FUNCTIONS = ("tanh", "sigmoid", "sin", "softplus", "square", "diag")


def random_links(rng: np.random.Generator, n_links: int, given_p: float = 0.0) -> list:
    """A random short chain of dense, elementwise and convolution links (small widths)."""
    links: list = []
    width = int(rng.integers(2, 7))
    for _ in range(n_links):
        kind = rng.choice(["dense", "elementwise", "conv1d", "conv2d"], p=[0.4, 0.3, 0.15, 0.15])
        if kind == "elementwise" and links and links[-1].kind != "elementwise":
            link = elementwise(width, str(rng.choice(FUNCTIONS)))
        elif kind == "conv1d" and width % 2 == 0:
            link = conv1d(2, width // 2, int(rng.integers(1, 3)), 2, stride=1, padding=1)
        elif kind == "conv2d" and width == 4:
            link = conv2d(1, (2, 2), int(rng.integers(1, 3)), 2, stride=1, padding=1)
        else:
            link = dense(int(rng.integers(2, 7)), width)
        if rng.random() < given_p:
            link = link.with_given()
        links.append(link)
        width = link.rows
    return links


def _check_plan(plan, net, x, reference):
    for setting in ("streamed", "given"):
        J = execute(plan, net, x, setting=setting)
        assert J.shape == reference.shape
        np.testing.assert_allclose(J, reference, rtol=1e-11, atol=1e-12, err_msg=str(plan.nodes))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n_links=st.integers(1, 4), given_p=st.sampled_from([0, 0.3]))
def test_every_plan_of_random_chains_gives_the_explicit_product(seed, n_links, given_p):
    rng = np.random.default_rng(seed)
    links = random_links(rng, n_links, given_p)
    net = ElementalChain(links, seed=seed)
    x = net.random_input(seed)
    reference = net.jacobian(x)
    # the explicit product itself against central finite differences, column by column
    fd = np.stack(
        [central_difference(lambda xs: [net(xs[0])], [x], [e], 1e-6)[0] for e in np.eye(x.size)],
        axis=1,
    )
    np.testing.assert_allclose(reference, fd, rtol=1e-6, atol=1e-6)
    plans = list(all_plans(links))
    assert plans
    for plan in plans[:: max(1, len(plans) // 60)]:
        _check_plan(plan, net, x, reference)


def test_every_plan_of_one_mixed_chain_including_convolutions():
    links = [conv2d(1, (3, 3), 2, 2, padding=1), elementwise(32, "tanh"), dense(5, 32)]
    net = ElementalChain(links, seed=3)
    x = net.random_input(4)
    reference = net.jacobian(x)
    plans = list(all_plans(links))
    assert len(plans) > 10
    for plan in plans:
        _check_plan(plan, net, x, reference)


def test_gdjcpb_example_chain_runs_with_stand_in_layers():
    links = [custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)]
    p = MatrixFreePlan.from_nodes(
        links, [(1, 2, 3, "adjoint"), (3, 3, 3, "tangent"), (1, 3, 3, "dense")]
    )
    assert p.mults == 56
    net = ElementalChain(links, seed=0)
    x = net.random_input()
    np.testing.assert_allclose(execute(p, net, x), net.jacobian(x), rtol=1e-12)


def test_given_arrays_and_tapes_passed_in_are_used():
    links = [dense(3, 2, given=True), elementwise(3, "tanh", given=True), dense(2, 3)]
    p = MatrixFreePlan.from_nodes(
        links, [(1, 1, 0, "given"), (2, 2, 0, "given"), (1, 2, 2, "dense"), (1, 3, 3, "tangent")]
    )
    net = ElementalChain(links, seed=0)
    x = net.random_input()
    tapes = net.tapes(x)
    fake = {1: np.ones((3, 2)), 2: np.full(3, 2.0)}
    J = execute(p, net, setting="given", tapes=tapes, given=fake)
    np.testing.assert_allclose(J, net.layers[2].weight @ (2.0 * np.ones((3, 2))))


def test_bad_inputs_raise_one_line_errors():
    links = [dense(3, 2), dense(2, 3)]
    p = MatrixFreePlan.from_nodes(links, [(1, 2, 1, "tangent")])
    with pytest.raises(ExecutionError, match="2 links but the network 1"):
        execute(p, ElementalChain(links[:1]), np.ones(2))
    with pytest.raises(ExecutionError, match="link 2 of the plan is 2×3"):
        execute(p, ElementalChain([dense(3, 2), dense(4, 3)]), np.ones(2))
    with pytest.raises(ExecutionError, match="needs the point"):
        execute(p, ElementalChain(links))
    big = [dense(30_000, 30_000), dense(2, 30_000)]
    pb = MatrixFreePlan.from_nodes(big, [(1, 2, 1, "tangent")])
    with pytest.raises(MemoryLimitError, match="needs"):
        execute(pb, ElementalChain([dense(3, 2), dense(2, 3)]), np.ones(2), max_memory="1MiB")


@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_other_dtypes_keep_their_dtype_and_agree(dtype):
    links = [conv1d(2, 6, 3, 3, padding=1), elementwise(18, "tanh"), dense(4, 18)]
    net = ElementalChain(links, seed=1, dtype=dtype)
    x = net.random_input()
    reference = net.jacobian(x)
    for plan in list(all_plans(links))[::5]:
        J = execute(plan, net, x)
        assert J.dtype == np.dtype(dtype)
        np.testing.assert_allclose(J, reference, rtol=1e-4 if dtype == "float32" else 1e-12)
