"""The ``chainorder`` command line: a thin typer app over the library.

Each sub-command lives in its own module exposing ``register(app)``; this module only
assembles them. No logic of its own: the app and its error policy live in
:mod:`chainorder.cli.common`, where every usage error (typer/click's own included) and every
:class:`~chainorder.errors.ChainorderError` becomes one ``error: ...`` line on stderr with exit
status 2, for every command registered here.
"""

from __future__ import annotations

import importlib

from chainorder.cli.common import app

__all__ = ["app", "main"]

_COMMAND_MODULES = (
    "chainorder.cli.plan_command",
    "chainorder.cli.trace_command",
    "chainorder.cli.validate_command",
    "chainorder.cli.bench_command",
)

for _name in _COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    """Console-script entry point (``chainorder``, also under ``python -m``)."""
    app(prog_name="chainorder")
