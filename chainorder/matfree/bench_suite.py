"""Matrix-free cases of ``chainorder bench`` (issue 10): rows for the shared bench tables.

A matrix-free case runs :func:`chainorder.matfree.measure.measure_matrix_free` on real layers
(the optimum, pure tangent = what ``jacfwd`` does, pure adjoint = ``jacrev``, and the
given-matrix plan) and turns each measured plan into a :class:`chainorder.bench.BenchRow`,
so the suite renders through :mod:`chainorder.report.bench_tables` like every other one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chainorder.matfree.measure import candidate_plans, measure_matrix_free, required_bytes
from chainorder.matfree.planning import as_links
from chainorder.memory import as_setting
from chainorder.memory_guard import check_memory

__all__ = [
    "CNN",
    "HOURGLASS",
    "MATFREE_ROWS",
    "METHODS",
    "MLP",
    "check_case",
    "matfree_rows",
]

#: The issue's small CNN: 1×28×28 → conv 8@3×3 → relu → conv 16@3×3 stride 2 → relu → dense 10.
CNN = "1x28x28,conv2d(8,k=3),relu,conv2d(16,k=3,stride=2),relu,10"
#: The MLP of the other suites.
MLP = "784,512,tanh,512,tanh,10"
#: The hourglass with elementwise links between its dense layers.
HOURGLASS = "4096,64,tanh,4096,tanh,64,tanh,4096"

#: Plan name in the report → method name in the bench tables.
METHODS = {
    "optimum": "matrix-free optimum",
    "pure tangent": "matrix-free pure tangent (jacfwd)",
    "pure adjoint": "matrix-free pure adjoint (jacrev)",
    "given-matrix": "matrix-free given-matrix",
}
#: Rows of one matrix-free case.
MATFREE_ROWS = len(METHODS)


def check_case(spec: str, setting: Any, dtype: str, max_memory: int | str | None) -> None:
    """Plan the case and check its largest predicted peak against the memory limit.

    Raises :class:`~chainorder.errors.MemoryLimitError` before anything is allocated.

    Examples
    --------
    >>> check_case("30,tanh,20,5", "streamed", "float64", "1GiB")

    Notes
    -----
    O(L³) planning plus the memory simulation of four plans.
    """
    links = as_links(spec)
    plans = [p for _, p in candidate_plans(links, dtype, False)]
    need = required_bytes(links, plans, as_setting(setting), dtype)
    check_memory(need, f"matrix-free case {spec}", max_memory)


def matfree_rows(
    row_type: Any,
    suite: str,
    case: str,
    spec: str,
    setting: Any,
    *,
    repeat: int,
    seed: int,
    dtype: str,
    measure_memory: bool,
    max_memory: int | str | None,
) -> Iterator[Any]:
    """Measure the four matrix-free plans of ``spec`` and yield one ``row_type`` each.

    ``row_type`` is :class:`chainorder.bench.BenchRow` (passed in: this module is below the
    bench module). Status ``ok`` when the Jacobian agrees with the explicit product.

    Examples
    --------
    >>> from chainorder.bench import BenchRow
    >>> rows = list(matfree_rows(BenchRow, "s", "c", "6,tanh,4,3", "given", repeat=1, seed=0,
    ...                          dtype="float64", measure_memory=False, max_memory=None))
    >>> [r.method for r in rows][0], {r.status for r in rows}
    ('matrix-free optimum', {'ok'})

    Notes
    -----
    Each plan runs ``repeat + 1`` times (plus once under tracemalloc).
    """
    report = measure_matrix_free(
        spec,
        setting=setting,
        repeat=repeat,
        seed=seed,
        dtype=dtype,
        max_memory=max_memory,
        measure_memory=measure_memory,
    )
    for m in report.rows:
        yield row_type(
            suite,
            case,
            spec,
            report.setting.value,
            METHODS[m.name],
            m.expression,
            m.mode,
            m.mults,
            m.flops,
            m.predicted_bytes,
            m.measured_bytes if measure_memory else None,
            m.seconds,
            m.gflops,
            m.difference,
            "ok" if m.difference <= report.tolerance else "mismatch",
        )
