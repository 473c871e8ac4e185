"""The convolution JVP (chainorder.matfree.conv_tangent): against the explicit Jacobian built
from a loop convolution and central finite differences, over random geometries, band sizes and
dtypes; its workspace model against tracemalloc."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_matfree_conv_adjoint import _loop_jacobian, geometries

from chainorder.gradcheck import central_difference
from chainorder.matfree.conv import Conv2d, ConvGeometry
from chainorder.matfree.conv_tangent import (
    BAND_ELEMENTS,
    conv_jvp,
    tangent_band,
    tangent_tile,
    tangent_workspace,
)
from chainorder.measure import peak_memory


@settings(max_examples=60, deadline=None)
@given(
    geo=geometries,
    seeds=st.integers(1, 9),
    block=st.sampled_from([1, 37, 400, BAND_ELEMENTS]),
    dtype=st.sampled_from(["float64", "float32"]),
    seed=st.integers(0, 10_000),
    seeds_first=st.booleans(),
)
def test_jvp_equals_explicit_jacobian_product(geo, seeds, block, dtype, seed, seeds_first):
    rng = np.random.default_rng(seed)
    g = ConvGeometry(*geo)
    conv = Conv2d.random(g, rng, dtype=dtype)
    T = rng.standard_normal((g.n, seeds)).astype(dtype)
    if seeds_first:  # e.g. an adjoint sweep's result as a tangent sweep's start
        T = np.asfortranarray(T)
    got = conv_jvp(g, conv._kmat, T, block=block)
    assert got.shape == (g.m, seeds) and got.dtype == np.dtype(dtype)
    assert got.flags.c_contiguous
    tol = 1e-12 if dtype == "float64" else 2e-5
    ref = _loop_jacobian(conv) @ T.astype("float64")
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * max(1.0, np.abs(ref).max()))
    if block == BAND_ELEMENTS:  # the method uses the default band
        np.testing.assert_array_equal(conv.jvp(None, T), got)


@settings(max_examples=25, deadline=None)
@given(geo=geometries, seed=st.integers(0, 10_000))
def test_jvp_against_finite_differences_of_the_forward_pass(geo, seed):
    rng = np.random.default_rng(seed)
    g = ConvGeometry(*geo)
    conv = Conv2d.random(g, rng)
    x = rng.standard_normal(g.n)
    T = rng.standard_normal((g.n, 3))
    JT = conv_jvp(g, conv._kmat, T, block=20)
    for k in range(3):
        fd = central_difference(lambda xs: [conv.forward(xs[0])[0]], [x], [T[:, k]], 1e-5)[0]
        np.testing.assert_allclose(JT[:, k], fd, rtol=1e-7, atol=1e-7)


def test_bands_cover_the_rows_and_respect_the_budget():
    g = ConvGeometry(1, 28, 28, 4, 3, 3, 2, 2)
    assert tangent_band(g, 1) == g.out_height  # one band holds every row
    assert tangent_band(g, 784) == 1  # one row is already above the budget
    r = tangent_band(g, 50)
    assert 1 < r < g.out_height
    assert tangent_workspace(g, 50) <= BAND_ELEMENTS < g.patch * (r + 1) * g.out_width * 50
    assert tangent_band(g, 5, block=1) == 1  # never 0 rows
    # past one row per band, rows are cut into runs of output columns (9·9·784 ≤ 2^16)
    assert tangent_tile(g, 784) == (1, 9) and tangent_tile(g, 50) == (r, g.out_width)
    assert tangent_workspace(g, 784) == 9 * 9 * 784 <= BAND_ELEMENTS
    assert tangent_tile(g, 5, block=1) == (1, 1)


@pytest.mark.parametrize(
    ("geo", "seeds"),
    [
        ((8, 26, 26, 16, 3, 3, 2, 2, 0, 0), 20),
        ((8, 26, 26, 16, 3, 3, 2, 2, 1, 1), 60),
        ((1, 28, 28, 4, 3, 3, 2, 2, 0, 0), 784),  # one row per band, cut into 9 columns
        ((3, 24, 24, 8, 3, 3, 2, 2, 1, 1), 1728),  # tiles of one output pixel, padded
        ((1, 28, 28, 4, 3, 3, 1, 1, 0, 0), 81),
        ((3, 24, 24, 8, 3, 3, 2, 2, 0, 0), 300),
        ((1, 32, 32, 8, 3, 3, 2, 2, 0, 0), 10),  # one band
    ],
)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("seeds_first", [False, True])
def test_workspace_model_matches_traced_memory(geo, seeds, dtype, seeds_first):
    rng = np.random.default_rng(3)
    g = ConvGeometry(*geo)
    conv = Conv2d.random(g, rng, dtype=dtype)
    T = rng.standard_normal((g.n, seeds)).astype(dtype)
    if seeds_first:  # read through a transposed view: no copy of the block
        T = np.asfortranarray(T)
    itemsize = np.dtype(dtype).itemsize
    predicted = itemsize * (g.m * seeds + conv.workspace("tangent", seeds))
    measured = peak_memory(lambda: conv.jvp(None, T)).peak_bytes
    # within 1 %, or a few KiB of Python objects (views, shapes) on the smallest cases
    assert abs(measured - predicted) < max(0.01 * predicted, 4096), (measured, predicted)
    assert conv.workspace("tangent", seeds) == tangent_workspace(g, seeds)
