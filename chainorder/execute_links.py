"""Link checks and the four product kernels shared by every executor (NumPy, CuPy, Dask).

Products by structure (never densifying a diagonal): dense·dense ``A @ B``; diagonal·dense
``d[:, None] * B``; dense·diagonal ``A * d[None, :]``; diagonal·diagonal ``a * b``. The
same expressions build a lazy graph when the operands are ``dask.array`` arrays.

Examples
--------
>>> import numpy as np
>>> from chainorder.chain import Structure
>>> k = product_kind(Structure.DIAGONAL, Structure.DENSE)
>>> multiply(k, np.array([1.0, 2.0]), np.ones((2, 2))).tolist()
[[1.0, 1.0], [2.0, 2.0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainorder.chain import Chain, Structure
from chainorder.errors import ExecutionError

__all__ = [
    "DD",
    "DG",
    "GD",
    "GG",
    "check_link",
    "link_label",
    "multiply",
    "multiply_stored",
    "product_kind",
]

# product kinds: (left structure, right structure); D dense, G diagonal
DD, GD, DG, GG = 0, 1, 2, 3


def product_kind(left: Structure, right: Structure) -> int:
    """The kernel code of ``left · right`` (:data:`DD`, :data:`GD`, :data:`DG` or :data:`GG`).

    Examples
    --------
    >>> product_kind(Structure.DENSE, Structure.DENSE) == DD
    True

    Notes
    -----
    O(1).
    """
    if left is Structure.DIAGONAL:
        return GG if right is Structure.DIAGONAL else GD
    return DG if right is Structure.DIAGONAL else DD


def multiply(kind: int, a: Any, b: Any) -> Any:
    """``a · b`` for the structures coded by ``kind`` (see the module notes).

    Examples
    --------
    >>> import numpy as np
    >>> multiply(GG, np.array([2.0]), np.array([3.0])).tolist()
    [6.0]

    Notes
    -----
    The arithmetic of one product node: ``m·k·n`` mults dense·dense, ``m·n`` with a diagonal.
    """
    if kind == DD:
        return a @ b
    if kind in (GD, DG) and type(a) is np.ndarray and type(b) is np.ndarray:
        # einsum scales rows / columns without the iterator buffer (up to 8192 elements) that
        # a broadcast product allocates: the memory model counts only the result
        return np.einsum("i,ij->ij", a, b) if kind == GD else np.einsum("ij,j->ij", a, b)
    if kind == GD:
        return a[:, None] * b
    if kind == DG:
        return a * b[None, :]
    return a * b


def multiply_stored(a: Any, b: Any) -> Any:
    """``a · b`` of two stored factors, a diagonal held as its 1-D vector (any array type).

    Examples
    --------
    >>> import numpy as np
    >>> multiply_stored(np.array([2.0, 3.0]), np.ones((2, 2))).tolist()
    [[2.0, 2.0], [3.0, 3.0]]

    Notes
    -----
    As :func:`multiply` for the structures the operands' dimensions show.
    """
    kind = (GD if b.ndim == 2 else GG) if a.ndim == 1 else (DG if b.ndim == 1 else DD)
    return multiply(kind, a, b)


def link_label(chain: Chain, l: int) -> str:
    """``J{l} (link {l}, dense)`` or ``... diagonal ...``: how messages name a link.

    Examples
    --------
    >>> link_label(Chain.from_dims([2, 3]), 1)
    'J1 (link 1, dense)'

    Notes
    -----
    O(1).
    """
    s = chain.structures[l - 1]
    name = chain.names[l - 1]
    if s is Structure.DIAGONAL:
        return (
            f"J{l} (link {l}, diagonal {name})"
            if name != "diagonal"
            else f"J{l} (link {l}, diagonal)"
        )
    return f"J{l} (link {l}, dense)"


def check_link(chain: Chain, dtype: Any, l: int, array: Any, where: str = "") -> None:
    """Shape and dtype of ``J_l``; raises :class:`ExecutionError` naming the link.

    Examples
    --------
    >>> import numpy as np
    >>> try:
    ...     check_link(Chain.from_dims([2, 3]), np.dtype("float64"), 1, np.ones((2, 3)))
    ... except ValueError as exc:
    ...     print(exc)
    J1 (link 1, dense): expected shape (3, 2) = (d_1, d_0), got shape (2, 3)

    Notes
    -----
    O(1).
    """
    rows, cols = chain.dims[l], chain.dims[l - 1]
    if isinstance(array, np.matrix):  # its * is a matrix product: diagonal scaling would break
        raise ExecutionError(
            f"{where}{link_label(chain, l)} is a numpy.matrix; pass a plain array "
            "(numpy.asarray(J))"
        )
    shape = tuple(getattr(array, "shape", ()))
    if chain.structures[l - 1] is Structure.DIAGONAL:
        if shape != (rows,):
            hint = (
                "; pass the diagonal vector, not the dense matrix" if shape == (rows, cols) else ""
            )
            raise ExecutionError(
                f"{where}{link_label(chain, l)}: expected a 1-D diagonal of shape ({rows},) "
                f"= (d_{l},), got shape {shape}{hint}"
            )
    elif shape != (rows, cols):
        raise ExecutionError(
            f"{where}{link_label(chain, l)}: expected shape ({rows}, {cols}) = "
            f"(d_{l}, d_{l - 1}), got shape {shape}"
        )
    if array.dtype != dtype:
        raise ExecutionError(
            f"{where}{link_label(chain, l)} has dtype {array.dtype} but the plan is for "
            f"{dtype.name}; cast the arrays or plan with dtype={array.dtype.name!r}"
        )
