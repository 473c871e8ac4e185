"""A compact spec for a chain of real layers: today's chain spec plus layer words.

Grammar (items separated by commas and/or spaces; commas inside parentheses belong to the item)::

    spec   := input item*
    input  := WIDTH | C "x" L | C "x" H "x" W | custom(...)     e.g. 784, 3x100, 1x28x28
    item   := WIDTH                        dense layer to that width (flattens a shape)
            | dense(M)                     the same, spelled out
            | WORD                         elementwise link at the current shape: tanh, relu,
                                           sigmoid, gelu, softplus, sin, cos, exp, square,
                                           identity, diag, elementwise
            | conv1d(OUT, k=K, stride=S, padding=P)     needs a C×L shape
            | conv2d(OUT, k=K, stride=S, padding=P)     needs a C×H×W shape
            | custom(M, N, TANGENT[, ADJOINT][, tape=T][, forward=F])

Convolution arguments may also be positional, ``conv2d(OUT, K, S, P)``; ``K``, ``S``, ``P`` of a
``conv2d`` may be ``AxB`` for different heights and widths; ``stride`` defaults to 1 and
``padding`` to 0 (aliases ``kernel``, ``s``, ``pad``). ``custom``'s ``N`` must equal the current
size. The output shape of a convolution follows ``(size + 2·padding - kernel) // stride + 1``.

Example: ``1x28x28,conv2d(8,k=3),relu,conv2d(16,k=3,stride=2),relu,10``. A spec of widths and
elementwise words only gives the same links as :meth:`chainorder.chain.Chain.parse`.
"""

from __future__ import annotations

import math
import re

from chainorder.chain import ELEMENTWISE_WORDS
from chainorder.errors import SpecError, SpecTypeError
from chainorder.matfree.links import LinkCost, conv1d, conv2d, custom, dense, elementwise

__all__ = ["parse_matrix_free", "split_items"]

_INT = re.compile(r"[+-]?\d+")
_SHAPE = re.compile(r"\d+(?:[x×]\d+)+")
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\((.*)\)", re.DOTALL)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ALIASES = {"k": "kernel", "kernel": "kernel", "stride": "stride", "s": "stride",
            "padding": "padding", "pad": "padding", "p": "padding"}


def split_items(spec: str) -> list[str]:
    """Split a spec at commas/whitespace outside parentheses.

    Raises
    ------
    SpecError
        Unbalanced parentheses.

    Examples
    --------
    >>> split_items("1x28x28, conv2d(8, k=3) relu,10")
    ['1x28x28', 'conv2d(8, k=3)', 'relu', '10']

    Notes
    -----
    O(len(spec)).
    """
    items: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in spec:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise SpecError(
                    f"unbalanced ')' after {''.join(current)!r} in the spec; expected '(' first"
                )
        if depth == 0 and (ch == "," or ch.isspace()):
            if current:
                items.append("".join(current))
                current = []
            continue
        current.append(ch)
    if depth != 0:
        raise SpecError(f"unclosed '(' in {''.join(current)!r}; expected a closing ')'")
    if current:
        items.append("".join(current))
    return items


def parse_matrix_free(spec: str, given: bool = False) -> tuple[LinkCost, ...]:
    """Parse a matrix-free chain spec (grammar in the module notes) into links.

    Parameters
    ----------
    spec : str
    given : bool
        Mark every link as also available as an array.

    Returns
    -------
    tuple of LinkCost

    Raises
    ------
    SpecError
        A malformed item, naming its position and what is expected.
    SpecTypeError
        ``spec`` is not a string.

    Examples
    --------
    >>> links = parse_matrix_free("1x28x28,conv2d(8,k=3),relu,conv2d(16,k=3,stride=2),relu,10")
    >>> [(l.label, l.rows, l.cols) for l in links]  # doctest: +NORMALIZE_WHITESPACE
    [('conv2d', 5408, 784), ('relu', 5408, 5408), ('conv2d', 2304, 5408),
     ('relu', 2304, 2304), ('dense', 10, 2304)]
    >>> parse_matrix_free("784,conv2d(8,k=3)")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    chainorder.errors.SpecError: item 2 'conv2d(8,k=3)': conv2d needs a C×H×W input shape, ...

    Notes
    -----
    O(len(spec)).
    """
    if not isinstance(spec, str):
        raise SpecTypeError(f"a matrix-free spec must be a string, got {type(spec).__name__}")
    items = split_items(spec)
    if not items:
        raise SpecError(
            "empty matrix-free spec: expected an input such as 784 or 1x28x28 followed by layers"
        )
    shape: tuple[int, ...] | None = None
    links: list[LinkCost] = []
    for pos, item in enumerate(items, start=1):
        where = f"item {pos} {item!r}"
        try:
            shape, link = _item(item, shape, pos == 1, given)
        except SpecError as exc:
            raise SpecError(f"{where}: {exc}") from None
        if link is not None:
            links.append(link)
    if not links:
        raise SpecError(
            f"the spec {spec!r} has an input but no layer; expected at least one layer after it"
        )
    return tuple(links)


def _item(
    item: str, shape: tuple[int, ...] | None, first: bool, given: bool
) -> tuple[tuple[int, ...], LinkCost | None]:
    if _SHAPE.fullmatch(item):
        if not first:
            raise SpecError("a shape CxL or CxHxW is only allowed as the input (the first item)")
        dims = tuple(int(v) for v in re.split("[x×]", item))
        if len(dims) > 3 or min(dims) < 1:
            raise SpecError("expected an input shape C×L or C×H×W of positive integers")
        return dims, None
    if _INT.fullmatch(item):
        width = int(item)
        if width < 1:
            raise SpecError("expected a positive integer width")
        if shape is None:
            return (width,), None
        return (width,), dense(width, math.prod(shape), given=given)
    call = _CALL.fullmatch(item)
    if call:
        return _call(call.group(1).lower(), call.group(2), shape, given)
    if _WORD.fullmatch(item):
        word = item.lower()
        if word not in ELEMENTWISE_WORDS:
            raise SpecError(
                "unknown word; expected a width, an elementwise word ("
                f"{', '.join(ELEMENTWISE_WORDS)}), dense(M), conv1d(...), conv2d(...) or "
                "custom(M,N,TANGENT)"
            )
        if shape is None:
            raise SpecError("an elementwise link needs an input before it (put a width first)")
        return shape, elementwise(math.prod(shape), word, given=given)
    raise SpecError(
        "expected a width, an input shape like 1x28x28, an elementwise word or a layer call "
        "such as conv2d(8,k=3)"
    )


def _args(text: str) -> tuple[list[str], dict[str, str]]:
    positional: list[str] = []
    named: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            raise SpecError("empty argument; expected comma-separated values")
        if "=" in part:
            key, _, value = (s.strip() for s in part.partition("="))
            if key in named:
                raise SpecError(f"argument {key!r} given twice")
            named[key] = value
        elif named:
            raise SpecError(f"positional argument {part!r} after a named one")
        else:
            positional.append(part)
    return positional, named


def _int(text: str, what: str, minimum: int) -> int:
    if not _INT.fullmatch(text) or int(text) < minimum:
        raise SpecError(f"{what} is {text!r}; expected an integer >= {minimum}")
    return int(text)


def _pair(text: str, what: str, minimum: int, dims: int) -> tuple[int, ...]:
    parts = re.split("[x×]", text)
    if len(parts) == 1:
        return (_int(parts[0], what, minimum),) * dims
    if len(parts) != dims:
        raise SpecError(f"{what} is {text!r}; expected one integer or {dims} joined by 'x'")
    return tuple(_int(p, what, minimum) for p in parts)


def _call(
    name: str, text: str, shape: tuple[int, ...] | None, given: bool
) -> tuple[tuple[int, ...], LinkCost]:
    positional, named = _args(text)
    if name == "custom":
        unknown = set(named) - {"tape", "forward", "adjoint"}
        if unknown or not 3 <= len(positional) <= 4:
            raise SpecError("expected custom(M, N, TANGENT[, ADJOINT][, tape=T][, forward=F])")
        m, n = _int(positional[0], "M", 1), _int(positional[1], "N", 1)
        if shape is not None and math.prod(shape) != n:
            raise SpecError(f"custom input size N = {n} but the current size is {math.prod(shape)}")
        t = _int(positional[2], "TANGENT", 0)
        adj_text = positional[3] if len(positional) == 4 else named.get("adjoint")
        a = _int(adj_text, "ADJOINT", 0) if adj_text is not None else None
        tape = _int(named.get("tape", "0"), "tape", 0)
        fwd = _int(named["forward"], "forward", 0) if "forward" in named else None
        return (m,), custom(m, n, t, a, tape, fwd, given=given)
    if shape is None:
        raise SpecError(f"{name} needs an input before it (a width or a shape such as 1x28x28)")
    if name == "dense":
        if len(positional) != 1 or named:
            raise SpecError("expected dense(M) with one output width M")
        m = _int(positional[0], "M", 1)
        return (m,), dense(m, math.prod(shape), given=given)
    if name in ("conv1d", "conv2d"):
        spatial = 1 if name == "conv1d" else 2
        if len(shape) != spatial + 1:
            need = "C×L" if spatial == 1 else "C×H×W"
            raise SpecError(
                f"{name} needs a {need} input shape, the current shape is "
                f"{'×'.join(map(str, shape))}; start the spec with e.g. "
                f"{'3x100' if spatial == 1 else '1x28x28'}"
            )
        keys = ["out_channels", "kernel", "stride", "padding"]
        if len(positional) > 4 or not positional:
            raise SpecError(f"expected {name}(OUT, k=K, stride=S, padding=P)")
        values = dict(zip(keys, positional, strict=False))
        for key, value in named.items():
            canon = _ALIASES.get(key.lower())
            if canon is None or canon in values:
                raise SpecError(
                    f"unexpected or repeated argument {key!r}; expected k=, stride=, padding="
                )
            values[canon] = value
        if "kernel" not in values:
            raise SpecError(f"{name} needs a kernel size: {name}(OUT, k=K)")
        out = _int(values["out_channels"], "out_channels", 1)
        k = _pair(values["kernel"], "kernel", 1, spatial)
        s = _pair(values.get("stride", "1"), "stride", 1, spatial)
        p = _pair(values.get("padding", "0"), "padding", 0, spatial)
        if spatial == 1:
            link = conv1d(shape[0], shape[1], out, k[0], s[0], p[0], given=given)
        else:
            link = conv2d(shape[0], shape[1:], out, k, s, p, given=given)  # type: ignore[arg-type]
        return (out, *link.param("out_shape")), link
    raise SpecError(
        f"unknown layer {name!r}; expected dense(M), conv1d(...), conv2d(...) or custom(...)"
    )
