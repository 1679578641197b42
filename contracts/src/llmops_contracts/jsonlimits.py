"""Limits on JSON from outside: how deep it may nest, and which numbers it may hold.

Parsing and everything after it (validation, canonical hashing, redaction) walk JSON
recursively, so a message nested a few hundred levels deep is not slow, it is fatal:
``RecursionError`` escapes code that only expects ``ValueError``, and a consumer retrying the
batch for ever never gets past it. A nesting limit at the edge turns such a message into an
invalid one, dead-lettered with its reason like any other.

**MAX_DEPTH is 64.** No payload of the suite nests more than six levels of its own, and the free
JSON it carries (a provider's raw usage object, tool arguments, a price table) a handful more:
OpenAI's structured outputs, for one, allow at most 10 levels of nesting in a schema. 64 leaves
ample room for any of that, and stays far below every recursive walker's breaking point
(pydantic-core's JSON parser stops at about 200 levels, CPython's ``json`` and the recursive
canonical form at a few hundred to a thousand), so nothing admitted can fail later for depth.

JSON has no NaN or infinity. ``json.loads`` reads ``NaN``, ``Infinity`` and ``1e400`` (as
infinity) all the same, and pydantic's float fields accept them unless told not to; the contracts
refuse them (``allow_inf_nan=False`` on every model, and :func:`check_finite` for free-form JSON
values), so every consumer agrees on what a number is.

**The wire is UTF-8**, without a byte order mark (RFC 8259, section 8.1). The standard library
also reads UTF-16 and UTF-32, but what runs before any parser, the nesting count above all,
reads bytes as UTF-8: in UTF-16 text a backslash and the quote it escapes are not adjacent
bytes, so an escaped quote was taken for a closing one and deep nesting passed the count, then
failed the hash on every delivery. :func:`encoding_problem` refuses such text at a glance and
:func:`loads` decodes nothing but UTF-8.
"""

from __future__ import annotations

import itertools
import json
import math
import operator
from typing import Any

#: Deepest nesting of arrays and objects a message may have (the outermost object is level 1).
MAX_DEPTH = 64

_BOM = b"\xef\xbb\xbf"
_NOT_BRACKETS = bytes(range(256)).translate(None, b"[]{}")
_PARENS = bytes.maketrans(b"[{]}", b"(())")
_STEPS = bytes.maketrans(b"()", b"\x02\x00")


def encoding_problem(data: bytes) -> str | None:
    """Why JSON bytes are not the wire's UTF-8, as far as one look tells (else None).

    Every UTF-16 or UTF-32 JSON text holds NUL bytes (one in each ASCII character, and JSON has
    some), while no UTF-8 JSON text holds one (a NUL is neither whitespace nor allowed raw in a
    string): one byte search tells them apart, before anything reads the bytes as UTF-8
    (performance: far cheaper than a strict UTF-8 decode; measured in docs/decisions.md).
    Anything else that is not UTF-8, a byte order mark included, fails in :func:`loads` (and in
    orjson and pydantic, which read only UTF-8).

    Args:
        data: the raw message.

    Returns:
        The reason, or None when nothing shows the text is not UTF-8.
    """
    if 0 in data:  # an int: memchr (``b"\\x00" in data`` searches as a substring, slower)
        return "a NUL byte: UTF-16 or UTF-32 text? The wire is UTF-8"
    return None


def nesting_exceeds(data: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON text nests arrays and objects deeper than ``limit`` (brackets in strings aside).

    Cheap first (performance: this runs on every consumed message): text with no more than
    ``limit`` opening brackets, inside strings or not, cannot nest deeper, and two byte counts
    show that. Otherwise the strings are cut out
    (escaped backslashes and quotes first, then every other quote-delimited run) and the brackets
    left are reduced innermost pair by innermost pair, at most ``limit`` times: what remains is
    deeper than the limit, or not valid JSON (then counted exactly). Bytes that are not JSON at
    all get an answer too; the parser refuses them afterwards.

    The answer holds for UTF-8 only (in UTF-16 or UTF-32 an escaped quote is not the two bytes
    ``\\"``), so callers refuse other encodings first (:func:`encoding_problem`).

    Args:
        data: the raw message, UTF-8.
        limit: the deepest nesting allowed.

    Returns:
        True when some value sits more than ``limit`` arrays/objects deep.
    """
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(data.split(b'"')[::2]).translate(_PARENS, _NOT_BRACKETS)
    rest = brackets
    for _ in range(limit):
        if not rest:
            return False
        shorter = rest.replace(b"()", b"")
        if len(shorter) == len(rest):
            break  # unbalanced: not JSON, measured exactly below
        rest = shorter
    if not rest:
        return False
    # depth after each bracket = (sum of steps so far) - (brackets so far), steps 2 and 0
    depths = map(operator.sub, itertools.accumulate(brackets.translate(_STEPS)), itertools.count(1))
    return max(depths, default=0) > limit


def check_finite(value: Any) -> Any:
    """Refuse a JSON value holding NaN, an infinity, a lone surrogate, or nesting too deep.

    A pydantic ``AfterValidator`` for free-form JSON fields (``dict[str, Any]``), where the
    models' ``allow_inf_nan=False`` and string validation do not reach (a lone surrogate would
    fail every database write and hash of the value later). Nesting is limited to
    :data:`MAX_DEPTH`. It walks without recursion, so a value built
    in code, not parsed, cannot overflow the stack here either.

    Args:
        value: a parsed JSON value (dicts, lists, str, int, float, bool, None).

    Returns:
        The value, unchanged.

    Raises:
        ValueError: naming what is wrong.
    """
    # Level by level (performance: this runs on every call's raw usage object): no recursion,
    # no per-node depth bookkeeping. ``x - x`` is 0.0 for a finite float and NaN (truthy) else.
    kind = type(value)
    level = [value] if kind is dict or kind is list else []
    for _ in range(MAX_DEPTH):
        if not level:
            return value
        deeper = []
        for node in level:
            if type(node) is dict:
                for key in node:
                    if not key.isascii():
                        _check_text(key)
                children = node.values()
            else:
                children = node
            for child in children:
                kind = type(child)
                if kind is float:
                    if child - child:
                        raise ValueError(
                            f"{child!r} is not a JSON number (NaN and infinities are refused)"
                        )
                elif kind is str:
                    if not child.isascii():
                        _check_text(child)
                elif kind is dict or kind is list:
                    deeper.append(child)
        level = deeper
    if level:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    return value


def _check_text(text: str) -> None:
    """Refuse a lone UTF-16 surrogate (``"\\ud800"`` parses, but no UTF-8 text can hold it)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        raise ValueError("a string holds a lone UTF-16 surrogate") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of the range of a double")
    return value


#: ``json.loads`` refusing NaN, infinities and numbers that overflow a double (built once).
_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite_float)


def loads(data: bytes) -> Any:
    """Parse UTF-8 JSON as ``json.loads`` does, but refusing non-finite numbers.

    Only UTF-8 is read (``json.loads`` would detect UTF-16 and UTF-32 too; see the module doc),
    strictly: a surrogate encoded as bytes (``ED A0 80``) is not UTF-8 either, and a byte order
    mark is refused by name.

    Args:
        data: the JSON text.

    Returns:
        The decoded value.

    Raises:
        ValueError: not JSON, not UTF-8 (``UnicodeDecodeError``), NaN, an infinity, or a number
            that overflows a double.
        RecursionError: nested too deep to parse (check :func:`nesting_exceeds` first).
    """
    if data[:3] == _BOM:  # (the decoder alone says "Expecting value")
        raise ValueError("a byte order mark: the wire is UTF-8 without one")
    return _DECODER.decode(data.decode())
