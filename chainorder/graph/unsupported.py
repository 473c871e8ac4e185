"""The one-line error for an operation the tracer has no rule for.

The message is built from the op registry (:data:`chainorder.graph.ops.REGISTRY`): it names the
operation, the user's line that used it and the nearest supported operations (by
:func:`difflib.get_close_matches` over the registry's names), then lists what is traced.
"""

from __future__ import annotations

import difflib
import linecache
import os
import sys

import numpy as np

from chainorder.errors import UnsupportedOperationError
from chainorder.graph.ops import REGISTRY, ZERO_DERIVATIVE

__all__ = [
    "ALIASES",
    "METHODS",
    "nearest_supported",
    "supported_summary",
    "unsupported",
    "user_line",
]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NUMPY_DIR = os.path.dirname(os.path.abspath(np.__file__))

#: Methods and attributes of a traced array (spelt as user code writes them).
METHODS = (
    "x.T", "x.sum()", "x.mean()", "x.prod()", "x.max()", "x.min()", "x.var()", "x.std()",
    "x.cumsum()", "x.cumprod()", "x.transpose()", "x.reshape()", "x.ravel()", "x.flatten()",
    "x.dot()", "x.squeeze()", "x.swapaxes()", "x.clip()", "x.copy()", "x.astype()",
    "x.take()", "x.repeat()", "x.diagonal()", "x.trace()", "x.round()", "x.argmax()",
    "x.argmin()", "x.argsort()", "x.nonzero()", "x.all()", "x.any()",
)  # fmt: skip

#: Unsupported names → the registry ops that express them (beyond spelling similarity).
ALIASES: dict[str, tuple[str, ...]] = {
    "nanmax": ("max", "where"), "nanmin": ("min", "where"), "nansum": ("sum", "where"),
    "nanmean": ("mean", "where"), "ptp": ("max", "min"), "median": ("sort", "take"),
    "percentile": ("sort", "take"), "quantile": ("sort", "take"), "logsumexp": ("max", "exp"),
    "fmax": ("maximum",), "fmin": ("minimum",), "fabs": ("absolute",), "average": ("mean",),
    "inner": ("dot", "einsum"), "vdot": ("dot",), "tensordot": ("einsum",),
    "kron": ("einsum", "reshape"), "cross": ("getitem", "multiply"),
    "dstack": ("stack", "concatenate"), "column_stack": ("stack", "concatenate"),
    "atleast_1d": ("reshape",), "atleast_2d": ("expand_dims",), "atleast_3d": ("expand_dims",),
    "arctanh": ("log1p",), "arccosh": ("log", "sqrt"), "sinc": ("sin", "divide"),
    "fill": ("where",), "put": ("where",), "put_along_axis": ("where",), "place": ("where",),
    "partition": ("sort",), "lstsq": ("solve",), "pinv": ("solve", "inv"), "eigh": ("cholesky",),
    "matrix_power": ("matmul",), "multi_dot": ("matmul", "einsum"), "logdet": ("slogdet",),
    "heaviside": ("where",), "interp": ("take", "where"), "diff": ("getitem", "subtract"),
    "ediff1d": ("getitem", "subtract"), "convolve": ("einsum", "pad"), "rot90": ("flip",),
    "fliplr": ("flip",), "flipud": ("flip",), "resize": ("tile", "reshape"),
}  # fmt: skip


def user_line() -> str:
    """``file:line: code`` of the innermost frame outside chainorder and NumPy.

    Examples
    --------
    >>> user_line().startswith("<doctest")
    True

    Notes
    -----
    O(stack depth).
    """
    frame = sys._getframe(1)
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        inside = path.startswith(_PACKAGE_DIR + os.sep) and not path.startswith(
            os.path.join(_PACKAGE_DIR, "tests")
        )
        if not inside and not path.startswith(_NUMPY_DIR + os.sep):
            code = linecache.getline(path, frame.f_lineno).strip()
            return f"{os.path.basename(path)}:{frame.f_lineno}" + (f": {code}" if code else "")
        frame = frame.f_back
    return "<unknown>"  # pragma: no cover


def _candidates() -> dict[str, str]:
    """Bare name → how user code writes it, for every registered op and traced method."""
    out = {name: rule.api for name, rule in REGISTRY.items()}
    for m in METHODS:
        out.setdefault(m[2:].removesuffix("()"), m)
    out["abs"] = "abs(x) / np.abs"
    return out


def nearest_supported(name: str, n: int = 3) -> list[str]:
    """The ``n`` supported operations whose names are closest to ``name``.

    Examples
    --------
    >>> nearest_supported("nanmax")
    ['np.max / np.amax / x.max()', 'np.where', 'x.argmax()']
    >>> nearest_supported("arctanh")[0]
    'np.log1p'

    Notes
    -----
    O(R) string comparisons for R registered ops (:func:`difflib.get_close_matches`).
    """
    cands = _candidates()
    bare = name.rsplit(".", 1)[-1].removesuffix("()")
    close = [a for a in ALIASES.get(bare, ()) if a in cands]
    close += difflib.get_close_matches(bare, list(cands), n=n, cutoff=0.0)
    out: list[str] = []
    for c in close:
        if cands[c] not in out:
            out.append(cands[c])
    return out[:n]


def supported_summary() -> str:
    """Everything the tracer records, from the registry: operators, ops and methods.

    Examples
    --------
    >>> "np.linalg.solve" in supported_summary()
    True

    Notes
    -----
    O(R).
    """
    ops = ", ".join(rule.api for rule in REGISTRY.values())
    zero = ", ".join(ZERO_DERIVATIVE.values())
    return (
        f"+ - * / ** @ and abs(), {ops}; methods {', '.join(METHODS)}; "
        f"with zero derivative: {zero}"
    )


def unsupported(what: str, name: str | None = None) -> UnsupportedOperationError:
    """The :class:`UnsupportedOperationError` for ``what`` at the user's current line.

    Parameters
    ----------
    what : str
        The operation as the user wrote it, e.g. ``"np.sort"`` or ``"x.ravel()"``.
    name : str, optional
        Its bare name, to suggest the nearest supported operations; no suggestion when
        omitted (e.g. for ``if`` on a traced value, which has no alternative op).

    Examples
    --------
    >>> msg = str(unsupported("np.ptp", "ptp"))
    >>> msg.split(";")[1]
    ' nearest supported: np.max / np.amax / x.max(), np.min / np.amin / x.min(), np.hypot'

    Notes
    -----
    O(R + stack depth).
    """
    near = f"; nearest supported: {', '.join(nearest_supported(name))}" if name else ""
    return UnsupportedOperationError(
        f"unsupported operation {what} at {user_line()}{near}; chainorder traces "
        + supported_summary()
    )
