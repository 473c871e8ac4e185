"""One-line messages for typer/click's own usage errors (``chainorder.cli.common`` uses them).

Split from :mod:`chainorder.cli.common`: :func:`usage_line` says what was wrong, for which
command, and where the expected form is documented; :func:`one_line` flattens any message.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

try:  # typer >= 0.2x ships its own copy of click
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - older typer on top of click
    from click import exceptions as click_errors  # type: ignore[no-redef]

__all__ = ["click_errors", "one_line", "usage_line"]


def one_line(message: str) -> str:
    r"""``message`` as a single printable line: breaks joined, control characters escaped.

    Examples
    --------
    >>> one_line("unknown word 'x':\n  expected a width\x07")
    "unknown word 'x': expected a width\\x07"

    Notes
    -----
    O(len(message)).
    """
    text = re.sub(r"\s*[\r\n\u2028\u2029]+\s*", " ", message.strip())
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _sentence(text: str) -> str:
    """One line, first letter lower-case, no final period (the ``error:`` line style)."""
    text = one_line(str(text)).rstrip(".")
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


_EXPECTED = {"int": "an integer", "float": "a number", "bool": "true or false"}


def _param_name(param: Any) -> str:
    opts = [o for o in getattr(param, "opts", []) if o.startswith("--")]
    if getattr(param, "param_type_name", "") == "option" and opts:
        return opts[0]
    name = getattr(param, "metavar", None) or getattr(param, "name", None) or "value"
    return str(name).upper()


def _bad_value(exc: Any) -> str:
    """``--repeat expects an integer, got 'x'`` from a click/typer ``BadParameter``."""
    param = getattr(exc, "param", None)
    name = _param_name(param) if param is not None else "a value"
    cause = exc.__cause__
    errors = getattr(cause, "errors", None)
    if callable(errors):  # typer >= 0.2x validates with pydantic: the bad input is kept
        with contextlib.suppress(Exception):
            first = errors()[0]
            kind, got = str(first.get("type", "")), f"got {first.get('input')!r}"
            if kind.endswith("_parsing") and kind.split("_")[0] in _EXPECTED:
                return f"{name} expects {_EXPECTED[kind.split('_')[0]]}, {got}"
            msg = re.sub(r"^value error, ", "", _sentence(str(first.get("msg", ""))))
            choice = re.search(r"is not one of (.+)$", msg)
            if choice:
                return f"{name} expects one of {choice.group(1)}, {got}"
            if msg.startswith("input should be "):
                return f"{name} must be {msg.removeprefix('input should be ')}, {got}"
            return f"invalid value for {name}: {msg}, {got}"
    return f"invalid value for {name}: {_sentence(exc.message)}"


def _takes(ctx: Any) -> str:
    names = [
        _param_name(p)
        for p in (ctx.command.params if ctx is not None else [])
        if getattr(p, "param_type_name", "") == "argument"
    ]
    return f"it takes {' '.join(names)} and options" if names else "it takes options only"


def usage_line(exc: Exception) -> str:
    """The one-line message (without ``error:``) for a click/typer usage error.

    It says what was wrong, for which command, and where the expected form is documented
    (``--repeat expects an integer, got 'x'; see 'chainorder validate --help'``).

    Examples
    --------
    >>> usage_line(click_errors.NoSuchOption("--foo", possibilities=["--format"]))
    "no such option --foo for 'chainorder' (did you mean --format?); see 'chainorder --help'"

    Notes
    -----
    O(length of the message).
    """
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "chainorder"
    see = f"; see '{path} --help'"
    message = str(getattr(exc, "message", exc))
    if isinstance(exc, click_errors.NoSuchOption):
        text = f"no such option {one_line(exc.option_name)} for '{path}'"
        if exc.possibilities:
            text += f" (did you mean {' or '.join(sorted(exc.possibilities))}?)"
        return text + see
    if isinstance(exc, click_errors.MissingParameter):
        return f"{_sentence(exc.format_message())} for '{path}'{see}"
    if isinstance(exc, click_errors.BadParameter):
        return f"{_bad_value(exc)}{see}"
    if isinstance(exc, click_errors.BadOptionUsage):
        option = one_line(exc.option_name)
        if "requires an argument" in message:
            return f"option {option} of '{path}' needs a value{see}"
        if "does not take a value" in message:
            return f"option {option} of '{path}' is a flag and takes no value{see}"
        return f"{_sentence(message)} ('{path}'){see}"
    if message.startswith("No such command"):
        commands = ", ".join(ctx.command.list_commands(ctx)) if ctx is not None else ""
        name = re.match(r"No such command (.+?)\.?( Did you mean (.+?)\?)?$", one_line(message))
        text = f"no such command {name.group(1) if name else ''}".rstrip()
        if name and name.group(3):
            text += f" (did you mean {name.group(3)}?)"
        return f"{text}; expected one of: {commands}{see}" if commands else text + see
    extra = re.match(r"Got unexpected extra arguments? ?\(?s?\)? ?\((.*)\)$", message)
    if extra:
        return f"unexpected argument {extra.group(1)!r} for '{path}' ({_takes(ctx)}){see}"
    return f"{_sentence(message)} ('{path}'){see}"
