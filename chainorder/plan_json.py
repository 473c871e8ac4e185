"""The plan's JSON document: what it holds, how it is written, and how it is read back.

Format ``chainorder-plan``, version 2. ``"method"`` names the algorithm that ran and
``"lower_bound"`` is a proven lower bound on the optimum (``null``: none; ``"gap"`` =
``mults / lower_bound − 1``); documents without them still read. Beside the figures
(``mults``, ``flops``, peaks in elements and bytes, ...) the bracketing travels in two
forms that any JSON reader parses at any length (see :mod:`chainorder.treeforms`):

``"tree"``
    compact text of the nested pairs, a JSON string such as ``"[[6,[5,4]],[[3,2],1]]"``;
``"postfix"``
    the flat post-order list of ints (link numbers, ``0`` = multiply the two below), e.g.
    ``[6, 5, 4, 0, 0, 3, 2, 0, 1, 0, 0]``.

The document has a fixed depth whatever the chain's length, so ``json.loads`` with Python's
default recursion limit and ``jq`` read a 10⁴-link plan. Version 1 documents (``"tree"`` as
nested lists, no ``"postfix"``) are still read.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from chainorder.chain import Chain
from chainorder.errors import ChainorderError, PlanFormatError, SpecError, SpecTypeError, TreeError
from chainorder.memory import Setting
from chainorder.tree import FlatTree, from_lists
from chainorder.treeforms import flat_from_postfix, postfix_from_text, to_postfix, tree_text

if TYPE_CHECKING:
    from chainorder.plan import Plan

__all__ = ["PLAN_FORMAT", "PLAN_FORMAT_VERSION", "json_text", "plan_from_json", "plan_to_dict"]

PLAN_FORMAT = "chainorder-plan"
PLAN_FORMAT_VERSION = 2
_READABLE_VERSIONS = (1, 2)


def plan_to_dict(p: Plan) -> dict[str, Any]:
    """The JSON-ready document of a plan (see the module notes).

    Examples
    --------
    >>> from chainorder.plan import plan
    >>> d = plan_to_dict(plan("30,35,15,5,10,20,25"))
    >>> d["mults"], d["tree"], d["postfix"]
    (15125, '[[6,[5,4]],[[3,2],1]]', [6, 5, 4, 0, 0, 3, 2, 0, 1, 0, 0])

    Notes
    -----
    O(L).
    """
    return {
        "format": PLAN_FORMAT,
        "version": PLAN_FORMAT_VERSION,
        "chain": p.chain.to_dict(),
        "dtype": p.dtype.name,
        "solver": p.solver,
        "method": p.method,
        "lower_bound": p.lower_bound,
        "gap": _json_float(p.gap) if p.gap is not None else None,
        "tree": tree_text(p.flat),
        "postfix": to_postfix(p.flat),
        "expression": p.expression(),
        "mode": p.mode.value,
        "mults": p.mults,
        "flops": p.flops,
        "peak_memory_elements": {
            "given": p.given.peak_elements,
            "streamed": p.streamed.peak_elements,
        },
        "peak_memory_bytes": {
            "given": p.peak_bytes(Setting.GIVEN),
            "streamed": p.peak_bytes(Setting.STREAMED),
        },
        "largest_intermediate_elements": p.largest_intermediate,
        "largest_intermediate_bytes": p.largest_intermediate_bytes,
        "forward_mults": p.forward_mults,
        "reverse_mults": p.reverse_mults,
        "speedup_vs_forward": _json_float(p.speedup_vs_forward),
        "speedup_vs_reverse": _json_float(p.speedup_vs_reverse),
        "units": {
            "mults": "scalar multiplications",
            "flops": "floating-point operations, 2 per multiply-add (BLAS convention)",
            "bytes": f"{p.dtype.name}, {p.itemsize} bytes per element",
            "tree": "postfix: link numbers, 0 = product of the two entries below (left deeper)",
        },
    }


_CHECKED = ("mode", "mults", "flops", "peak_memory_elements", "largest_intermediate_elements")


def _tree_of(data: dict[str, Any], n_links: int) -> FlatTree:
    """The stored bracketing as a flat tree; both forms, when present, must agree. O(L)."""
    postfix = data.get("postfix")
    stored = data.get("tree")
    if stored is not None and not isinstance(stored, str):  # version 1: nested lists
        from_text = to_postfix(from_lists(stored, n_links))
    elif "tree" in data:
        from_text = postfix_from_text(stored)  # type: ignore[arg-type]
    elif "postfix" not in data:
        raise KeyError("postfix")
    if "postfix" not in data:
        postfix = from_text
    flat = flat_from_postfix(postfix, n_links)  # type: ignore[arg-type]
    if "tree" in data and from_text != list(postfix):  # type: ignore[arg-type]
        raise TreeError('"tree" and "postfix" describe different bracketings')
    return flat


def _text(data: dict[str, Any], key: str) -> str:
    """The field ``key`` of a plan document, which must be a non-empty string."""
    value = data[key]
    if not isinstance(value, str) or not value:
        shown = "an empty string" if isinstance(value, str) else type(value).__name__
        raise PlanFormatError(f"plan field {key!r} must be a non-empty string, got {shown}")
    return value


def plan_from_dict(cls: type[Plan], data: object) -> Plan:
    """Rebuild a plan from its document and check every stored figure (see ``Plan.from_dict``).

    Examples
    --------
    >>> from chainorder.plan import Plan, plan
    >>> p = plan([30, 35, 15, 5])
    >>> plan_from_dict(Plan, {**p.to_dict(), "tree": [[3, 2], 1]}) == p  # version-1 tree
    True

    Notes
    -----
    O(L).
    """
    if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
        raise PlanFormatError(f'not a chainorder plan: expected "format": "{PLAN_FORMAT}"')
    if data.get("version") not in _READABLE_VERSIONS:
        raise PlanFormatError(
            f"plan format version {data.get('version')!r} is not supported; "
            f"this chainorder reads versions {', '.join(map(str, _READABLE_VERSIONS))}"
        )
    try:
        chain = Chain.from_dict(data["chain"])
        tree = _tree_of(data, chain.n_links)
        solver, dtype = _text(data, "solver"), _text(data, "dtype")
        method = _text(data, "method") if "method" in data else solver
        result = cls.from_tree(chain, tree, solver, dtype, method, data.get("lower_bound"))
    except KeyError as exc:
        raise PlanFormatError(f"plan is missing the field {exc.args[0]!r}") from None
    except PlanFormatError:
        raise
    except TreeError as exc:
        raise PlanFormatError(f"plan has an invalid tree: {exc}") from None
    except (SpecError, SpecTypeError) as exc:
        raise PlanFormatError(f"plan has an invalid chain: {exc}") from None
    except ChainorderError as exc:  # e.g. an unknown dtype
        raise PlanFormatError(f"plan has an invalid field: {exc}") from None
    fresh = {  # the checked figures only: no text forms of a long tree are rebuilt
        "mode": result.mode.value,
        "mults": result.mults,
        "flops": result.flops,
        "peak_memory_elements": {
            "given": result.given.peak_elements,
            "streamed": result.streamed.peak_elements,
        },
        "largest_intermediate_elements": result.largest_intermediate,
    }
    for key in _CHECKED:
        if key in data and data[key] != fresh[key]:
            raise PlanFormatError(
                f"plan field {key!r} is {data[key]!r} but the chain and tree give "
                f"{fresh[key]!r}; the file is inconsistent"
            )
    return result


def plan_from_json(cls: type[Plan], text: object) -> Plan:
    """Parse JSON text and rebuild the plan (see ``Plan.from_json``).

    Examples
    --------
    >>> from chainorder.plan import Plan
    >>> plan_from_json(Plan, 12)
    Traceback (most recent call last):
    ...
    chainorder.errors.PlanFormatError: a plan must be JSON text (str or bytes), got int

    Notes
    -----
    O(length of the text).
    """
    if not isinstance(text, str | bytes | bytearray):
        raise PlanFormatError(f"a plan must be JSON text (str or bytes), got {type(text).__name__}")
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PlanFormatError(f"plan is not valid JSON: {exc}") from None
    except RecursionError:
        raise PlanFormatError("plan JSON is nested too deeply to be a chainorder plan") from None
    return plan_from_dict(cls, data)


def json_text(data: dict[str, Any], indent: int | None = 2) -> str:
    """JSON of ``data``, indented, with every list of ints (e.g. ``postfix``) on one line.

    Examples
    --------
    >>> print(json_text({"plans": {"forward": {"tree": "[3,[2,1]]", "postfix": [3, 2, 1, 0, 0]}}}))
    {
      "plans": {
        "forward": {
          "tree": "[3,[2,1]]",
          "postfix": [3,2,1,0,0]
        }
      }
    }

    Notes
    -----
    O(size of the output).
    """
    flat: list[str] = []

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: strip(value) for key, value in node.items()}
        if isinstance(node, list) and node and all(_is_plain(x) for x in node):
            flat.append(json.dumps(node, separators=(",", ":")))
            return f"\u0000flat{len(flat) - 1}\u0000"
        if isinstance(node, list):
            return [strip(x) for x in node]
        return node

    text = json.dumps(strip(data), indent=indent, ensure_ascii=False)
    for i, piece in enumerate(flat):
        text = text.replace(json.dumps(f"\u0000flat{i}\u0000"), piece, 1)
    return text


def _is_plain(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _json_float(value: float) -> float | None:
    return None if value == float("inf") else value
