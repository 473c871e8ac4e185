"""JAX's layout of a Jacobian: the ``m × n`` matrix (outputs flattened and concatenated by
rows, differentiated inputs by columns) cut into one block per output and input, each of
shape ``out.shape + in.shape``.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["split_jacobian"]


def split_jacobian(
    jac: Any,
    out_shapes: list[tuple[int, ...]],
    in_shapes: list[tuple[int, ...]],
    tuple_out: bool,
    tuple_in: bool,
) -> Any:
    """The blocks of ``jac`` as JAX's ``jacfwd`` / ``jacrev`` return them.

    Parameters
    ----------
    jac : array
        ``m × n``: rows the outputs (flattened, concatenated), columns the inputs.
    out_shapes, in_shapes : list of tuple of int
        Shapes of the outputs and of the differentiated inputs.
    tuple_out : bool
        The function returns a tuple: a tuple over outputs is returned.
    tuple_in : bool
        ``argnums`` is a tuple: each output's entry is a tuple over inputs.

    Returns
    -------
    array, tuple of arrays, or tuple of tuples of arrays
        Block ``(k, j)`` has shape ``out_shapes[k] + in_shapes[j]``.

    Examples
    --------
    >>> import numpy as np
    >>> J = np.arange(6.0).reshape(2, 3)
    >>> a, b = split_jacobian(J, [(2,)], [(1,), (2,)], False, True)
    >>> a.shape, b.tolist()
    ((2, 1), [[1.0, 2.0], [4.0, 5.0]])

    Notes
    -----
    O(number of blocks); the blocks are views of ``jac`` where the reshape allows.
    """
    rows = _offsets(out_shapes)
    cols = _offsets(in_shapes)
    per_out = []
    for (r0, r1), so in zip(rows, out_shapes, strict=True):
        blocks = tuple(
            jac[r0:r1, c0:c1].reshape(so + si) for (c0, c1), si in zip(cols, in_shapes, strict=True)
        )
        per_out.append(blocks if tuple_in else blocks[0])
    return tuple(per_out) if tuple_out else per_out[0]


def _offsets(shapes: list[tuple[int, ...]]) -> list[tuple[int, int]]:
    out, start = [], 0
    for s in shapes:
        n = math.prod(s)
        out.append((start, start + n))
        start += n
    return out
