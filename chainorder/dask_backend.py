"""Plans on ``dask.array``: a lazy graph in the plan's order, its chunks, its memory per worker.

Imports Dask lazily (only when a dask array or the ``dask`` backend is asked for); install
it with ``pip install 'jacobian-chainorder[dask]'``.

Chunking rule (part of the plan)
    One chunk length per *dimension index*: with ``s = ⌊√(chunk_bytes / itemsize)⌋`` (the side
    of a square block of ``chunk_bytes``, 64 MiB by default), ``c_i = min(d_i, s)``. Every
    array the plan touches — link ``J_l`` and every product node ``J_{j..i}`` — is chunked
    ``(c_j, c_{i-1})`` (a diagonal ``(c_l,)``). So the blocks of the two factors of every
    product line up on the contracted dimension and every product's blocks already follow
    the rule: the only rechunks are of input links whose chunks differ (once, at the leaf,
    before the first product); where a product changes the shape (``m×k · k×n``) its output
    is born in the rule's ``(c_m, c_n)`` blocks. Square-ish blocks of about ``chunk_bytes``
    keep tasks large enough for BLAS and small enough for a worker; a dimension smaller than
    ``s`` is never split.
Graph
    :func:`evaluate_dask` (and :func:`chainorder.evaluate` on dask inputs) replays the plan's
    products in the plan's order: one ``da.matmul`` (a blockwise block product followed by a
    sum over the contracted blocks, without concatenation) per dense·dense node, a broadcast
    scaling (blockwise, elementwise) per product with a diagonal. Nothing is computed.
Memory per chunk and per worker (bytes of the plan's dtype; :func:`predict_memory`)
    *Largest block product*: the largest output block ``c_m·c_n`` of any product. *Largest
    task*: what one task holds at once — a block product holds its two input blocks and its
    output block (``c_m·c_k + c_k·c_n + c_m·c_n``); the sum over ``n_k`` contracted blocks
    holds up to ``min(n_k, 16)`` partial blocks (Dask's ``split_every``) plus its output.
    *Working set* of a worker: ``threads_per_worker ×`` largest task; it cannot be spilled.
    *Resident share*: the plan's peak of live arrays (``plan.peak_bytes("given")``, inputs
    included) spread evenly over the workers, ``⌈peak / workers⌉``; it may spill to disk.
    *Per worker* = working set + resident share. The memory guard checks the working set
    against the per-worker limit; a resident share above it means spilling is expected.

Examples
--------
>>> import numpy as np
>>> import dask.array as da
>>> from chainorder.plan import plan
>>> p = plan("300,20,300,20")
>>> Js = [da.ones((20, 300), chunks=100), da.ones((300, 20), chunks=100),
...       da.ones((20, 300), chunks=100)]
>>> J = evaluate_dask(p, Js, chunk_bytes=80_000)
>>> J.shape, J.chunks
((20, 300), ((20,), (100, 100, 100)))
>>> float(J[0, 0].compute())  # 20 · 300 · 1
6000.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chainorder.chain import Chain, Structure
from chainorder.errors import ExecutionError, SpecError
from chainorder.execute_links import DD, product_kind
from chainorder.memory import Setting
from chainorder.plan import Plan
from chainorder.units import format_bytes, parse_bytes

__all__ = [
    "DEFAULT_CHUNK_BYTES",
    "SPLIT_EVERY",
    "DaskMemoryEstimate",
    "chunk_lengths",
    "evaluate_dask",
    "import_dask_array",
    "link_chunks",
    "predict_memory",
    "rechunk_links",
]

#: Target bytes of one block (the square block side follows from the dtype).
DEFAULT_CHUNK_BYTES = 64 * 2**20

#: Partial blocks one summing task of ``da.matmul`` combines (Dask's default ``split_every``).
SPLIT_EVERY = 16


def import_dask_array() -> Any:
    """``dask.array``, or an :class:`ExecutionError` saying how to install it.

    Examples
    --------
    >>> import_dask_array().__name__
    'dask.array'

    Notes
    -----
    O(1) after the first import.
    """
    from chainorder.backend import get_backend

    return get_backend("dask").xp


def _chunk_bytes(chunk_bytes: int | str | None) -> int:
    if chunk_bytes is None:
        return DEFAULT_CHUNK_BYTES
    try:
        value = parse_bytes(chunk_bytes)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"chunk size must be a size such as 64MiB, got {chunk_bytes!r}") from exc
    if value <= 0:
        raise SpecError(f"chunk size must be positive, got {chunk_bytes!r}")
    return value


def chunk_lengths(
    chain: Chain, itemsize: int, chunk_bytes: int | str | None = None
) -> tuple[int, ...]:
    """The chunk length ``c_i = min(d_i, s)`` of every dimension index ``i = 0..L``.

    Parameters
    ----------
    chain : Chain
    itemsize : int
        Bytes per element of the plan's dtype.
    chunk_bytes : int or str, optional
        Target bytes of a square block (:data:`DEFAULT_CHUNK_BYTES`).

    Examples
    --------
    >>> chunk_lengths(Chain.from_dims([20000, 200, 20000]), 8)
    (2896, 200, 2896)

    Notes
    -----
    O(L).
    """
    side = max(1, math.isqrt(_chunk_bytes(chunk_bytes) // max(1, int(itemsize))))
    return tuple(min(d, side) for d in chain.dims)


def _split(length: int, chunk: int) -> tuple[int, ...]:
    full, rest = divmod(length, chunk)
    return (chunk,) * full + ((rest,) if rest else ())


def link_chunks(chain: Chain, l: int, lengths: Sequence[int]) -> tuple[tuple[int, ...], ...]:
    """Dask ``chunks`` of ``J_l`` under the rule: ``(c_l, c_{l-1})`` blocks, ``(c_l,)`` if diagonal.

    Examples
    --------
    >>> link_chunks(Chain.from_dims([5, 3]), 1, (2, 2))
    ((2, 1), (2, 2, 1))

    Notes
    -----
    O(d_l / c_l + d_{l-1} / c_{l-1}).
    """
    rows = _split(chain.dims[l], lengths[l])
    if chain.structures[l - 1] is Structure.DIAGONAL:
        return (rows,)
    return (rows, _split(chain.dims[l - 1], lengths[l - 1]))


def rechunk_links(
    plan: Plan, jacobians: Sequence[Any], chunk_bytes: int | str | None = None
) -> list[Any]:
    """The links rechunked to the rule (arrays already chunked so are passed through).

    Examples
    --------
    >>> import dask.array as da
    >>> from chainorder.plan import plan
    >>> [J.chunks for J in rechunk_links(plan("4,3"), [da.ones((3, 4))], 48)]
    [((2, 1), (2, 2))]

    Notes
    -----
    Lazy: adds at most one rechunk layer per link; no data moves until computed.
    """
    chain = plan.chain
    lengths = chunk_lengths(chain, plan.dtype.itemsize, chunk_bytes)
    out = []
    for l, array in enumerate(jacobians, start=1):
        want = link_chunks(chain, l, lengths)
        out.append(array if tuple(array.chunks) == want else array.rechunk(want))
    return out


def evaluate_dask(
    plan: Plan,
    jacobians: Sequence[Any],
    *,
    chunk_bytes: int | str | None = None,
    densify: bool = False,
) -> Any:
    """The lazy ``dask.array`` of ``J_L ⋯ J_1``, its graph following the plan's tree.

    Parameters
    ----------
    plan : Plan
    jacobians : sequence of dask.array.Array
        As for :func:`chainorder.evaluate`: ``(d_l, d_{l-1})`` dense, ``(d_l,)`` diagonal,
        of the plan's dtype.
    chunk_bytes : int or str, optional
        Target block bytes of the chunking rule (module notes); 64 MiB by default.
    densify : bool
        As for :func:`chainorder.evaluate`.

    Returns
    -------
    dask.array.Array
        Lazy; ``.compute()`` or ``.persist()`` runs it on the current scheduler.

    Raises
    ------
    ExecutionError
        Wrong count, shape, dtype, or arrays that are not all dask arrays.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from chainorder.plan import plan
    >>> A, B = np.arange(6.0).reshape(3, 2), np.arange(12.0).reshape(4, 3)
    >>> J = evaluate_dask(plan("2,3,4"), [da.from_array(A), da.from_array(B)])
    >>> bool(np.allclose(J.compute(), B @ A))
    True

    Notes
    -----
    O(L) Python steps and O(number of blocks) graph tasks; nothing is computed.
    """
    from chainorder.execute import compile_plan

    f = compile_plan(plan)
    backend = f.check(jacobians)
    if backend.name != "dask":
        raise ExecutionError(
            f"evaluate_dask needs dask arrays, got {backend.name} arrays; use "
            "chainorder.evaluate for them"
        )
    return f.evaluate(jacobians, densify=densify, chunk_bytes=chunk_bytes)


@dataclass(frozen=True)
class DaskMemoryEstimate:
    """Predicted bytes per block, per task and per worker of a plan on Dask (module notes)."""

    chunk_bytes: int
    chunk_lengths: tuple[int, ...]
    largest_block_bytes: int
    largest_task_bytes: int
    plan_peak_bytes: int
    workers: int
    threads_per_worker: int

    @property
    def working_bytes(self) -> int:
        """What one worker computes with at once: threads × largest task (not spillable)."""
        return self.threads_per_worker * self.largest_task_bytes

    @property
    def resident_bytes(self) -> int:
        """One worker's even share of the plan's live arrays (spillable)."""
        return -(-self.plan_peak_bytes // self.workers)

    @property
    def per_worker_bytes(self) -> int:
        """Working set + resident share: what each worker holds at the plan's peak."""
        return self.working_bytes + self.resident_bytes

    def spills(self, limit: int) -> bool:
        """True when the predicted per-worker bytes exceed ``limit`` (spilling expected)."""
        return self.per_worker_bytes > limit

    def lines(self) -> list[str]:
        """The estimate as short ``name: value`` lines (bytes in binary units)."""
        return [
            f"chunk rule: square blocks of {format_bytes(self.chunk_bytes)}, side "
            f"{max(self.chunk_lengths, default=0)}",
            f"largest block product: {format_bytes(self.largest_block_bytes)}",
            f"largest task (inputs + output blocks): {format_bytes(self.largest_task_bytes)}",
            f"per worker: {format_bytes(self.per_worker_bytes)} = working "
            f"{format_bytes(self.working_bytes)} ({self.threads_per_worker} "
            f"thread{'s' if self.threads_per_worker != 1 else ''}) + "
            f"resident {format_bytes(self.resident_bytes)} (plan peak "
            f"{format_bytes(self.plan_peak_bytes)} / {self.workers} workers)",
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures (bytes of the plan's dtype)."""
        return {
            "chunk_bytes": self.chunk_bytes,
            "largest_block_bytes": self.largest_block_bytes,
            "largest_task_bytes": self.largest_task_bytes,
            "working_bytes_per_worker": self.working_bytes,
            "resident_bytes_per_worker": self.resident_bytes,
            "predicted_bytes_per_worker": self.per_worker_bytes,
        }


def predict_memory(
    plan: Plan,
    *,
    workers: int = 1,
    threads_per_worker: int = 1,
    chunk_bytes: int | str | None = None,
) -> DaskMemoryEstimate:
    """Bytes per block, task and worker of ``plan`` run on Dask (see the module notes).

    Examples
    --------
    >>> from chainorder.plan import plan
    >>> est = predict_memory(plan("20000,200,20000", "forward"), workers=2)
    >>> est.largest_block_bytes == 2896 * 2896 * 8
    True
    >>> est.resident_bytes == plan("20000,200,20000", "forward").peak_bytes("given") // 2
    True

    Notes
    -----
    O(L) over the plan's product nodes.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SpecError(f"workers must be a positive integer, got {workers!r}")
    if (
        isinstance(threads_per_worker, bool)
        or not isinstance(threads_per_worker, int)
        or (threads_per_worker < 1)
    ):
        raise SpecError(
            f"threads per worker must be a positive integer, got {threads_per_worker!r}"
        )
    size = plan.dtype.itemsize
    target = _chunk_bytes(chunk_bytes)
    c = chunk_lengths(plan.chain, size, target)
    flat, shapes = plan.flat, plan.shapes
    block = task = 0
    for i in range(len(flat.lo)):
        a, b = flat.left[i], flat.right[i]
        if a < 0:
            continue
        # node i is J_hi ⋯ J_lo, (d_hi, d_{lo-1}); its right child ends at the contracted d_mid
        lo, hi, mid = flat.lo[i], flat.hi[i], flat.hi[b]
        m, n, k = c[hi], c[lo - 1], c[mid]
        out = m * n
        if product_kind(shapes.structure[a], shapes.structure[b]) == DD:
            n_k = -(-plan.chain.dims[mid] // k)
            need = max(m * k + k * n + out, (min(n_k, SPLIT_EVERY) + 1) * out)
        else:
            need = 2 * out + max(m, n)
        block = max(block, out)
        task = max(task, need)
    return DaskMemoryEstimate(
        target,
        c,
        block * size,
        task * size,
        plan.peak_bytes(Setting.GIVEN),
        workers,
        threads_per_worker,
    )
