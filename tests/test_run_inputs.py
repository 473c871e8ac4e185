"""Bad input to validate, bench and their library calls: a specific error, one line, exit 2."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import chainorder
from chainorder.bench import iter_suite, run_suite
from chainorder.cli import app
from chainorder.errors import ChainorderError, SpecError, SpecTypeError
from chainorder.nets import MLP, random_jacobians
from chainorder.runner import MAX_REPEAT, ValidationRun

runner = CliRunner()


def _one_line_exit_2(args: list[str]) -> str:
    r = runner.invoke(app, args)
    assert r.exit_code == 2, (args, r.output)
    assert r.output.startswith("error: ") and r.output.count("\n") == 1, (args, r.output)
    assert "Traceback" not in r.output and not isinstance(r.exception, ChainorderError)
    return r.output


V = ["validate", "--dims", "4,3,tanh,2", "--repeat", "1"]
B = ["bench", "--suite", "smoke", "--repeat", "1", "--no-frameworks", "--no-memory"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([*V, "--seed", "-1"], "seed must be a non-negative integer, got -1"),
        ([*V, "--seed", "-99999999999999999999999"], "seed must be a non-negative integer"),
        ([*V, "--rtol", "-1"], "rtol must be positive and finite, got -1"),
        ([*V, "--rtol", "0"], "rtol must be positive"),
        ([*V, "--rtol", "nan"], "rtol must be positive and finite, got nan"),
        ([*V, "--rtol", "inf"], "got inf"),
        ([*V, "--rtol", "-inf"], "got -inf"),
        ([*V, "--repeat", "0"], "repeat must be an integer from 1 to"),
        ([*V, "--repeat", "-5"], "got -5"),
        ([*V, "--repeat", str(MAX_REPEAT + 1)], f"from 1 to {MAX_REPEAT}"),
        ([*V, "--repeat", "9" * 40], "repeat must be an integer"),
        ([*V, "--dtype", "int64"], "not a floating or complex dtype"),
        ([*V, "--dtype", "bool"], "not a floating or complex dtype"),
        ([*V, "--dtype", "[("], "unknown dtype"),
        ([*V, "--dtype", ""], "unknown dtype"),
        ([*V, "--dtype", "object"], "not a floating or complex dtype"),
        ([*V, "--backend", "tpu"], "unknown backend 'tpu'"),
        ([*V, "--backend", ""], "unknown backend"),
        ([*V, "--setting", "lazy"], "unknown memory setting"),
        ([*V, "--max-memory", "0"], "must be positive"),
        ([*V, "--max-memory", "-1GiB"], "cannot read"),
        ([*V, "--max-memory", "lots"], "cannot read 'lots' as a memory size"),
        ([*V, "--max-memory", "1e9"], "cannot read"),
        ([*V, "--max-memory", "12 furlongs"], "cannot read"),
        ([*V, "--max-memory", "100B"], "needs"),
        (["validate", "--dims", "3,mystery"], "unknown word 'mystery'"),
        (["validate", "--dims", "0,3"], "widths must be positive"),
        (["validate", "--dims", "3,4", "--all-trees", "--seed", "-2"], "seed must be"),
        ([*B, "--seed", "-1"], "seed must be a non-negative integer, got -1"),
        ([*B, "--repeat", "0"], "repeat must be an integer from 1 to"),
        ([*B, "--repeat", str(10**30)], "repeat must be an integer"),
        ([*B, "--threads", "0"], "--threads must be at least 1"),
        ([*B, "--threads", "-3"], "--threads must be at least 1"),
        ([*B, "--suite", "nope"], "unknown suite 'nope'"),
        ([*B, "--suite", ""], "unknown suite ''"),
        ([*B, "--suite", "SMOKE"], "unknown suite 'SMOKE'"),
        ([*B, "--format", "xml"], "unknown --format 'xml'"),
        ([*B, "--format", ""], "unknown --format"),
        ([*B, "--max-memory", "x"], "cannot read 'x' as a memory size"),
        ([*B, "--max-memory", "0"], "must be positive"),
        ([*B, "--max-memory", "4KiB"], "but the limit is 4 KiB"),
        ([*B, "--out", "/no/such/folder/x.md"], "does not exist"),
        ([*B, "--plot", "/no/such/folder/x.png"], "does not exist"),
    ],
)
def test_bad_cli_input_is_one_line_exit_2(args: list[str], message: str) -> None:
    assert message in _one_line_exit_2(args)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: chainorder.validate("3,4", seed=-1), SpecError, "seed must be a non-negative"),
        (lambda: chainorder.validate("3,4", seed=1.5), SpecTypeError, "got 1.5"),
        (lambda: chainorder.validate("3,4", seed=True), SpecTypeError, "got True"),
        (lambda: chainorder.validate("3,4", seed="1"), SpecTypeError, "got '1'"),
        (lambda: chainorder.validate("3,4", rtol=-1), SpecError, "rtol must be positive"),
        (lambda: chainorder.validate("3,4", rtol=0.0), SpecError, "rtol must be positive"),
        (lambda: chainorder.validate("3,4", rtol=math.nan), SpecError, "got nan"),
        (lambda: chainorder.validate("3,4", rtol=math.inf), SpecError, "got inf"),
        (lambda: chainorder.validate("3,4", rtol="1e-3"), SpecTypeError, "rtol must be"),
        (lambda: chainorder.validate("3,4", rtol=True), SpecTypeError, "rtol must be"),
        (lambda: chainorder.validate("3,4", repeat=0), SpecError, "repeat must be"),
        (lambda: chainorder.validate("3,4", repeat=2.0), SpecTypeError, "repeat must be"),
        (lambda: chainorder.validate("3,4", repeat=10**30), SpecError, "repeat must be"),
        (lambda: chainorder.validate("3,4", warmup=-1), SpecError, "warmup must be"),
        (lambda: chainorder.validate("3,4", max_memory=-5), SpecError, "must be positive"),
        (lambda: chainorder.validate("3,4", max_memory=1.5), SpecError, "memory size"),
        (lambda: chainorder.validate("3,4", max_memory="huge"), SpecError, "memory size"),
        (lambda: MLP("3,4", seed=-7), SpecError, "seed must be"),
        (lambda: MLP("3,4", max_memory=0), SpecError, "must be positive"),
        (lambda: random_jacobians("3,4", seed=-1), SpecError, "seed must be"),
        (lambda: ValidationRun("3,4", repeat=-1), SpecError, "repeat must be"),
        (lambda: run_suite("smoke", seed=-1), SpecError, "seed must be"),
        (lambda: run_suite("smoke", repeat=0), SpecError, "repeat must be"),
        (lambda: run_suite("smoke", blas_threads=0), SpecError, "blas_threads must be"),
        (lambda: run_suite("nope"), SpecError, "unknown suite"),
        (lambda: list(iter_suite("smoke", seed=-1)), SpecError, "seed must be"),
    ],
)
def test_bad_library_input_raises_a_specific_error(call: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message) as info:
        call()
    assert isinstance(info.value, ChainorderError) and "\n" not in str(info.value)


def test_refusals_happen_before_any_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import chainorder.runner as runner_module

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a plan ran although the arguments were bad")

    monkeypatch.setattr(runner_module, "run_plan", never)
    for kwargs in ({"seed": -1}, {"repeat": 0}, {"rtol": -1.0}, {"max_memory": "1B"}):
        with pytest.raises(ChainorderError):
            chainorder.validate("5,4,3", **kwargs)
    with pytest.raises(ChainorderError):
        run_suite("smoke", max_memory="1KiB")


def _check_exit_2(args: list[str], r: Any) -> None:
    """Exit 2 is one ``error:`` line; values typer cannot convert are click's usage errors,
    whose one-line form belongs to chainorder.cli.common (only their exit status is ours)."""
    if r.exit_code == 2 and not r.output.startswith("Usage:"):
        assert r.output.count("\n") == 1 and r.output.startswith("error: "), (args, r.output)


_WORDS = ["-1", "0", "1", "-0", "nan", "inf", "", " ", "x", "1e3", "2GiB", "1.5", "9" * 30]
_VALIDATE_OPTIONS = ["--seed", "--repeat", "--rtol", "--dtype", "--backend", "--setting"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from([*_VALIDATE_OPTIONS, "--max-memory"]), st.sampled_from(_WORDS)),
        min_size=1,
        max_size=3,
    )
)
def test_fuzz_validate_options_never_traceback(options: list[tuple[str, str]]) -> None:
    args = ["validate", "--dims", "3,4,tanh", "--repeat", "1"]
    for option, value in options:
        args += [option, value]
    r = runner.invoke(app, args)
    assert r.exception is None or isinstance(r.exception, SystemExit), (args, r.exception)
    assert r.exit_code in (0, 1, 2) and "Traceback" not in r.output
    _check_exit_2(args, r)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["--seed", "--repeat", "--threads", "--format", "--max-memory"]),
            st.sampled_from(_WORDS),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_fuzz_bench_options_never_traceback(options: list[tuple[str, str]]) -> None:
    args = list(B)
    for option, value in options:
        args += [option, value]
    r = runner.invoke(app, args)
    assert r.exception is None or isinstance(r.exception, SystemExit), (args, r.exception)
    assert r.exit_code in (0, 2) and "Traceback" not in r.output
    _check_exit_2(args, r)


@settings(max_examples=80, deadline=None)
@given(
    seed=st.one_of(st.integers(max_value=-1), st.floats(), st.booleans(), st.text(max_size=3)),
    rtol=st.one_of(st.floats(max_value=0.0), st.just(math.inf), st.just(math.nan)),
)
def test_fuzz_library_seed_and_rtol(seed: Any, rtol: float) -> None:
    with pytest.raises(ChainorderError):
        chainorder.validate("3,2", seed=seed, repeat=1)
    with pytest.raises(ChainorderError):
        chainorder.validate("3,2", rtol=rtol, repeat=1)


def test_overflow_is_reported_as_non_finite_without_warnings() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning may escape
        r = chainorder.validate(
            "200,exp,exp,exp,exp,200", setting="streamed", dtype="float16", repeat=1
        )
    assert not r.ok and r.non_finite == ("forward", "reverse", "optimal")
    assert "have inf or nan entries (the values overflow float16): FAILED" in r.verdict
    with pytest.raises(ChainorderError, match="cannot be judged"):
        r.raise_if_disagree()
    assert chainorder.validate("200,exp,200", dtype="float16", repeat=1).non_finite == ()
    out = runner.invoke(
        app,
        ["validate", "--dims", "9,exp,exp,exp,exp,exp", "--setting", "streamed", "--repeat", "1"],
    )
    assert out.exit_code == 1 and "the values overflow float64" in out.output
