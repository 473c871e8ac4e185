"""README's table of traced ops, generated from the op registry.

``python -m chainorder.graph.optable`` prints the table; ``--write`` replaces the part of
README.md between ``<!-- op-table:start -->`` and ``<!-- op-table:end -->``. A test fails
when README's table differs from :func:`op_table`, so the documented list is the registry.
"""

from __future__ import annotations

import sys
from pathlib import Path

from chainorder.graph.ops import REGISTRY, ZERO_DERIVATIVE
from chainorder.graph.unsupported import METHODS

__all__ = ["END", "START", "op_table", "replace_table"]

START = "<!-- op-table:start -->"
END = "<!-- op-table:end -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def op_table() -> str:
    """The markdown table of every registered op, its partial's structure and meaning.

    Examples
    --------
    >>> table = op_table()
    >>> table.splitlines()[0]
    '| op (how to write it) | structure of each local partial | meaning, convention |'
    >>> "| `np.linalg.cholesky` |" in table
    True

    Notes
    -----
    O(number of registered ops).
    """
    lines = [
        "| op (how to write it) | structure of each local partial | meaning, convention |",
        "|---|---|---|",
    ]
    for name in sorted(REGISTRY):
        rule = REGISTRY[name]
        lines.append(f"| `{_cell(rule.api)}` | {_cell(rule.partial)} | {_cell(rule.doc)} |")
    zero = ", ".join(f"`{_cell(v)}`" for v in ZERO_DERIVATIVE.values())
    lines += [
        "",
        f"Zero derivative (the result is a constant of the rest of the trace): {zero}.",
        "",
        "Methods of a traced array: " + ", ".join(f"`{m}`" for m in METHODS) + ".",
    ]
    return "\n".join(lines)


def replace_table(readme: str) -> str:
    """``readme`` with the text between the op-table markers replaced by :func:`op_table`.

    Examples
    --------
    >>> out = replace_table(f"a\\n{START}\\nold\\n{END}\\nb")
    >>> out.startswith("a\\n" + START + "\\n| op") and out.endswith(END + "\\nb")
    True

    Notes
    -----
    O(length of the README).
    """
    head, sep, rest = readme.partition(START)
    _, sep2, tail = rest.partition(END)
    if not sep or not sep2:
        raise ValueError(f"README lacks the {START} / {END} markers")
    return f"{head}{START}\n{op_table()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    """Print the table, or with ``--write [README]`` update README in place."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--write":
        path = Path(argv[1] if len(argv) > 1 else "README.md")
        path.write_text(replace_table(path.read_text(encoding="utf-8")), encoding="utf-8")
        return 0
    print(op_table())
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
