"""Issue 10 exports: the package API, chainorder.testing's brute force, the registered solver,
and the matrix-free bench suite's structure."""

import random

import numpy as np
import pytest

import chainorder
import chainorder.matfree as mfp
from chainorder import testing
from chainorder.bench import count_rows, iter_suite, suite_cases
from chainorder.errors import MemoryLimitError
from chainorder.matfree import custom, plan_matrix_free, solve_matrix_free
from chainorder.matfree.conv import Conv2d, ConvGeometry


def test_package_exports_the_execution_api():
    for name in (
        "ElementalChain",
        "execute",
        "predict_memory",
        "schedule",
        "measure_matrix_free",
        "MatrixFreeReport",
        "plan_matrix_free",
    ):
        assert name in mfp.__all__ and callable(getattr(mfp, name))
    assert chainorder.plan_matrix_free is plan_matrix_free
    assert "plan_matrix_free" in chainorder.__all__
    net = mfp.ElementalChain(mfp.parse_matrix_free("5,tanh,4,3"))
    x = net.random_input(1)
    p = plan_matrix_free("5,tanh,4,3")
    np.testing.assert_allclose(mfp.execute(p, net, x), net.jacobian(x), rtol=1e-12)
    assert mfp.predict_memory(p, "given").peak_bytes > 0 and len(mfp.schedule(p, "given")) > 0


def test_testing_brute_force_matches_the_dp_and_gdjcpb():
    gd = [custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)]
    assert testing.brute_force_matrix_free(gd)[0] == 56
    rng = random.Random(5)
    for _ in range(20):
        n_links = rng.randint(1, 5)
        dims = [rng.randint(1, 9) for _ in range(n_links + 1)]
        links = [custom(dims[i + 1], dims[i], rng.randint(1, 60)) for i in range(n_links)]
        best, count = testing.brute_force_matrix_free(links)
        assert solve_matrix_free(links).mults == best
        assert count == sum(1 for _ in testing.all_plans(links))


def test_registered_solver_gives_the_dense_optimum():
    assert "matrix-free" in chainorder.available_solvers()
    for spec in ("30,35,15,5,10,20,25", "8,tanh,8,3,relu,3,9"):
        assert chainorder.plan(spec, "matrix-free").mults == chainorder.plan(spec).mults


def test_conv_vjp_is_the_transpose_of_the_jvp_in_float32():
    rng = np.random.default_rng(3)
    g = ConvGeometry(3, 9, 7, 5, 3, 2, 2, 1, 1, 0)
    conv = Conv2d.random(g, rng, "float32")
    J = conv.jacobian(None)
    A = rng.standard_normal((13, g.m)).astype("float32")
    out = conv.vjp(None, A)
    # seeds-last (Fortran-ordered (s, n)): the layout an adjoint sweep keeps, no transpose
    assert out.dtype == np.float32 and out.flags.f_contiguous
    np.testing.assert_allclose(out, A @ J, rtol=1e-4, atol=1e-5)


def test_matfree_suite_cases_and_rows():
    cases = suite_cases("matfree")
    assert {c.name for c in cases} == {"cnn", "mlp", "hourglass"}
    assert all(c.matrix_free for c in cases) and {c.setting.value for c in cases} == {
        "given",
        "streamed",
    }
    assert count_rows("matfree") == 4 * len(cases)
    assert set(cases) <= set(suite_cases("all"))


def test_matfree_cases_check_memory_before_running():
    with pytest.raises(MemoryLimitError):
        next(iter_suite("matfree", repeat=1, max_memory="1KiB"))


def test_smoke_matfree_rows_agree_and_name_jacfwd_jacrev():
    rows = [r for r in iter_suite("smoke", repeat=1, frameworks=False) if r.case == "smoke-cnn"]
    assert [r.method for r in rows] == [
        "matrix-free optimum",
        "matrix-free pure tangent (jacfwd)",
        "matrix-free pure adjoint (jacrev)",
        "matrix-free given-matrix",
    ]
    p = plan_matrix_free("1x8x8,conv2d(2,k=3),relu,conv2d(3,k=3,stride=2),4")
    assert rows[0].predicted_mults == p.mults
    assert rows[1].predicted_mults == p.comparison.pure_tangent
    for r in rows:
        assert r.status == "ok" and r.time_s > 0 and r.rel_diff < 1e-12
        assert abs(r.measured_peak_bytes / r.predicted_peak_bytes - 1) < 0.25
