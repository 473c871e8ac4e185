"""Without the optional ``dask`` extra: clear one-line errors, and NumPy runs unaffected
(issue 13 item 6). Dask is hidden with ``sys.modules`` so this runs with or without it."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from chainorder.backend import get_backend, namespace_of
from chainorder.cli import app
from chainorder.errors import ExecutionError
from chainorder.execute import evaluate
from chainorder.plan import plan


@pytest.fixture
def no_dask(monkeypatch):
    for name in ("dask", "dask.array", "distributed"):
        monkeypatch.setitem(__import__("sys").modules, name, None)


def test_dask_backend_without_dask_names_the_extra(no_dask):
    with pytest.raises(ExecutionError, match=r"jacobian-chainorder\[dask\]"):
        get_backend("dask")
    res = CliRunner().invoke(app, ["validate", "--dims", "3,4", "--backend", "dask"])
    assert res.exit_code == 2
    assert res.output.count("\n") == 1 and "jacobian-chainorder[dask]" in res.output


def test_numpy_never_imports_dask(no_dask):
    J = np.arange(6.0).reshape(3, 2)
    assert namespace_of([J]).name == "numpy"
    np.testing.assert_array_equal(evaluate(plan("2,3"), [J]), J)
