"""Elementals (dense, elementwise, conv1d/conv2d): JVP/VJP against the dense Jacobian, central
finite differences, the adjoint identity, a direct loop convolution, and the workspace model."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainorder.errors import SpecError
from chainorder.gradcheck import central_difference
from chainorder.matfree.conv import Conv1d, Conv2d, ConvGeometry, conv_output_size
from chainorder.matfree.elementals import Dense, Elemental, Elementwise
from chainorder.measure import peak_memory
from chainorder.nets import ACTIVATIONS


def _loop_conv(c: Conv2d, x: np.ndarray) -> np.ndarray:
    g = c.geometry
    X = np.pad(x.reshape(g.channels, g.height, g.width), ((0, 0), (g.ph, g.ph), (g.pw, g.pw)))
    Y = np.zeros((g.filters, g.out_height, g.out_width))
    for f in range(g.filters):
        for i in range(g.out_height):
            for j in range(g.out_width):
                win = X[:, i * g.sh : i * g.sh + g.kh, j * g.sw : j * g.sw + g.kw]
                Y[f, i, j] = (c.kernel[f] * win).sum() + c.bias[f]
    return Y.ravel()


def _check(layer, x, rng, s=3, tol=1e-6):
    y, tape = layer.forward(x)
    m, n = layer.shape
    assert y.shape == (m,)
    J = layer.jacobian(tape)
    assert J.shape == (m, n)
    T = rng.standard_normal((n, s))
    A = rng.standard_normal((s, m))
    JT, AJ = layer.jvp(tape, T), layer.vjp(tape, A)
    assert JT.shape == (m, s) and AJ.shape == (s, n)
    np.testing.assert_allclose(JT, J @ T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(AJ, A @ J, rtol=1e-12, atol=1e-12)
    # adjoint identity <A, J T> = <A J, T>
    assert np.isclose(np.sum(A * JT.T), np.sum(AJ * T.T), rtol=1e-10)
    # central finite differences of the forward pass along each tangent column
    for k in range(s):
        fd = central_difference(lambda xs: [layer.forward(xs[0])[0]], [x], [T[:, k]], 1e-6)[0]
        np.testing.assert_allclose(JT[:, k], fd, rtol=tol, atol=tol)


def test_dense_and_elementwise_against_references():
    rng = np.random.default_rng(0)
    _check(Dense.random(5, 4, rng), rng.standard_normal(4), rng)
    for name in ACTIVATIONS:
        x = rng.uniform(0.2, 1.5, 6) * rng.choice([-1.0, 1.0], 6)
        if name == "relu":
            x = x + np.sign(x) * 0.1  # stay off the kink
        _check(Elementwise(name, 6), x, rng, tol=1e-5)
    _check(Elementwise.random("diag", 4, rng), rng.standard_normal(4), rng)


def test_elementals_satisfy_the_protocol():
    rng = np.random.default_rng(0)
    layers = [
        Dense.random(2, 3, rng),
        Elementwise("tanh", 3),
        Conv2d.random(ConvGeometry(1, 4, 4, 2, 3, 3), rng),
        Conv1d.create(2, 6, 3, 3),
    ]
    assert all(isinstance(layer, Elemental) for layer in layers)
    assert [layer.tape_elements for layer in layers] == [0, 3, 0, 0]


@settings(max_examples=25, deadline=None)
@given(
    c=st.integers(1, 3),
    h=st.integers(1, 7),
    w=st.integers(1, 7),
    f=st.integers(1, 3),
    kh=st.integers(1, 3),
    kw=st.integers(1, 3),
    sh=st.integers(1, 3),
    sw=st.integers(1, 3),
    ph=st.integers(0, 2),
    pw=st.integers(0, 2),
    seed=st.integers(0, 1000),
)
def test_conv2d_against_loops_jacobian_and_finite_differences(
    c, h, w, f, kh, kw, sh, sw, ph, pw, seed
):
    if h + 2 * ph < kh or w + 2 * pw < kw:
        with pytest.raises(SpecError):
            ConvGeometry(c, h, w, f, kh, kw, sh, sw, ph, pw)
        return
    rng = np.random.default_rng(seed)
    g = ConvGeometry(c, h, w, f, kh, kw, sh, sw, ph, pw)
    conv = Conv2d.random(g, rng)
    x = rng.standard_normal(g.n)
    np.testing.assert_allclose(conv.forward(x)[0], _loop_conv(conv, x), atol=1e-12)
    _check(conv, x, rng, s=2)


def test_conv1d_is_conv2d_with_height_one():
    rng = np.random.default_rng(1)
    conv = Conv1d.create(3, 11, 2, 4, stride=2, padding=1, rng=rng)
    assert conv.kind == "conv1d"
    assert conv.shape == (2 * conv_output_size(11, 4, 2, 1), 33)
    x = rng.standard_normal(33)
    np.testing.assert_allclose(conv.forward(x)[0], _loop_conv(conv, x), atol=1e-12)
    _check(conv, x, rng)


@pytest.mark.parametrize("padding", [0, 1])
@pytest.mark.parametrize("seeds", [20, 60])
def test_conv_workspace_model_matches_traced_memory(padding, seeds):
    rng = np.random.default_rng(2)
    g = ConvGeometry(8, 26, 26, 16, 3, 3, 2, 2, padding, padding)
    conv = Conv2d.random(g, rng)
    T = rng.standard_normal((g.n, seeds))
    A = rng.standard_normal((seeds, g.m))
    for direction, call, result in (
        ("tangent", lambda: conv.jvp(None, T), g.m * seeds),
        ("adjoint", lambda: conv.vjp(None, A), g.n * seeds),
    ):
        predicted = 8 * (result + conv.workspace(direction, seeds))
        measured = peak_memory(call).peak_bytes
        assert abs(measured / predicted - 1) < 0.02, (direction, measured, predicted)


def test_bad_layers_raise_spec_errors():
    with pytest.raises(SpecError, match="does not fit"):
        ConvGeometry(1, 2, 2, 1, 5, 5)
    with pytest.raises(SpecError, match="stride"):
        conv_output_size(5, 3, 0, 0)
    with pytest.raises(SpecError, match="unknown elementwise"):
        Elementwise("wobble", 3)
    with pytest.raises(SpecError, match="scales"):
        Elementwise("diag", 3)
    with pytest.raises(SpecError, match="dense layer"):
        Dense(np.ones((2, 3)), np.ones(3))
    with pytest.raises(SpecError, match="do not fit"):
        Conv2d(ConvGeometry(1, 3, 3, 1, 2, 2), np.ones((1, 1, 3, 3)), np.ones(1))
