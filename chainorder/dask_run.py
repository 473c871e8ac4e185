"""Running lazy Jacobian products on a Dask cluster: the cluster, the data, the clocks, the checks.

Used by ``chainorder validate --backend dask`` (:mod:`chainorder.dask_report`) and by
``benchmarks/bench_dask.py``. Dask and ``distributed`` are imported inside the functions.

Cluster
    :func:`dask_client` starts a ``distributed.LocalCluster`` (worker processes by default,
    ``threads_per_worker`` threads each, a ``memory_limit`` per worker, Dask's spilling to the
    worker's local directory left on) or connects to a scheduler address; it always closes
    what it started.
Measured time
    Wall seconds from submitting the product to the moment all its blocks are in worker
    memory (``client.persist`` then ``distributed.wait``): the Jacobian exists, distributed
    (and possibly spilled). Inputs are persisted before the clock starts.
Measured memory (Dask's own sampling)
    Per worker: the largest process memory (RSS, bytes) among the samples of the worker's
    ``SystemMonitor`` taken during the run (every 100 ms in clusters started here, Dask's
    ``distributed.admin.system-monitor.interval`` otherwise), next to the worker's memory
    just before the run (its baseline: interpreter, Dask, inputs held). Cluster-wide: the
    peak of ``distributed.diagnostics.MemorySampler`` (process memory summed over workers).
Predicted time
    ``plan.flops / (rate · threads)``, ``rate`` the FLOP/s one worker thread reaches on a
    block product of the plan's block size (:func:`worker_flop_rate`, measured on a worker).
Checks
    Small chains (result and links together at most :data:`EXACT_CHECK_BYTES`): the whole
    Jacobian against NumPy's forward product of the same Jacobians. Larger: a random probe,
    ``J·V`` (``V`` seeded, ``d_0 × 4``) from the distributed Jacobian against the chain
    applied to ``V`` link by link in NumPy, one fetched block at a time (a blockwise NumPy
    reference that never holds a whole link). Both are normwise relative differences.

Examples
--------
>>> from chainorder.plan import plan
>>> with dask_client(workers=1, memory_per_worker="1GiB", processes=False) as client:
...     Js = random_dask_jacobians(plan("30,20,tanh,10").chain, seed=0)
...     m = measure_product(client, "optimal", lambda: evaluate_plan(plan("30,20,tanh,10"), Js),
...                         Js)
>>> m.rel_diff < 1e-12, m.check
(True, 'exact (NumPy)')
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainorder.chain import Chain, Structure
from chainorder.dask_backend import chunk_lengths, evaluate_dask, import_dask_array, link_chunks
from chainorder.dask_checks import (
    EXACT_CHECK_BYTES,
    PROBE_VECTORS,
    exact_difference,
    probe_difference,
)
from chainorder.dtypes import as_dtype
from chainorder.errors import ExecutionError, SpecError
from chainorder.plan import Plan
from chainorder.units import parse_bytes

__all__ = [
    "EXACT_CHECK_BYTES",
    "PROBE_VECTORS",
    "DaskMeasurement",
    "dask_client",
    "evaluate_plan",
    "exact_difference",
    "measure_product",
    "probe_difference",
    "random_dask_jacobians",
    "worker_flop_rate",
    "worker_memory_limits",
]


def _distributed() -> Any:
    import_dask_array()  # the install hint when Dask is missing
    try:
        import distributed
    except ImportError as exc:
        raise ExecutionError(
            f"the dask backend needs dask.distributed: pip install 'jacobian-chainorder[dask]' "
            f"({exc})"
        ) from None
    return distributed


@contextlib.contextmanager
def dask_client(
    workers: int = 2,
    memory_per_worker: int | str = "2GiB",
    *,
    threads_per_worker: int = 1,
    scheduler: str | None = None,
    processes: bool = True,
    local_directory: str | None = None,
) -> Iterator[Any]:
    """A ``distributed.Client`` on a new LocalCluster (or on ``scheduler``), closed on exit.

    Parameters
    ----------
    workers, threads_per_worker : int
        Worker processes (threads with ``processes=False``) and threads in each.
    memory_per_worker : int or str
        Dask's ``memory_limit`` of each worker (``"2GiB"``); beyond fractions of it the worker
        spills to its local directory, pauses, and is restarted at 95 %.
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``): connect instead of starting
        a cluster; ``workers`` and the memory limit are then the cluster's own.
    processes : bool
        Worker processes (True) or threads of this process (False, for quick tests).
    local_directory : str, optional
        Where workers spill (a temporary directory by default).

    Raises
    ------
    ExecutionError
        Dask or distributed not installed, or the scheduler cannot be reached.

    Examples
    --------
    >>> with dask_client(1, "512MiB", processes=False) as c:
    ...     len(c.scheduler_info()["workers"])
    1

    Notes
    -----
    Starting worker processes takes about a second each.
    """
    distributed = _distributed()
    import dask

    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise ExecutionError(f"cannot reach the Dask scheduler {scheduler!r}: {exc}") from None
        try:
            yield client
        finally:
            client.close()
        return
    limit = parse_bytes(memory_per_worker)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SpecError(f"workers must be a positive integer, got {workers!r}")
    config: dict[str, Any] = {"distributed.admin.system-monitor.interval": "100ms"}
    if not processes:
        # Thread workers share this process, whose memory (a test session, a notebook) is
        # not theirs: a limit there would pause them on memory they never allocated and the
        # run would wait forever. The limit stays recorded; pausing, spilling and
        # terminating act only on worker processes.
        config.update(
            {
                f"distributed.worker.memory.{key}": False
                for key in ("target", "spill", "pause", "terminate")
            }
        )
    with dask.config.set(config):
        cluster = distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=threads_per_worker,
            processes=processes,
            memory_limit=limit,
            dashboard_address=":0",  # any free port: never clash
            local_directory=local_directory,
        )
    try:
        client = distributed.Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def worker_memory_limits(client: Any) -> dict[str, int]:
    """``{worker address: memory limit in bytes}`` (0 where a worker has no limit).

    Examples
    --------
    >>> with dask_client(1, "512MiB", processes=False) as c:
    ...     list(worker_memory_limits(c).values())
    [536870912]

    Notes
    -----
    One scheduler round trip.
    """
    info = client.scheduler_info(n_workers=-1)["workers"]
    return {addr: int(w.get("memory_limit") or 0) for addr, w in sorted(info.items())}


def _block_rate(side: int, dtype: str) -> float:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((side, side)).astype(dtype)
    b = rng.standard_normal((side, side)).astype(dtype)
    a @ b
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2.0 * side**3 / best


def worker_flop_rate(client: Any, side: int, dtype: object = "float64") -> float:
    """FLOP/s (2 per multiply-add) of one worker thread on a ``side × side`` block product.

    Examples
    --------
    >>> with dask_client(1, "512MiB", processes=False) as c:
    ...     worker_flop_rate(c, 64) > 0
    True

    Notes
    -----
    Four ``side³`` products on one worker (best of three timed).
    """
    side = max(16, min(int(side), 1024))
    return float(client.submit(_block_rate, side, as_dtype(dtype).name, pure=False).result())


def random_dask_jacobians(
    chain: Chain, seed: int = 0, dtype: object = "float64", chunk_bytes: Any = None
) -> list[Any]:
    """Seeded lazy Jacobians chunked by the plan's rule: ``N(0, 1/d_{l-1})`` dense,
    ``U(0.5, 1.5)`` diagonals (the distributions of :func:`chainorder.nets.random_jacobians`,
    other numbers).

    Examples
    --------
    >>> [J.shape for J in random_dask_jacobians(Chain.from_dims([4, 3, 2]))]
    [(3, 4), (2, 3)]

    Notes
    -----
    Lazy: each block is drawn where it is computed.
    """
    da = import_dask_array()
    dt = as_dtype(dtype)
    if dt.kind != "f":
        raise SpecError(f"the dask backend runs real floating dtypes, got {dt.name}")
    rng = da.random.default_rng(seed)
    lengths = chunk_lengths(chain, dt.itemsize, chunk_bytes)
    out = []
    for l, link in enumerate(chain.links, start=1):
        chunks = link_chunks(chain, l, lengths)
        if link.structure is Structure.DIAGONAL:
            values = rng.uniform(0.5, 1.5, size=link.rows, chunks=chunks)
        else:
            values = rng.standard_normal(link.shape, chunks=chunks) / np.sqrt(link.cols)
        out.append(values.astype(dt))
    return out


def evaluate_plan(plan: Plan, jacobians: Sequence[Any], chunk_bytes: Any = None) -> Any:
    """The plan's lazy product, densified (a shorthand for the runners).

    Examples
    --------
    >>> from chainorder.plan import plan
    >>> Js = random_dask_jacobians(Chain.from_dims([4, 3, 2]))
    >>> evaluate_plan(plan("4,3,2"), Js).shape
    (2, 4)

    Notes
    -----
    Lazy, O(L) graph building.
    """
    return evaluate_dask(plan, jacobians, chunk_bytes=chunk_bytes, densify=True)


@dataclass(frozen=True)
class DaskMeasurement:
    """Measured figures of one lazy product on a cluster (seconds, bytes; module notes)."""

    label: str
    seconds: float
    worker_peak_bytes: tuple[int, ...]
    worker_baseline_bytes: tuple[int, ...]
    cluster_peak_bytes: int
    rel_diff: float
    check: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def max_worker_peak_bytes(self) -> int:
        """The largest per-worker peak."""
        return max(self.worker_peak_bytes, default=0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {
            "label": self.label,
            "time_s": self.seconds,
            "worker_peak_bytes": list(self.worker_peak_bytes),
            "worker_baseline_bytes": list(self.worker_baseline_bytes),
            "cluster_peak_bytes": self.cluster_peak_bytes,
            "rel_diff": self.rel_diff if np.isfinite(self.rel_diff) else None,
            "check": self.check,
            **self.extra,
        }


def _monitor_count(dask_worker: Any) -> int:
    return int(dask_worker.monitor.count)


def _monitor_state(dask_worker: Any) -> float:
    return float(dask_worker.monitor.get_process_memory())


def _monitor_peak(start: int, dask_worker: Any = None) -> float:
    samples = [m for m in dask_worker.monitor.range_query(start)["memory"] if m is not None]
    return float(max([*samples, dask_worker.monitor.get_process_memory()]))


def measure_product(
    client: Any,
    label: str,
    build: Callable[[], Any],
    jacobians: Sequence[Any],
    *,
    repeat: int = 1,
    seed: int = 0,
    exact_check_bytes: int = EXACT_CHECK_BYTES,
    timeout: float | None = None,
) -> DaskMeasurement:
    """Persist the lazy product ``build()`` ``repeat`` times: best time, peaks, agreement.

    ``jacobians`` must already be persisted on the cluster (their memory is part of each
    worker's baseline). See the module notes for what is measured. With ``timeout`` (seconds)
    a run still going is cancelled and :class:`TimeoutError` raised.

    Examples
    --------
    >>> from chainorder.plan import plan
    >>> p = plan("300,20,300")
    >>> with dask_client(1, "1GiB", processes=False) as client:
    ...     Js = client.persist(random_dask_jacobians(p.chain, seed=1))
    ...     m = measure_product(client, "optimal", lambda: evaluate_plan(p, Js), Js)
    >>> m.check, m.rel_diff < 1e-12, len(m.worker_peak_bytes)
    ('exact (NumPy)', True, 1)

    Notes
    -----
    ``repeat`` runs of the product plus one check (exact or probe).
    """
    distributed = _distributed()
    from distributed.diagnostics import MemorySampler

    best = float("inf")
    peaks: dict[str, float] = {}
    base: dict[str, float] = {}
    sampler = MemorySampler()
    result = None
    for _ in range(repeat):
        result = None
        start = client.run(_monitor_count)
        for addr, value in client.run(_monitor_state).items():
            base[addr] = max(base.get(addr, 0.0), value)
        with sampler.sample(label, client=client, measure="process", interval=0.1):
            t0 = time.perf_counter()
            result = client.persist(build())
            try:
                distributed.wait(result, timeout=timeout)
            except TimeoutError:
                client.cancel(result)
                raise
            best = min(best, time.perf_counter() - t0)
        for addr in start:
            value = client.run(_monitor_peak, start[addr], workers=[addr])[addr]
            peaks[addr] = max(peaks.get(addr, 0.0), value)
    assert result is not None
    fetched = sum(int(np.prod(a.shape)) * a.dtype.itemsize for a in (result, *jacobians))
    if fetched <= exact_check_bytes:  # the result and every link fit this process easily
        diff, check = exact_difference(result, jacobians), "exact (NumPy)"
    else:
        diff = probe_difference(result, jacobians, seed)
        check = f"probe J·V, {PROBE_VECTORS} vectors"
    del result
    samples = sampler.samples.get(label, [])
    cluster = int(max((v for _, v in samples), default=0))
    order = sorted(peaks)
    return DaskMeasurement(
        label,
        best,
        tuple(int(peaks[a]) for a in order),
        tuple(int(base[a]) for a in order),
        cluster,
        diff,
        check,
    )
