"""README's chainorder.jacobian example runs as written, and prints what it says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_jacobian_example_runs() -> None:
    text = README.read_text(encoding="utf-8")
    block = re.search(
        r"<!-- jacobian-example:start -->\n```python\n(.*?)```\n<!-- jacobian-example:end -->",
        text,
        re.S,
    )
    assert block is not None
    code = block.group(1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    printed = [line.removeprefix("# ") for line in code.splitlines() if line.startswith("# ")]
    assert out.getvalue().splitlines() == printed
