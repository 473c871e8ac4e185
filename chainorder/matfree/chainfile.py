"""Chain files: a JSON chain of layers, and the GDJCPB plain-text instance format.

GDJCPB (Naumann's generalised dense Jacobian chain product; the STCE reference code reads it)::

    3          <- number of factors
    3 3 29     <- one line per factor from the input side: m n |E|
    1 3 14
    2 1 7

Each factor becomes ``custom(m, n, |E|)`` (tangent = adjoint = |E|). Blank lines and lines
starting with ``#`` are skipped.

JSON chain file (written by :func:`write_chain_file`)::

    {"format": "chainorder-chain", "version": 1, "links": [LINK, ...]}

or a bare list of LINK objects, from the input side. A LINK is an object with ``"kind"`` and:

- ``dense``: ``rows``, ``cols``;
- ``elementwise``: ``size`` (or ``rows``/``cols``), optional ``function`` (``"tanh"``, ...);
- ``conv1d``: ``in_channels``, ``in_shape`` (``[L]``), ``out_channels``, ``kernel``, optional
  ``stride`` (1), ``padding`` (0); ``conv2d`` the same with ``in_shape`` ``[H, W]`` and
  ``kernel``/``stride``/``padding`` an int or ``[a, b]``;
- ``custom``: ``rows``, ``cols``, ``tangent``, optional ``adjoint`` (= tangent), ``tape`` (0),
  ``forward`` (= tangent);
- any kind: optional ``given`` (false). For the layer kinds, stated ``rows``, ``cols``,
  ``tangent``, ``adjoint``, ``tape``, ``forward`` and ``out_shape`` are re-checked against the
  values the layer gives.

Errors are :class:`~chainorder.errors.SpecError` naming the file, the line and what is wrong.
"""

from __future__ import annotations

import json
import os
from json.scanner import py_make_scanner
from pathlib import Path
from typing import Any

from chainorder.atomic import write_atomic
from chainorder.errors import SpecError
from chainorder.matfree.links import LinkCost, conv1d, conv2d, custom, dense, elementwise
from chainorder.matfree.solver import check_links

__all__ = [
    "CHAIN_FORMAT",
    "CHAIN_FORMAT_VERSION",
    "chain_json",
    "link_from_dict",
    "link_to_dict",
    "parse_chain_json",
    "parse_gdjcpb",
    "read_chain_file",
    "write_chain_file",
]

CHAIN_FORMAT = "chainorder-chain"
CHAIN_FORMAT_VERSION = 1

_DERIVED = ("rows", "cols", "tangent", "adjoint", "tape", "forward")
_KEYS = {
    "dense": {"rows", "cols"},
    "elementwise": {"size", "function", "rows", "cols"},
    "conv1d": {"in_channels", "in_shape", "out_channels", "kernel", "stride", "padding"},
    "conv2d": {"in_channels", "in_shape", "out_channels", "kernel", "stride", "padding"},
    "custom": {"rows", "cols", "tangent", "adjoint", "tape", "forward"},
}


class _LineDict(dict):  # type: ignore[type-arg]
    """A JSON object that remembers the line it starts on."""

    line = 0


def _loads_with_lines(text: str) -> Any:
    decoder = json.JSONDecoder()
    plain = decoder.parse_object

    def parse_object(s_and_end, *args):  # type: ignore[no-untyped-def]
        s, end = s_and_end
        obj, new_end = plain(s_and_end, *args)
        out = _LineDict(obj)
        out.line = s.count("\n", 0, end) + 1
        return out, new_end

    decoder.parse_object = parse_object  # type: ignore[method-assign]
    decoder.scan_once = py_make_scanner(decoder)
    return decoder.decode(text)


def _int(value: object, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SpecError(f"{what} is {value!r}; expected an integer >= {minimum}")
    return value


def _ints(value: object, what: str, minimum: int) -> int | tuple[int, ...]:
    if isinstance(value, list):
        return tuple(_int(v, what, minimum) for v in value)
    return _int(value, what, minimum)


def link_from_dict(data: dict[str, Any]) -> LinkCost:
    """One link from its JSON object (schema in the module notes).

    Raises
    ------
    SpecError
        Missing or unknown keys, bad values, or stated costs that disagree with the layer.

    Examples
    --------
    >>> link_from_dict({"kind": "conv2d", "in_channels": 1, "in_shape": [28, 28],
    ...                 "out_channels": 8, "kernel": 3}).rows
    5408

    Notes
    -----
    O(1).
    """
    if not isinstance(data, dict):
        raise SpecError(f"a link must be a JSON object, got {type(data).__name__}")
    data = dict(data)
    params = data.pop("params", None)
    if isinstance(params, dict):  # the nested form of LinkCost.to_dict
        data = {**params, **data}
    kind = data.pop("kind", None)
    if kind not in _KEYS:
        raise SpecError(f"link kind is {kind!r}; expected one of {', '.join(_KEYS)}")
    given = data.pop("given", False)
    if not isinstance(given, bool):
        raise SpecError(f"given is {given!r}; expected true or false")
    out_shape = data.pop("out_shape", None)
    unknown = set(data) - _KEYS[kind] - set(_DERIVED)
    if unknown:
        raise SpecError(
            f"unknown key(s) {', '.join(sorted(unknown))} for a {kind} link; expected "
            f"{', '.join(sorted(_KEYS[kind] | {'given'}))}"
        )

    def need(key: str) -> Any:
        if key not in data:
            raise SpecError(f"a {kind} link needs {key!r}")
        return data[key]

    if kind == "dense":
        link = dense(_int(need("rows"), "rows", 1), _int(need("cols"), "cols", 1), given=given)
    elif kind == "elementwise":
        size = data.get("size", data.get("rows", data.get("cols")))
        if size is None:
            raise SpecError("an elementwise link needs 'size'")
        function = data.get("function", "elementwise")
        if not isinstance(function, str):
            raise SpecError(f"function is {function!r}; expected a name such as 'tanh'")
        link = elementwise(_int(size, "size", 1), function, given=given)
    elif kind == "custom":
        link = custom(
            _int(need("rows"), "rows", 1),
            _int(need("cols"), "cols", 1),
            _int(need("tangent"), "tangent", 0),
            _int(data["adjoint"], "adjoint", 0) if "adjoint" in data else None,
            _int(data.get("tape", 0), "tape", 0),
            _int(data["forward"], "forward", 0) if "forward" in data else None,
            given=given,
        )
        return link
    else:
        shape = _ints(need("in_shape"), "in_shape", 1)
        shape = shape if isinstance(shape, tuple) else (shape,)
        common = (
            _int(need("in_channels"), "in_channels", 1),
            _int(need("out_channels"), "out_channels", 1),
            _ints(need("kernel"), "kernel", 1),
            _ints(data.get("stride", 1), "stride", 1),
            _ints(data.get("padding", 0), "padding", 0),
        )
        ci, co, k, s, p = common
        if kind == "conv1d":
            if len(shape) != 1:
                raise SpecError(f"a conv1d in_shape is [L], got {list(shape)}")
            one = [v[0] if isinstance(v, tuple) and len(v) == 1 else v for v in (k, s, p)]
            link = conv1d(ci, shape[0], co, *one, given=given)  # type: ignore[arg-type]
        else:
            if len(shape) != 2:
                raise SpecError(f"a conv2d in_shape is [H, W], got {list(shape)}")
            link = conv2d(ci, shape, co, k, s, p, given=given)  # type: ignore[arg-type]
        if out_shape is not None and tuple(out_shape) != link.param("out_shape"):
            raise SpecError(
                f"stated out_shape {out_shape} but the layer gives {list(link.param('out_shape'))}"
            )
    for key in _DERIVED:
        if key in data and (kind != "elementwise" or key not in ("rows", "cols")):
            if data[key] != getattr(link, key):
                raise SpecError(
                    f"stated {key} {data[key]!r} but a {kind} link with these parameters has "
                    f"{getattr(link, key)}"
                )
    if kind == "elementwise":
        for key in ("rows", "cols"):
            if key in data and data[key] != link.rows:
                raise SpecError(f"stated {key} {data[key]!r} but the size is {link.rows}")
    return link


def link_to_dict(link: LinkCost) -> dict[str, Any]:
    """The flat JSON object of a link (every parameter and cost; read back by
    :func:`link_from_dict`).

    Examples
    --------
    >>> link_to_dict(elementwise(4, "tanh"))["function"]
    'tanh'

    Notes
    -----
    O(1).
    """
    out: dict[str, Any] = {"kind": link.kind}
    for key, value in link.params:
        out[key] = list(value) if isinstance(value, tuple) else value
    if link.kind == "elementwise":
        out["size"] = link.rows
    for key in _DERIVED:
        out[key] = getattr(link, key)
    out["given"] = link.given
    return out


def chain_json(links: tuple[LinkCost, ...] | list[LinkCost], indent: int | None = 2) -> str:
    """The JSON chain file text of ``links``.

    Notes
    -----
    O(L).
    """
    links = check_links(links)
    data = {
        "format": CHAIN_FORMAT,
        "version": CHAIN_FORMAT_VERSION,
        "links": [link_to_dict(link) for link in links],
    }
    return json.dumps(data, indent=indent) + "\n"


def parse_chain_json(text: str, source: str = "chain file") -> tuple[LinkCost, ...]:
    """Links from JSON chain-file text.

    Raises
    ------
    SpecError
        Invalid JSON, a wrong format/version, a bad link (naming its line), or links that do
        not chain.

    Examples
    --------
    >>> parse_chain_json('[{"kind": "dense", "rows": 2, "cols": 3}]')[0].shape
    (2, 3)

    Notes
    -----
    O(len(text)).
    """
    try:
        data = _loads_with_lines(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{source} line {exc.lineno}: invalid JSON: {exc.msg}") from None
    if isinstance(data, dict):
        line = getattr(data, "line", 1)
        if data.get("format") != CHAIN_FORMAT:
            raise SpecError(
                f'{source} line {line}: not a chain file; expected "format": "{CHAIN_FORMAT}" '
                "or a list of links"
            )
        if data.get("version") != CHAIN_FORMAT_VERSION:
            raise SpecError(
                f"{source} line {line}: chain format version {data.get('version')!r} is not "
                f"supported; expected {CHAIN_FORMAT_VERSION}"
            )
        items = data.get("links")
    else:
        items = data
    if not isinstance(items, list) or not items:
        raise SpecError(f"{source}: expected a non-empty list of links")
    links = []
    for l, item in enumerate(items, start=1):
        line = getattr(item, "line", "?")
        try:
            links.append(link_from_dict(item))
        except SpecError as exc:
            raise SpecError(f"{source} line {line} (link {l}): {exc}") from None
        if l > 1 and links[-1].cols != links[-2].rows:
            raise SpecError(
                f"{source} line {line} (link {l}): {links[-1].cols} inputs but link {l - 1} "
                f"has {links[-2].rows} outputs; expected them equal"
            )
    return tuple(links)


def parse_gdjcpb(text: str, source: str = "chain file") -> tuple[LinkCost, ...]:
    """Links from a GDJCPB instance (format in the module notes).

    Raises
    ------
    SpecError
        Naming the line: a bad count, a line without three integers, a zero size, a factor
        whose ``n`` differs from the previous ``m``, or a wrong number of factor lines.

    Examples
    --------
    >>> [l.tangent for l in parse_gdjcpb("3\\n3 3 29\\n1 3 14\\n2 1 7\\n")]
    [29, 14, 7]

    Notes
    -----
    O(len(text)).
    """
    lines = [
        (no, raw.split("#", 1)[0].split())
        for no, raw in enumerate(text.splitlines(), start=1)
        if raw.split("#", 1)[0].strip()
    ]
    if not lines:
        raise SpecError(f"{source}: empty; expected the number of factors on the first line")
    no, first = lines[0]
    if len(first) != 1 or not first[0].isdigit() or int(first[0]) < 1:
        raise SpecError(
            f"{source} line {no}: {' '.join(first)!r}; expected the number of factors (>= 1)"
        )
    count = int(first[0])
    factors = lines[1:]
    links: list[LinkCost] = []
    for index, (no, words) in enumerate(factors, start=1):
        if index > count:
            raise SpecError(f"{source} line {no}: more factor lines than the {count} announced")
        if len(words) != 3 or not all(w.isdigit() for w in words):
            raise SpecError(
                f"{source} line {no}: {' '.join(words)!r}; expected three non-negative "
                "integers 'm n cost'"
            )
        m, n, cost = (int(w) for w in words)
        if m < 1 or n < 1:
            raise SpecError(f"{source} line {no}: m and n must be >= 1, got {m} and {n}")
        if links and n != links[-1].rows:
            raise SpecError(
                f"{source} line {no}: factor {index} has n = {n} but factor {index - 1} has "
                f"m = {links[-1].rows}; expected them equal (factors listed from the input side)"
            )
        links.append(custom(m, n, cost))
    if len(links) != count:
        raise SpecError(f"{source}: {count} factors announced but {len(links)} factor lines found")
    return tuple(links)


def read_chain_file(path: str | os.PathLike[str]) -> tuple[LinkCost, ...]:
    """Read a JSON chain file or a GDJCPB instance (JSON when it starts with ``{`` or ``[``).

    Raises
    ------
    SpecError
        Unreadable file or bad content, naming the line.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = tempfile.mkdtemp()
    >>> p = pathlib.Path(folder, "chain.txt")
    >>> _ = p.write_text("3\\n3 3 29\\n1 3 14\\n2 1 7\\n")
    >>> len(read_chain_file(p))
    3

    Notes
    -----
    O(file size).
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read chain file {source}: {exc}") from None
    if text.lstrip().startswith(("{", "[")):
        return parse_chain_json(text, source)
    return parse_gdjcpb(text, source)


def write_chain_file(
    path: str | os.PathLike[str], links: tuple[LinkCost, ...] | list[LinkCost]
) -> Path:
    """Write ``links`` as a JSON chain file, atomically.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp(), "c.json")
    >>> _ = write_chain_file(p, [dense(3, 2), elementwise(3, "relu")])
    >>> [l.label for l in read_chain_file(p)]
    ['dense', 'relu']

    Notes
    -----
    O(L).
    """
    return write_atomic(path, chain_json(links))
