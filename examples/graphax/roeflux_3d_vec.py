"""graphax task RoeFlux_3d with vector vertices, as graphax writes it.

Source: github.com/jamielohoff/graphax, ``src/graphax/examples/roe.py`` (``RoeFlux_3d``,
gamma = 0.5), at the state of graphax's ``tests/examples/example_test.py``: the momentum is
one 3-vector, with ``concatenate``, slices, ``sum`` and ``dot`` as there. Its traced graph
has the vertices of JAX's jaxpr of the same function (133 intermediates). Under
``convention="graphax"`` (slices / concatenates priced as graphax's index transforms) its
forward and reverse counts are graphax's published ones (see README.md). Needs
``np.concatenate`` in the op registry (the tests and benchmark skip it otherwise).
Published counts (Lohoff & Neftci, AlphaGrad): forward 1556, reverse
979, Markowitz 938, AlphaGrad 811.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ARGS", "GRAPHAX", "fn"]

G = 0.5
ARGS = (
    np.array([0.1]), np.array([0.1, 0.2, 0.3]), np.array([0.5]),
    np.array([0.2]), np.array([0.2, 0.2, 0.4]), np.array([0.6]),
)  # fmt: skip
#: graphax's published mults: forward, reverse, Markowitz, AlphaGrad.
GRAPHAX = (1556, 979, 938, 811)


def _pressure(u0, u, u4):
    return (G - 1.0) * (u4 - 0.5 * np.sum(u**2) / u0)


def _flux(u0, u, v, u4, p):
    v1 = v[0:1]
    p3 = np.concatenate([p, np.zeros(2)])
    return u[0:1], p3 + u * v, v1 * (p + u4)


def fn(ul0, ul, ul4, ur0, ur, ur4):
    """Roe flux (mass (1,), momentum (3,), energy (1,)) between a left and a right state."""
    du0 = ur0 - ul0
    du = ur - ul
    du1, du2, du3 = du[0:1], du[1:2], du[2:]
    du4 = ur4 - ul4
    vl = ul / ul0
    vr = ur / ur0
    w1 = np.sqrt(ul0) + np.sqrt(ur0)
    uvw = (np.sqrt(ul0) * vl + np.sqrt(ur0) * vr) / w1  # Roe averages
    u, v, w = uvw[0:1], uvw[1:2], uvw[2:]
    pl = _pressure(ul0, ul, ul4)
    hl = (ul4 + pl) / ul0
    pr = _pressure(ur0, ur, ur4)
    hr = (ur4 + pr) / ur0
    h = (np.sqrt(ul0) * hl + np.sqrt(ur0) * hr) / w1
    q2 = np.sum(uvw**2)
    a2 = (G - 1.0) * (h - 0.5 * q2)
    a = np.sqrt(a2)
    lp, l, lm = u + a, u, u - a
    c3 = ((G - 1.0) / a2 * ((h - q2) * du0 + np.dot(uvw, du) - du4)) * l
    c2 = (du3 / w - du1) * l
    c1 = (du2 / v - du0) * l
    k1 = du0 - c3
    k2 = (du1 - u * du0) / a
    c0 = 0.5 * (k1 - k2) * lm
    c4 = 0.5 * (k1 + k2) * lp
    fl0, fl, fl4 = _flux(ul0, ul, vl, ul4, pl)
    fr0, fr, fr4 = _flux(ur0, ur, vr, ur4, pr)
    df0 = c0 + c3 + c4 * lp
    df1 = c0 * lm + c3 * u + c4 * lp
    df2 = c0 * v + c1 * v + c3 * v + c4 * v
    df3 = c0 * w + c2 * w + c3 * w + c4 * w
    df4 = c0 * (h - u * a) + c1 * v**2 + c2 * w**2 + c3 * 0.5 * q2 + c4 * (h + u * a)
    df = np.concatenate([df1, df2, df3])
    return 0.5 * (fl0 + fr0 - df0), 0.5 * (fl + fr - df), 0.5 * (fl4 + fr4 - df4)
