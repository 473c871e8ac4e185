"""The convolution VJP (chainorder.matfree.conv_adjoint): against the explicit Jacobian built
from a loop convolution, central finite differences and the former single-block form, over
random geometries, seed blocks and dtypes; its workspace model against tracemalloc."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainorder.gradcheck import central_difference
from chainorder.matfree.conv import Conv2d, ConvGeometry
from chainorder.matfree.conv_adjoint import (
    BLOCK_ELEMENTS,
    adjoint_block,
    adjoint_workspace,
    conv_vjp,
)
from chainorder.matfree.conv_banded import band_rows, banded_workspace
from chainorder.measure import peak_memory


def _loop_jacobian(conv: Conv2d) -> np.ndarray:
    """``J[(f, y, x), (c, u, v)] = K[f, c, u + ph - y·sh, v + pw - x·sw]`` where in range,
    written entry by entry (independent of im2col and of the JVP)."""
    g = conv.geometry
    J = np.zeros((g.filters, g.out_height, g.out_width, g.channels, g.height, g.width))
    for y in range(g.out_height):
        for x in range(g.out_width):
            for i in range(g.kh):
                for j in range(g.kw):
                    u, v = y * g.sh + i - g.ph, x * g.sw + j - g.pw
                    if 0 <= u < g.height and 0 <= v < g.width:
                        J[:, y, x, :, u, v] += conv.kernel[:, :, i, j]
    return J.reshape(g.m, g.n)


geometries = st.builds(
    lambda c, h, w, f, kh, kw, sh, sw, ph, pw: (c, h, w, f, kh, kw, sh, sw, ph, pw),
    st.integers(1, 3),
    st.integers(1, 9),
    st.integers(1, 9),
    st.integers(1, 4),
    st.integers(1, 4),
    st.integers(1, 4),
    st.integers(1, 4),
    st.integers(1, 4),
    st.integers(0, 2),
    st.integers(0, 2),
).filter(lambda t: t[1] + 2 * t[8] >= t[4] and t[2] + 2 * t[9] >= t[5])


@settings(max_examples=60, deadline=None)
@given(
    geo=geometries,
    seeds=st.integers(1, 9),
    block=st.sampled_from([1, 37, 400, BLOCK_ELEMENTS]),
    dtype=st.sampled_from(["float64", "float32"]),
    seed=st.integers(0, 10_000),
    seeds_last=st.booleans(),
)
def test_vjp_equals_explicit_jacobian_transpose_product(
    geo, seeds, block, dtype, seed, seeds_last
):
    rng = np.random.default_rng(seed)
    g = ConvGeometry(*geo)
    conv = Conv2d.random(g, rng, dtype=dtype)
    A = rng.standard_normal((seeds, g.m)).astype(dtype)
    if seeds_last:  # the banded form (Aᵀ C-contiguous), several bands when block is small
        A = np.asfortranarray(A)
    J = _loop_jacobian(conv)
    got = conv_vjp(g, conv._kmat_offsets, A, block=block)
    assert got.shape == (seeds, g.n) and got.dtype == np.dtype(dtype)
    assert got.flags.f_contiguous  # the result is seeds-last either way
    tol = 1e-12 if dtype == "float64" else 2e-5
    ref = A.astype("float64") @ J
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * max(1.0, np.abs(ref).max()))
    if block == BLOCK_ELEMENTS:  # the method uses the default block
        np.testing.assert_array_equal(conv.vjp(None, A), got)


@settings(max_examples=25, deadline=None)
@given(geo=geometries, seed=st.integers(0, 10_000))
def test_vjp_against_finite_differences_of_the_forward_pass(geo, seed):
    rng = np.random.default_rng(seed)
    g = ConvGeometry(*geo)
    conv = Conv2d.random(g, rng)
    x = rng.standard_normal(g.n)
    A = rng.standard_normal((3, g.m))
    AJ = conv_vjp(g, conv._kmat_offsets, A, block=50)
    # (A J) t against the central difference of A f(x) along random directions t
    for t in rng.standard_normal((2, g.n)):
        fd = central_difference(lambda xs: [A @ conv.forward(xs[0])[0]], [x], [t], 1e-5)[0]
        np.testing.assert_allclose(AJ @ t, fd, rtol=1e-7, atol=1e-7)


def test_blocks_cover_the_seeds_and_respect_the_budget():
    g = ConvGeometry(1, 28, 28, 4, 3, 3, 2, 2)
    assert adjoint_block(g, 10) == 10  # fewer seeds than a block holds
    b = adjoint_block(g, 10_000)
    assert 1 <= b < 10_000
    assert adjoint_block(g, 5, block=1) == 1  # never 0 seeds
    # seeds-last: bands of output rows over all seeds, at least one row; two slots of planes
    assert band_rows(g, 10) == 13 and band_rows(g, 10_000) == 1
    assert band_rows(ConvGeometry(1, 28, 28, 4, 3, 3), 10_000) == 2  # th - 1 rows, stride 1
    wq = 14
    assert banded_workspace(g, 10_000) == 2 * 9 * 1 * wq * 10_000
    assert adjoint_workspace(g, 10_000) == banded_workspace(g, 10_000)
    assert adjoint_workspace(g, 100) <= BLOCK_ELEMENTS  # both forms fit the budget


@pytest.mark.parametrize(
    ("geo", "seeds"),
    [
        ((8, 26, 26, 16, 3, 3, 2, 2, 0, 0), 20),
        ((8, 26, 26, 16, 3, 3, 2, 2, 1, 1), 60),
        ((1, 28, 28, 4, 3, 3, 2, 2, 0, 0), 207),  # two blocks
        ((1, 28, 28, 4, 3, 3, 1, 1, 0, 0), 81),  # three blocks, stride 1
        ((3, 24, 24, 8, 3, 3, 2, 2, 0, 0), 300),
        ((1, 32, 32, 8, 3, 3, 2, 2, 0, 0), 131),
    ],
)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("seeds_last", [False, True])
def test_workspace_model_matches_traced_memory(geo, seeds, dtype, seeds_last):
    rng = np.random.default_rng(3)
    g = ConvGeometry(*geo)
    conv = Conv2d.random(g, rng, dtype=dtype)
    A = rng.standard_normal((seeds, g.m)).astype(dtype)
    if seeds_last:
        A = np.asfortranarray(A)
    itemsize = np.dtype(dtype).itemsize
    predicted = itemsize * (g.n * seeds + conv.workspace("adjoint", seeds))
    measured = peak_memory(lambda: conv.vjp(None, A)).peak_bytes
    assert abs(measured / predicted - 1) < 0.01, (measured, predicted)
    assert conv.workspace("adjoint", seeds) == adjoint_workspace(g, seeds)
