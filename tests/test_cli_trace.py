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
    src.write_text("import numpy as np\n\ndef f(x):\n    return np.median(x)\n")
    res = run(f"{src}:f", "--arg", "x=3")
    assert res.exit_code == 2
    assert "np.median" in res.output and "bad.py:4" in res.output and "Traceback" not in res.output


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


# --------------------------------------------------------------------------------------
# issue 7: value and gradient/Jacobian, hard edges, narrow terminals


def _one_line_exit_2(res, *words: str) -> None:
    assert res.exit_code == 2, res.output
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.output
    assert "Traceback" not in res.output
    for w in words:
        assert w in res.output, res.output


def test_prints_value_and_gradient() -> None:
    res = run(f"{EXAMPLES}/product_rule.py:f", "--arg", "x=4.0", "--arg", "y=2.0")
    assert res.exit_code == 0, res.output
    # f = (x + x·y)·2: value 24, df/dx = 2(1 + y) = 6, df/dy = 2x = 8
    assert "value of v3: (scalar) 24" in res.output
    assert "gradient d v3 / d x: (scalar) 6" in res.output
    assert "gradient d v3 / d y: (scalar) 8" in res.output
    res = run(f"{EXAMPLES}/sqrt_cos.py:f", "--arg", "x=1.0", "--no-check")
    assert res.exit_code == 0 and "(scalar) 5.983082596" in res.output


def test_jacobian_in_full_when_small_and_summarised_when_large(tmp_path: Path) -> None:
    src = tmp_path / "vec.py"
    src.write_text("import numpy as np\n\ndef f(x):\n    return 3 * np.sin(x)\n")
    res = run(f"{src}:f", "--arg", "x=[0.0,1.0]")
    assert res.exit_code == 0, res.output
    assert f"(2x2) [[3, 0], [0, {3 * np.cos(1.0):.10g}]]" in res.output
    res = run(f"{src}:f", "--arg", "x=20", "--seed", "3")
    assert res.exit_code == 0, res.output
    x = np.random.default_rng(3).standard_normal(20)
    jac = np.diag(3 * np.cos(x))
    assert "(20x20, 400 entries, summary)" in res.output
    assert f"norm {np.linalg.norm(jac):.6g}" in res.output
    assert f"max {jac.max():.6g}" in res.output
    doc = json.loads(run(f"{src}:f", "--arg", "x=20", "--seed", "3", "--json").output)
    assert np.allclose(doc["jacobian"]["values"], jac)  # 400 entries: in full in JSON
    assert np.allclose(doc["value"][0]["values"], 3 * np.sin(x))


def test_json_holds_value_and_gradient() -> None:
    res = run(f"{EXAMPLES}/product_rule.py:f", "--arg", "x=4.0", "--arg", "y=2.0", "--json")
    doc = json.loads(res.output)
    assert doc["value"][0]["values"] == 24.0
    assert doc["gradient"]["x"]["values"] == pytest.approx(6.0)
    assert doc["gradient"]["y"]["values"] == pytest.approx(8.0)
    assert doc["plan"]["chosen_method"] in {m["method"] for m in doc["plan"]["modes"]}


def test_huge_shape_is_refused_before_allocating() -> None:
    res = run(f"{EXAMPLES}/sqrt_cos.py:f", "--arg", "x=65536x65536x65536x65536")
    _one_line_exit_2(res, "--arg x=65536x65536x65536x65536", "needs", "EiB")
    res = run(f"{EXAMPLES}/sqrt_cos.py:f", "--arg", "x=" + "9" * 400)
    _one_line_exit_2(res, "needs")


def test_max_memory_limits_arguments_and_the_jacobian() -> None:
    res = run(f"{EXAMPLES}/sqrt_cos.py:f", "--arg", "x=200", "--max-memory", "1KiB")
    _one_line_exit_2(res, "needs 1.56 KiB", "the limit is 1 KiB")  # 200 float64 = 1600 B
    res = run(f"{EXAMPLES}/sqrt_cos.py:f", "--arg", "x=100", "--max-memory", "1KiB")
    _one_line_exit_2(res, "the Jacobian of", "100 x 100")  # 800 B fit; 100x100 does not
    res = run(f"{EXAMPLES}/sqrt_cos.py:f", "--arg", "x=100", "--max-memory", "8MiB")
    assert res.exit_code == 0, res.output
    res = run(f"{EXAMPLES}/sqrt_cos.py:f", "--arg", "x=1.0", "--max-memory", "lots")
    _one_line_exit_2(res)


@pytest.mark.parametrize("code", ["0", "3", "'bye'", "None"])
@pytest.mark.parametrize("where", ["call", "import"])
def test_system_exit_in_traced_code_is_one_line(tmp_path: Path, code: str, where: str) -> None:
    src = tmp_path / "quits.py"
    body = f"    raise SystemExit({code})\n" if where == "call" else "    return x\n"
    head = f"raise SystemExit({code})\n" if where == "import" else ""
    src.write_text(f"import numpy as np\n{head}\ndef f(x):\n{body}")
    res = run(f"{src}:f", "--arg", "x=1.0")
    _one_line_exit_2(res, "SystemExit")


@pytest.mark.parametrize(
    "value", ["nan", "inf", "-inf", "NaN", "[1.0,nan]", "[inf]", "1e999", "[1, -1e400]"]
)
def test_non_finite_values_are_refused(value: str) -> None:
    res = run(f"{EXAMPLES}/sqrt_cos.py:f", "--arg", f"x={value}")
    _one_line_exit_2(res, "finite")


def test_negative_seed_is_refused() -> None:
    res = run(f"{EXAMPLES}/sqrt_cos.py:f", "--arg", "x=3", "--seed", "-1")
    _one_line_exit_2(res, "--seed", "non-negative")


def test_keyword_only_and_unknown_parameters_say_what_is_expected(tmp_path: Path) -> None:
    src = tmp_path / "kw.py"
    src.write_text("def f(x, y=2.0, *args, kwonly=1.0, **kw):\n    return x * y * kwonly\n")
    res = run(f"{src}:f", "--arg", "x=1.0", "--arg", "kwonly=2.0")
    _one_line_exit_2(res, "'kwonly' is keyword-only", "--arg sets one of: x, y")
    assert "has no argument" not in res.output
    res = run(f"{src}:f", "--arg", "x=1.0", "--arg", "args=2.0")
    _one_line_exit_2(res, "'args' is *args")
    res = run(f"{src}:f", "--arg", "x=1.0", "--arg", "zz=2.0")
    _one_line_exit_2(res, "no parameter 'zz'", "--arg sets one of: x, y")
    res = run(f"{src}:f", "--arg", "y=3.0")
    _one_line_exit_2(res, "missing --arg x")
    res = run(f"{src}:f", "--arg", "x=1.5", "--json")  # y keeps its default, not differentiated
    doc = json.loads(res.output)
    assert doc["value"][0]["values"] == 3.0 and list(doc["gradient"]) == ["x"]
    assert doc["gradient"]["x"]["values"] == pytest.approx(2.0)


def test_kernel_example_at_80_columns_cuts_no_number() -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "COLUMNS": "80", "TERM": "xterm"}
    out = subprocess.run(
        [sys.executable, "-c", "from chainorder.cli import app; app()", "trace",
         f"{EXAMPLES}/kernel_exercise.py:f", "--arg", "ell=[0.1,0.12]", "--arg", "X=50x2"],
        capture_output=True, text=True, env=env, check=True,
    ).stdout  # fmt: skip
    assert "…" not in out
    assert "27,800,508" in out and "272,554" in out  # README figures, whole
    table_lines = [line for line in out.splitlines() if line[:1] in "│┃┏┡└"]
    assert table_lines and all(len(line) <= 80 for line in table_lines)


def test_parse_arg_fuzz_never_raises_anything_but_a_chainorder_error() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from chainorder.errors import ChainorderError

    pieces = st.sampled_from(
        ["x", "=", "1", "0", "x", "[", "]", ",", ".", "-", "e", "nan", "inf", "9" * 30, " ",
         "65536", "é", "\x00", "1e400", "x1", "_"]
    )  # fmt: skip
    texts = st.one_of(st.text(max_size=30), st.lists(pieces, max_size=12).map("".join))

    @settings(max_examples=400, deadline=None)
    @given(texts)
    def check(text: str) -> None:
        try:
            name, value = parse_arg(text, np.random.default_rng(0), "1MiB")
        except ChainorderError as exc:
            assert "\n" not in str(exc)
            return
        assert name.isidentifier()
        assert np.all(np.isfinite(value)) and np.asarray(value).nbytes <= 2**20

    check()


@pytest.mark.parametrize(
    "args",
    [
        ["--arg", "x"], ["--arg", "x="], ["--arg", "1x=2"], ["--arg", "x=1x"], ["--arg", "x=[]"],
        ["--arg", "x=[1,,2]"], ["--arg", "x=[1,a]"], ["--arg", "x=0"], ["--arg", "x=3x0x2"],
        ["--arg", "x=1.0", "--arg", "x=1.0"], ["--arg", "y=1.0"],
        ["--arg", "x=1.0", "--seed", "-5"],
        ["--arg", "x=1.0", "--max-memory", "-1"], ["--arg", "x=1.0", "--max-memory", "1.5XB"],
        ["--arg", "x=" + "7" * 50 + "x2"], ["--arg", "x=1e309"], ["--arg", "x=-nan"],
    ],
)  # fmt: skip
def test_bad_trace_inputs_are_one_line_exit_2(args: list[str]) -> None:
    _one_line_exit_2(run(f"{EXAMPLES}/sqrt_cos.py:f", *args))


def test_unwritable_dot_path_is_refused_before_any_work(tmp_path: Path) -> None:
    res = run(
        f"{EXAMPLES}/sqrt_cos.py:f", "--arg", "x=1.0", "--dot", str(tmp_path / "no" / "g.dot")
    )
    _one_line_exit_2(res, "--dot", "does not exist")
    res = run(f"{EXAMPLES}/sqrt_cos.py:f", "--arg", "x=1.0", "--dot", str(tmp_path))
    _one_line_exit_2(res, "is a directory")
