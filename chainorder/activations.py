"""Elementwise activations of :class:`chainorder.nets.MLP`: each a value and a derivative.

Every function takes the array namespace ``xp`` (NumPy or CuPy) and ``x`` and allocates
exactly one array of ``x``'s size (in-place ufuncs with ``out=``), so traced memory matches
:mod:`chainorder.memory`'s streamed model; the one exception is ``gelu`` (tanh
approximation), whose value and derivative use one or two extra temporaries of ``d`` numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["ACTIVATIONS", "Activation"]

_GELU_A = 0.044715
_GELU_C = math.sqrt(2.0 / math.pi)


# activations: value and derivative, each allocating one array (gelu: see module notes) -----
def _tanh(xp: Any, x: Any) -> Any:
    return xp.tanh(x)


def _dtanh(xp: Any, x: Any) -> Any:
    t = xp.tanh(x)
    t *= t
    return xp.subtract(1, t, out=t)


def _relu(xp: Any, x: Any) -> Any:
    return xp.maximum(x, 0)


def _drelu(xp: Any, x: Any) -> Any:
    # sign then max(·, 0): one array, no bool→float casting buffer (greater(out=) holds one)
    out = xp.sign(x)
    return xp.maximum(out, 0, out=out)


def _sigmoid(xp: Any, x: Any) -> Any:  # 0.5 (1 + tanh(x / 2)), overflow-free
    s = xp.multiply(x, 0.5)
    xp.tanh(s, out=s)
    s += 1
    s *= 0.5
    return s


def _dsigmoid(xp: Any, x: Any) -> Any:  # 0.25 (1 - tanh(x / 2)^2)
    t = xp.multiply(x, 0.5)
    xp.tanh(t, out=t)
    t *= t
    xp.subtract(1, t, out=t)
    t *= 0.25
    return t


def _softplus(xp: Any, x: Any) -> Any:  # log(1 + e^x)
    out = xp.exp(x)
    return xp.log1p(out, out=out)


def _gelu(xp: Any, x: Any) -> Any:  # tanh approximation
    t = xp.multiply(x, x)
    t *= _GELU_A
    t += 1
    t *= x
    t *= _GELU_C
    xp.tanh(t, out=t)
    t += 1
    t *= x
    t *= 0.5
    return t


def _dgelu(xp: Any, x: Any) -> Any:
    th = xp.multiply(x, x)
    th *= _GELU_A
    th += 1
    th *= x
    th *= _GELU_C
    xp.tanh(th, out=th)  # th = tanh(u)
    h = xp.multiply(x, x)
    h *= 3 * _GELU_A * _GELU_C
    h += _GELU_C
    h *= x
    h *= 0.5  # h = 0.5 x u'(x)
    sech2 = xp.multiply(th, th)
    xp.subtract(1, sech2, out=sech2)
    h *= sech2
    del sech2
    th += 1
    th *= 0.5
    th += h
    return th


def _sin(xp: Any, x: Any) -> Any:
    return xp.sin(x)


def _cos(xp: Any, x: Any) -> Any:
    return xp.cos(x)


def _dcos(xp: Any, x: Any) -> Any:
    out = xp.sin(x)
    return xp.negative(out, out=out)


def _exp(xp: Any, x: Any) -> Any:
    return xp.exp(x)


def _square(xp: Any, x: Any) -> Any:
    return xp.multiply(x, x)


def _dsquare(xp: Any, x: Any) -> Any:
    return xp.multiply(x, 2)


def _identity(xp: Any, x: Any) -> Any:
    return x.copy()


def _one(xp: Any, x: Any) -> Any:
    return xp.ones_like(x)


#: ``(xp, x) -> array``: an activation's value or derivative.
Activation = Callable[[Any, Any], Any]

#: Elementwise activations of :class:`chainorder.nets.MLP`: name → (value, derivative).
ACTIVATIONS: dict[str, tuple[Activation, Activation]] = {
    "tanh": (_tanh, _dtanh),
    "relu": (_relu, _drelu),
    "sigmoid": (_sigmoid, _dsigmoid),
    "softplus": (_softplus, _sigmoid),
    "gelu": (_gelu, _dgelu),
    "sin": (_sin, _cos),
    "cos": (_cos, _dcos),
    "exp": (_exp, _exp),
    "square": (_square, _dsquare),
    "identity": (_identity, _one),
}
