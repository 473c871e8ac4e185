"""graphax's benchmark tasks (examples/graphax): Jacobians against finite differences and
JAX, graphax's published forward / reverse / Markowitz counts reproduced exactly under
``convention="graphax"``, and the annealed orders at or below AlphaGrad's."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from chainorder.errors import UnsupportedOperationError
from chainorder.graph import graph_fd_jacobian, trace
from chainorder.graph.eliminate import eliminate, forward_order, markowitz_order, reverse_order
from chainorder.graph.search import anneal_order

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples" / "graphax"))
from graphax_tasks import TASKS, linearized, load_task

ALL = list(TASKS)
#: Tasks whose scalar graph is graphax's (RoeFlux_3d uses scalar components, not 3-vectors).
SAME_GRAPH = ["RoeFlux_1d", "HumanHeartDipole", "PropaneCombustion", "RobotArm_6DOF"]


def lin_or_skip(name: str):
    try:
        return linearized(name)
    except UnsupportedOperationError as exc:  # e.g. np.arctan2 until the registry has it
        pytest.skip(f"{name}: {str(exc).split(';')[0]}")


def traced(name: str):
    task = load_task(name)
    try:
        return task, trace(task.fn, *(np.asarray(a, dtype=float) for a in task.ARGS))
    except UnsupportedOperationError as exc:
        pytest.skip(f"{name}: {str(exc).split(';')[0]}")


@pytest.mark.parametrize("name", ALL)
def test_jacobian_by_every_order_matches_finite_differences(name: str) -> None:
    task, g = traced(name)
    lin = lin_or_skip(name)
    fd = graph_fd_jacobian(g)
    assert np.all(np.isfinite(fd))
    assert fd.shape == (sum(lin.sizes[y] for y in lin.outputs), np.size(np.hstack(task.ARGS)))
    for order in (forward_order(lin), reverse_order(lin), markowitz_order(lin)):
        for conv in ("chainorder", "graphax"):
            jac = eliminate(lin, order, numeric=True, convention=conv).jacobian
            np.testing.assert_allclose(jac, fd, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ALL)
def test_jacobian_matches_jax(name: str) -> None:
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    jax.config.update("jax_enable_x64", True)
    task, _ = traced(name)
    lin = lin_or_skip(name)
    ours = eliminate(lin, reverse_order(lin), numeric=True).jacobian
    task.np = jnp  # the same source, run by JAX
    args = tuple(jnp.asarray(a, dtype=jnp.float64) for a in task.ARGS)
    flat = lambda *a: jnp.concatenate([jnp.ravel(y) for y in task.fn(*a)])  # noqa: E731
    cols = jax.jacrev(flat, argnums=tuple(range(len(args))))(*args)
    jac = np.concatenate([np.reshape(c, (ours.shape[0], -1)) for c in cols], axis=1)
    np.testing.assert_allclose(ours, jac, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", SAME_GRAPH)
def test_graphax_convention_reproduces_published_counts(name: str) -> None:
    lin = lin_or_skip(name)
    fwd, rev, mk, _ = load_task(name).GRAPHAX
    count = lambda o: eliminate(lin, o, convention="graphax").mults  # noqa: E731
    assert count(forward_order(lin)) == fwd
    assert count(reverse_order(lin)) == rev
    assert count(markowitz_order(lin, convention="graphax")) == mk


@pytest.mark.parametrize("name", SAME_GRAPH)
def test_chainorder_convention_never_counts_more(name: str) -> None:
    lin = lin_or_skip(name)
    for order in (forward_order(lin), reverse_order(lin)):
        ours = eliminate(lin, order).mults
        assert ours < eliminate(lin, order, convention="graphax").mults


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["HumanHeartDipole", "PropaneCombustion", "RoeFlux_1d", "RobotArm_6DOF"]
)
def test_annealing_reaches_alphagrad(name: str) -> None:
    lin = lin_or_skip(name)
    alphagrad = load_task(name).GRAPHAX[3]
    r = anneal_order(lin, seed=0, iterations=5_000, time_budget=None, convention="graphax")
    assert r.mults == eliminate(lin, r.order, convention="graphax").mults
    assert r.mults <= alphagrad
