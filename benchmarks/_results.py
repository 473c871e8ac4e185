"""Write one section of benchmarks/RESULTS.md in place, atomically (shared by the scripts)."""

from __future__ import annotations

import platform
import re
from pathlib import Path

from chainorder.atomic import write_atomic

__all__ = ["RESULTS", "machine_line", "update_section"]

RESULTS = Path(__file__).with_name("RESULTS.md")


def machine_line() -> str:
    """Python, NumPy and CPU facts to stamp next to figures."""
    import os

    import numpy as np

    return (
        f"Python {platform.python_version()}, NumPy {np.__version__}, "
        f"{os.cpu_count()} CPU cores ({platform.machine()})"
    )


def update_section(name: str, body: str) -> Path:
    """Replace the text between ``<!-- name:start -->`` and ``<!-- name:end -->``."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    block = f"{start}\n{body.rstrip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else f"{text}\n{block}\n"
    return write_atomic(RESULTS, text)
