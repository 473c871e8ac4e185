"""Shared by the benchmark scripts: write their section of RESULTS.md in place (atomically),
print or save their report, and NumPy's chain-order cost as a baseline."""

from __future__ import annotations

import platform
import re
from pathlib import Path

from chainorder.atomic import write_atomic

__all__ = [
    "RESULTS",
    "emit",
    "gemm_note",
    "machine_line",
    "numpy_order_cost",
    "summary_line",
    "update_section",
]

RESULTS = Path(__file__).with_name("RESULTS.md")


def machine_line() -> str:
    """Python, NumPy and CPU facts to stamp next to figures."""
    import os

    import numpy as np

    return (
        f"Python {platform.python_version()}, NumPy {np.__version__}, "
        f"{os.cpu_count()} CPU cores ({platform.machine()})"
    )


def gemm_note() -> tuple[str, str]:
    """How a product added into a held sum runs in this process (for the header), and the
    environment prefix of the command that reproduces it ("" where it is the default)."""
    from chainorder.graph.gemmadd import GEMM_ADD_ENV, gemm_add_available

    try:
        import scipy
    except ImportError:
        return "SciPy absent: a product added into a held sum runs as a product and an add", ""
    if not gemm_add_available():
        return (f"SciPy {scipy.__version__} present, its GEMM turned off by {GEMM_ADD_ENV}=0: "
                "a product added into a held sum runs as a product and an add (as without "
                "SciPy)", f"{GEMM_ADD_ENV}=0 ")  # fmt: skip
    return f"SciPy {scipy.__version__}: a product added into a held sum runs as one GEMM", ""


def update_section(name: str, body: str) -> Path:
    """Replace the text between ``<!-- name:start -->`` and ``<!-- name:end -->``."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    block = f"{start}\n{body.rstrip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else f"{text}\n{block}\n"
    return write_atomic(RESULTS, text)


def emit(name: str, body: str, out: Path | None, write: bool) -> None:
    """Save ``body`` to ``out`` (atomic), replace section ``name`` of RESULTS.md when
    ``write``, and print it when neither was asked for."""
    import sys

    if out is not None:
        write_atomic(out, body)
        print(f"wrote {out}", file=sys.stderr)
    if write:
        print(f"updated {update_section(name, body)}", file=sys.stderr)
    if out is None and not write:
        print(body)


def numpy_order_cost(dims: list[int]) -> int:
    """Optimal mults by NumPy's own chain-order routine (the DP behind ``multi_dot``)."""
    from types import SimpleNamespace

    from numpy.linalg._linalg import _multi_dot_matrix_chain_order

    # the routine reads only .shape; NumPy's chain is A_1..A_L with A_i of shape (p_i, p_{i+1})
    arrays = [SimpleNamespace(shape=(dims[i], dims[i + 1])) for i in range(len(dims) - 1)]
    _, costs = _multi_dot_matrix_chain_order(arrays, return_costs=True)
    return int(costs[0, -1])


def summary_line(verdicts: dict[str, bool]) -> str:
    """``Summary: A met, B NOT met.`` for the acceptance targets of a run."""
    return (
        "Summary: "
        + ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in verdicts.items())
        + "."
    )
