"""``check_grads``: test the JVP and VJP of a traced NumPy function against finite differences.

Modelled on autograd's ``test_util.check_grads``: the forward mode derivative along a random
direction ``v`` is compared with the central difference ``(f(x + εv) − f(x − εv)) / 2ε``,
and the reverse mode derivative with the same difference through the identity
``⟨u, J v⟩ = ⟨Jᵀ u, v⟩`` for a random cotangent ``u``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainorder.checks import as_nonnegative_int, as_positive_float
from chainorder.errors import JacobianMismatchError, UnknownSolverError

__all__ = ["central_difference", "check_grads"]


def central_difference(
    fn: Callable[[Sequence[np.ndarray]], list[np.ndarray]],
    x: Sequence[np.ndarray],
    v: Sequence[np.ndarray],
    eps: float = 1e-6,
) -> list[np.ndarray]:
    """Directional derivative of ``fn`` at ``x`` along ``v`` by a central difference.

    Parameters
    ----------
    fn : callable
        Maps a list of input arrays to a list of output arrays.
    x, v : sequence of arrays
        Point and direction, one array per input.
    eps : float
        Step.

    Returns
    -------
    list of arrays
        ``(fn(x + eps·v) − fn(x − eps·v)) / (2·eps)``, one per output.

    Examples
    --------
    >>> central_difference(lambda xs: [xs[0] ** 2], [np.array(3.0)], [np.array(1.0)])[0].round(6)
    np.float64(6.0)

    Notes
    -----
    Two evaluations of ``fn``; error O(eps²) plus rounding O(machine eps / eps).
    """
    plus = fn([xi + eps * vi for xi, vi in zip(x, v, strict=True)])
    minus = fn([xi - eps * vi for xi, vi in zip(x, v, strict=True)])
    return [(p - q) / (2 * eps) for p, q in zip(plus, minus, strict=True)]


def check_grads(
    fn: Callable[..., Any],
    *args: Any,
    modes: Sequence[str] = ("fwd", "rev"),
    wrt: Sequence[int | str] | None = None,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    seed: int = 0,
) -> None:
    """Check forward- and reverse-mode derivatives of ``fn`` at ``args``.

    ``fn`` is traced with :func:`chainorder.graph.trace`; its JVP along a random direction
    and its VJP of a random cotangent are compared with central finite differences of the
    original ``fn``.

    Parameters
    ----------
    fn : callable
        Plain NumPy function returning an array or a tuple of arrays.
    *args
        Point at which to check.
    modes : sequence of {"fwd", "rev"}
        Which derivatives to check.
    wrt : sequence of int or str, optional
        Arguments to differentiate (default: every numeric argument).
    eps : float
        Finite-difference step.
    rtol, atol : float
        Tolerances of the comparison, relative to the size of the finite difference.
    seed : int
        Seed of the random directions.

    Raises
    ------
    JacobianMismatchError
        If a derivative disagrees with finite differences beyond tolerance.
    UnknownSolverError
        A mode other than ``"fwd"`` and ``"rev"``.
    SpecError, SpecTypeError
        A negative or non-finite tolerance, a step that is not positive, a negative seed.
    UnsupportedOperationError, TraceError
        If ``fn`` cannot be traced.

    Examples
    --------
    >>> check_grads(lambda x: np.tanh(x) * np.exp(x), np.array([0.1, -0.3]))
    >>> check_grads(lambda x, W: W @ np.sin(x), np.ones(2), np.ones((3, 2)))

    Notes
    -----
    One trace, one JVP, one VJP and two evaluations of ``fn``: O(cost of fn).
    """
    from chainorder.graph.sweep import jvp, vjp
    from chainorder.graph.trace import trace

    modes = _check_modes(modes)
    eps = as_positive_float(eps, "eps")
    rtol = as_positive_float(rtol, "rtol", allow_zero=True)
    atol = as_positive_float(atol, "atol", allow_zero=True)
    seed = as_nonnegative_int(seed, "seed")
    graph = trace(fn, *args, wrt=wrt)
    rng = np.random.default_rng(seed)
    x = [np.asarray(graph.value(name), dtype=float) for name in graph.inputs]
    v = [rng.standard_normal(xi.shape) for xi in x]
    fd = central_difference(lambda xs: graph.call(*xs), x, v, eps)
    scale = max(1.0, max(float(np.abs(d).max(initial=0.0)) for d in fd))
    if "fwd" in modes:
        ad = jvp(graph, [vi[None] for vi in v])
        for k, (a, d) in enumerate(zip(ad, fd, strict=True)):
            a = a[0]
            err = float(np.abs(a - d).max(initial=0.0))
            if err > atol + rtol * scale:
                raise JacobianMismatchError(
                    f"forward mode (JVP) of output {k} differs from central differences: "
                    f"max |error| {err:.3g} > {atol + rtol * scale:.3g} (eps={eps})"
                )
    if "rev" in modes:
        u = [rng.standard_normal(graph.shape(y)) for y in graph.outputs]
        grads = vjp(graph, [ui[None] for ui in u])
        lhs = sum(float(np.vdot(gi[0], vi)) for gi, vi in zip(grads, v, strict=True))
        rhs = sum(float(np.vdot(ui, di)) for ui, di in zip(u, fd, strict=True))
        tol = atol + rtol * max(1.0, abs(rhs), scale * sum(float(np.abs(ui).sum()) for ui in u))
        if abs(lhs - rhs) > tol:
            raise JacobianMismatchError(
                f"reverse mode (VJP): <vjp(u), v> = {lhs:.10g} but <u, finite difference> = "
                f"{rhs:.10g}; |difference| {abs(lhs - rhs):.3g} > {tol:.3g} (eps={eps})"
            )


_MODES = ("fwd", "rev")


def _check_modes(modes: object) -> tuple[str, ...]:
    """``modes`` as a tuple of known mode names; :class:`UnknownSolverError` otherwise."""
    if isinstance(modes, str):
        modes = (modes,)
    if not isinstance(modes, Sequence | set | frozenset) or not modes:
        raise UnknownSolverError(
            f"modes must be a non-empty list of 'fwd' and/or 'rev', got {_shown(modes)}"
        )
    bad = sorted({_shown(m) for m in modes if not isinstance(m, str) or m not in _MODES})
    if bad:
        raise UnknownSolverError(f"unknown modes {', '.join(bad)}; expected 'fwd' and/or 'rev'")
    return tuple(modes)


def _shown(value: object) -> str:
    """A short one-line rendering of a value for an error message."""
    text = repr(value) if isinstance(value, str | int | float | list | tuple | None) else ""
    if not text or "\n" in text or len(text) > 60:
        return f"a {type(value).__name__}"
    return text
