"""Memory guard of validate, bench and MLP: refused in one line before anything is allocated."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner

import chainorder
from chainorder.bench import run_suite
from chainorder.cli import app
from chainorder.errors import MemoryLimitError
from chainorder.nets import MLP, jacobian_bytes, random_jacobians
from chainorder.runner import ValidationRun
from chainorder.units import format_bytes

runner = CliRunner()
TINY = 1024 * 1024  # bytes a refused call may allocate: messages, plans, typer objects; no arrays


def _peak(fn: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def _refused(fn: Callable[[], Any]) -> str:
    """Run ``fn``, which must raise MemoryLimitError without allocating; return the message."""
    caught: list[MemoryLimitError] = []

    def call() -> None:
        with pytest.raises(MemoryLimitError) as info:
            fn()
        caught.append(info.value)

    assert _peak(call) < TINY
    return str(caught[0])


@pytest.mark.parametrize(
    "call",
    [
        lambda: chainorder.validate("50000,50000,50000", max_memory="2GiB"),
        lambda: chainorder.validate("1000000,1000000,1000000"),  # default: share of available
        lambda: chainorder.validate("100000,100000,100000", setting="streamed"),
        lambda: chainorder.MLP("100000,100000,100000"),
        lambda: chainorder.MLP("3000,3000", max_memory="64KiB"),
        lambda: random_jacobians("50000,50000,50000", max_memory="1GiB"),
        lambda: run_suite("hourglass", repeat=1, max_memory="100MiB", frameworks=False),
    ],
)
def test_library_refuses_before_allocating(call: Callable[[], Any]) -> None:
    message = _refused(call)
    assert "\n" not in message and " needs " in message and "max-memory" in message


def test_message_names_both_figures_exactly() -> None:
    # peak at the comparison: the two input Jacobians + reference + result + two temporaries,
    # each 50000² float64
    message = _refused(lambda: chainorder.validate("50000,50000,50000", max_memory="2GiB"))
    assert "but the limit is 2 GiB" in message
    assert jacobian_bytes("50000,50000,50000") == 2 * 50000 * 50000 * 8
    assert format_bytes(6 * 50000 * 50000 * 8) == "112 GiB"
    assert "needs 112 GiB but" in message


def test_widths_of_any_size_are_refused_exactly() -> None:
    message = _refused(lambda: chainorder.validate(f"{10**30},3,{10**30}"))
    assert "e+" in message and "EiB" in message  # an exact int, formatted without overflow


def test_mlp_limit_is_its_parameters() -> None:
    # 3000·3000 + 3000 float64 parameters = 68.7 MiB (+ draws): fits 1 GiB, not 64 MiB
    assert MLP("3000,3000", max_memory="1GiB").parameter_bytes == (3000 * 3000 + 3000) * 8
    assert "needs" in _refused(lambda: MLP("3000,3000", max_memory="64MiB"))


@pytest.mark.parametrize(
    ("spec", "setting"),
    [
        ("300,200,tanh,200,tanh,10", "given"),
        ("300,200,tanh,200,tanh,10", "streamed"),
        ("600,40,600,40,600", "given"),
        ("40,3000,relu,20", "streamed"),
        ("2000,3,diag,2000", "given"),
        ("200,diag,100,tanh", "streamed"),
    ],
)
def test_required_bytes_cover_what_the_run_allocates(spec: str, setting: str) -> None:
    def measure() -> int:
        run = ValidationRun(spec, setting=setting, repeat=1, measure_memory=False)
        return _peak(lambda: list(run.measurements())), run.required_bytes

    measure()  # first-time caches (imports, BLAS buffers) are not the run's
    peak, required = measure()
    # the prediction covers the arrays; Python objects and a ufunc buffer add < 128 KiB
    assert required * 0.5 <= peak <= required + 128 * 1024


def test_memory_error_that_still_happens_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import chainorder.runner as runner_module

    def broke(*args: Any, **kwargs: Any) -> Any:
        raise MemoryError

    monkeypatch.setattr(runner_module, "run_plan", broke)
    with pytest.raises(MemoryLimitError, match="ran out of memory although"):
        chainorder.validate("3,4,5", repeat=1)
    r = runner.invoke(app, ["validate", "--dims", "3,4,5", "--repeat", "1"])
    assert r.exit_code == 2 and r.output.count("\n") == 1 and "ran out of memory" in r.output


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "--dims", "50000,50000,50000"],
        ["validate", "--dims", "100000,100000,100000"],
        ["validate", "--dims", "1000000,1000000,1000000"],
        ["validate", "--dims", "50000,50000,50000", "--max-memory", "2GiB"],
        ["validate", "--dims", "3000,3000", "--setting", "streamed", "--max-memory", "1MiB"],
        ["bench", "--suite", "hourglass", "--max-memory", "100MiB", "--no-frameworks"],
        ["bench", "--suite", "smoke", "--max-memory", "4KiB"],
    ],
)
def test_cli_refuses_in_one_line_before_allocating(args: list[str]) -> None:
    results = []
    peak = _peak(lambda: results.append(runner.invoke(app, args)))
    r = results[0]
    assert r.exit_code == 2, r.output
    assert r.output.count("\n") == 1 and r.output.startswith("error: ") and "needs" in r.output
    assert "Traceback" not in r.output and peak < TINY


def test_cli_runs_within_a_limit_that_fits() -> None:
    r = runner.invoke(
        app, ["validate", "--dims", "30,35,15,5", "--repeat", "1", "--max-memory", "1GiB"]
    )
    assert r.exit_code == 0 and "OK" in r.output
