"""Thread workers (processes=False) must not pause on memory that is not theirs.

Regression: in a long test session the process held more than the in-process cluster's
memory limit, Dask paused the worker, and a doctest waited forever for its result.
"""

import subprocess
import sys

import pytest

pytest.importorskip("distributed")

_SCRIPT = """
import numpy as np
from chainorder.dask_report import validate_dask
ballast = np.ones(48_000_000)  # 366 MiB held by this process, not by the worker
r = validate_dask("30,20,10", workers=1, memory_per_worker="128MiB", processes=False)
print("ok" if r.ok else "mismatch")
"""


def test_in_process_cluster_runs_while_the_process_holds_more_than_the_limit() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")
