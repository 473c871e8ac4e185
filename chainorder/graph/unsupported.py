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
from chainorder.graph.ops import REGISTRY

__all__ = ["METHODS", "nearest_supported", "supported_summary", "unsupported", "user_line"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NUMPY_DIR = os.path.dirname(os.path.abspath(np.__file__))

#: Methods and attributes of a traced array (spelt as user code writes them).
METHODS = ("x.T", "x.sum()", "x.mean()", "x.transpose()", "x.reshape()", "x.dot()")


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
    >>> nearest_supported("max")
    ['np.maximum', 'np.mean', 'np.matmul']
    >>> nearest_supported("arctan")[0]
    'np.tanh'

    Notes
    -----
    O(R) string comparisons for R registered ops (:func:`difflib.get_close_matches`).
    """
    cands = _candidates()
    bare = name.rsplit(".", 1)[-1].removesuffix("()")
    close = difflib.get_close_matches(bare, list(cands), n=n, cutoff=0.0)
    out: list[str] = []
    for c in close:
        if cands[c] not in out:
            out.append(cands[c])
    return out


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
    return f"+ - * / ** @ and abs(), {ops}; methods {', '.join(METHODS)}"


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
    >>> msg = str(unsupported("np.amax", "amax"))
    >>> msg.split(";")[1]
    ' nearest supported: np.maximum, np.mean, np.matmul'

    Notes
    -----
    O(R + stack depth).
    """
    near = f"; nearest supported: {', '.join(nearest_supported(name))}" if name else ""
    return UnsupportedOperationError(
        f"unsupported operation {what} at {user_line()}{near}; chainorder traces "
        + supported_summary()
    )
