"""Checks of a distributed Jacobian against NumPy: exact for small chains, a blockwise probe
for large ones (no whole link or product is ever gathered into this process).

Examples
--------
>>> import numpy as np, dask.array as da
>>> A, B = da.ones((3, 2), chunks=2), da.ones((4, 3), chunks=2)
>>> exact_difference(B @ A, [A, B]), probe_difference(B @ A, [A, B]) < 1e-15
(0.0, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["EXACT_CHECK_BYTES", "PROBE_VECTORS", "exact_difference", "probe_difference"]

#: Chains whose result and links total at most this are checked entry by entry in NumPy.
EXACT_CHECK_BYTES = 64 * 2**20

#: Columns of the random probe ``V`` for larger results.
PROBE_VECTORS = 4


def _to_2d(array: Any) -> Any:
    return array if array.ndim == 2 else array[:, None]


def exact_difference(result: Any, jacobians: Sequence[Any]) -> float:
    """Normwise relative difference of ``result`` from NumPy's forward product of the links.

    Examples
    --------
    >>> import dask.array as da
    >>> Js = [da.ones((3, 4), chunks=2), da.ones((2, 3), chunks=2)]
    >>> exact_difference(Js[1] @ Js[0], Js) < 1e-15
    True

    Notes
    -----
    Fetches every link and the result: for small chains only.
    """
    ref: np.ndarray | None = None
    for J in jacobians:
        block = np.asarray(J.compute())
        if ref is None:
            ref = np.diag(block) if block.ndim == 1 else block
        else:
            ref = block[:, None] * ref if block.ndim == 1 else block @ ref
    got = np.asarray(result.compute())
    scale = float(np.abs(ref).max()) if ref is not None and ref.size else 0.0
    return float(np.abs(got - ref).max()) / scale if scale else float(np.abs(got).max())


def _apply_blockwise(J: Any, W: np.ndarray) -> np.ndarray:
    """``J @ W`` in NumPy, fetching one block of the dask array ``J`` at a time."""
    if J.ndim == 1:
        return np.asarray(J.compute())[:, None] * W
    out = np.zeros((J.shape[0], W.shape[1]), dtype=np.result_type(J.dtype, W.dtype))
    rows = np.cumsum((0, *J.chunks[0]))
    cols = np.cumsum((0, *J.chunks[1]))
    for i in range(len(J.chunks[0])):
        for j in range(len(J.chunks[1])):
            block = np.asarray(J.blocks[i, j].compute())
            out[rows[i] : rows[i + 1]] += block @ W[cols[j] : cols[j + 1]]
    return out


def probe_difference(
    result: Any, jacobians: Sequence[Any], seed: int = 0, k: int = PROBE_VECTORS
) -> float:
    """Normwise relative difference of ``result @ V`` from ``J_L(⋯(J_1 V))`` in NumPy.

    ``V`` is a seeded ``d_0 × k`` standard normal matrix; the reference applies the links one
    fetched block at a time, so no whole link or product is held in this process.

    Examples
    --------
    >>> import dask.array as da
    >>> Js = [da.random.default_rng(0).standard_normal((30, 40), chunks=16),
    ...       da.random.default_rng(1).standard_normal((20, 30), chunks=16)]
    >>> probe_difference(Js[1] @ Js[0], Js) < 1e-14
    True

    Notes
    -----
    ``O(Σ d_l·d_{l-1}·k)`` flops here, plus ``d_L·d_0·k`` on the cluster.
    """
    V = np.random.default_rng(seed).standard_normal((jacobians[0].shape[-1], k))
    ref = V
    for J in jacobians:
        ref = _apply_blockwise(J, ref)
    got = np.asarray((_to_2d(result) @ V).compute())
    scale = float(np.abs(ref).max())
    return float(np.abs(got - ref).max()) / scale if scale else float(np.abs(got).max())
