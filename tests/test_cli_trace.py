"""The ``chainorder trace`` command: tables, JSON, DOT, and one-line errors with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from chainorder.cli import app
from chainorder.cli.trace_command import parse_arg

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["trace", *args])


def test_kernel_example_tables_check_and_dot(tmp_path: Path) -> None:
    dot = tmp_path / "kernel.dot"
    res = run(
        f"{EXAMPLES}/kernel_exercise.py:f", "--arg", "ell=[0.1,0.12]", "--arg", "X=8x2",
        "--dot", str(dot),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    for words in ("Traced graph", "scalar multiplications", "reverse mode", "Markowitz", "chosen:"):
        assert words in res.output
    assert "finite differences" in res.output and "MISMATCH" not in res.output
    text = dot.read_text()
    assert text.startswith("digraph traced {") and '"X" -> "v1"' in text


def test_json_output_is_consistent() -> None:
    res = run(f"{EXAMPLES}/product_rule.py:f", "--arg", "x=4.0", "--arg", "y=2.0", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    modes = {m["name"]: m["mults"] for m in doc["plan"]["modes"]}
    assert doc["plan"]["n_inputs"] == 2 and doc["plan"]["n_outputs"] == 1
    assert doc["check"]["ok"] is True
    assert min(modes.values()) == next(
        m["mults"] for m in doc["plan"]["modes"] if m["name"] == doc["plan"]["chosen"]
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--arg", "x=abc", "--arg", "y=1.0"], "bad --arg 'x=abc'"),
        (["--arg", "x=1.0"], "missing --arg y"),
        (["--arg", "x=1.0", "--arg", "y=2.0", "--arg", "z=3.0"], "no parameter 'z'"),
        (["--arg", "x=0x3", "--arg", "y=1.0"], "dimensions must be positive"),
        (["--arg", "x=1.0", "--arg", "x=2.0"], "given twice"),
        (["--arg", "=1.0"], "bad --arg"),
    ],
)
def test_bad_args_give_one_line_and_exit_2(args: list[str], words: str) -> None:
    res = run(f"{EXAMPLES}/product_rule.py:f", *args)
    assert res.exit_code == 2
    assert words in res.output
    assert "Traceback" not in res.output


def test_bad_targets_and_unsupported_ops(tmp_path: Path) -> None:
    res = run("nowhere.py:f", "--arg", "x=1.0")
    assert res.exit_code == 2 and "no Python file" in res.output
    res = run(f"{EXAMPLES}/product_rule.py:nothing", "--arg", "x=1.0")
    assert res.exit_code == 2 and "has no function 'nothing'" in res.output
    src = tmp_path / "bad.py"
    src.write_text("import numpy as np\n\ndef f(x):\n    return np.sort(x)\n")
    res = run(f"{src}:f", "--arg", "x=3")
    assert res.exit_code == 2
    assert "np.sort" in res.output and "bad.py:4" in res.output and "Traceback" not in res.output


def test_png_without_a_renderer_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    import chainorder.graph.render as render

    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    monkeypatch.setattr(render, "_has_matplotlib", lambda: False)
    monkeypatch.setitem(__import__("sys").modules, "graphviz", None)
    res = run(f"{EXAMPLES}/sqrt_cos.py:f", "--arg", "x=1.0", "--png", str(tmp_path / "g.png"))
    assert res.exit_code == 2 and "PNG output needs Graphviz" in res.output
    assert not (tmp_path / "g.png").exists()


def test_parse_arg_shapes_are_seeded() -> None:
    a = parse_arg("X=3x2", np.random.default_rng(5))[1]
    b = parse_arg("X=3x2", np.random.default_rng(5))[1]
    assert a.shape == (3, 2) and np.array_equal(a, b)
    assert parse_arg("v=3", np.random.default_rng(0))[1].shape == (3,)
    assert np.array_equal(parse_arg("l=[0.5, 2]", np.random.default_rng(0))[1], [0.5, 2.0])
