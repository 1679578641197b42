"""orjson for the capture path: parsing, and the RFC 8785 canonical text, proven or not used.

:mod:`llmops_contracts.canonical` is the reference definition of the canonical form (standard
library only, so anyone can run it). This module produces the **same bytes** several times faster
with orjson, and falls back to the reference for any value where orjson's text is not shown,
cheaply and for that value, to be exactly the reference's:

- keys: orjson sorts by code point, RFC 8785 by UTF-16 code unit. They differ only when a key
  holds a character at or above U+E000, so any such character in the text takes the reference.
- strings: orjson escapes exactly what ``json.dumps(ensure_ascii=False)`` escapes (``"``, ``\\``
  and U+0000-U+001F, short forms for ``\\b \\f \\n \\r \\t``, others ``\\u00xx`` lower case), which is
  the reference's and ECMAScript's form. A lone surrogate makes orjson refuse: the reference.
- integers: written digit for digit by both; 16 digits or more (possibly beyond 2**53, which the
  reference writes as the double other languages read) take the reference.
- floats: orjson writes the shortest text that reads back as the same double, like ``repr``, but
  in its own notation (``1e-6``, ``0.00001``, ``12.0``). A float token that is integral or in
  exponent form takes the reference; any other is accepted only if ``repr(float(token))`` is the
  token itself, which is what the reference writes for every non-integral double from 1e-4 to
  1e16. The check costs one ``float`` and one ``repr`` per float.

The fast path assumes values shaped like :func:`loads` output (dicts with string keys, lists,
str, int, float, bool, None; finite floats). That is what the audit service hashes.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from llmops_contracts import jsonlimits
from llmops_contracts.canonical import canonical_json
from llmops_contracts.registry import InvalidMessage

_SORTED = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_SORTED |= orjson.OPT_PASSTHROUGH_SUBCLASS
_PLAIN = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_PLAIN |= orjson.OPT_PASSTHROUGH_SUBCLASS

#: Bytes mapped to their class, so a plain substring or literal-prefixed regex finds numbers
#: (performance: Python's regex engine scans a character class several times slower): digits
#: become ``0``, the bytes a number can follow in compact JSON (``:,[``) become ``:``, and
#: ``. e + -`` stay; everything else becomes ``x``.
_CLASSES = bytes(
    ord("0")
    if chr(b).isdigit() and b < 128
    else ord(":")
    if chr(b) in ":,["
    else b
    if chr(b) in ".e+-"
    else ord("x")
    for b in range(256)
)
#: Where (in the classified text) a float or an integer of 16 digits or more may start. The
#: same characters inside a string match too, which only costs a check: a string is written
#: identically either way.
_CANDIDATE = re.compile(rb":-?(?:0+[.e]|0{16})")
#: A number token (in the real text) ending where a number ends in compact JSON.
_TOKEN = re.compile(rb"-?[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?(?=[,\]}])")
#: A character (as UTF-8 lead byte) at or above U+E000, whose UTF-16 order differs from its code
#: point order against some other character.
_UTF16_ORDER_DIFFERS = re.compile(rb"[\xee-\xf4]")
#: An integer literal orjson would read as a float (beyond 64 bits) has 19 digits or more.
_LONG_DIGITS = b"0" * 19


def canonical(value: Any) -> bytes:
    """``canonical_json(value).encode()``: the RFC 8785 text of a parsed JSON value, as UTF-8.

    Raises:
        ValueError: where the reference raises (NaN, infinity, non-string keys; a lone surrogate
            cannot be encoded).
        InvalidMessage: nested too deep to walk (a ``ValueError`` too).
    """
    text = _fast(value)
    if text is not None:
        return text
    try:
        return canonical_json(value).encode()
    except RecursionError:
        # admit() refuses such nesting; a value built in code may not. InvalidMessage, so a
        # batch consumer dead-letters the item at once (llmops_shared.batch.is_permanent)
        # instead of retrying what can never hash.
        raise InvalidMessage("(message): nested too deep for the canonical form") from None


def canonical_fast(value: Any) -> bytes | None:
    """The canonical text when orjson's is proven to be it, else None (use :func:`canonical`).

    When not None, the text is also a faithful serialisation of ``value`` (every number as
    parsed), so it can be stored as the value's JSON.
    """
    return _fast(value)


def _fast(value: Any) -> bytes | None:
    kind = type(value)
    if kind is not dict and kind is not list:
        return None  # a bare number has no delimiters to check; scalars are rare here
    try:
        text = orjson.dumps(value, option=_SORTED)
    except orjson.JSONEncodeError:
        return None
    if not text.isascii() and _UTF16_ORDER_DIFFERS.search(text):
        return None
    for candidate in _CANDIDATE.finditer(text.translate(_CLASSES)):
        match = _TOKEN.match(text, candidate.start() + 1)
        if match is None:
            continue  # not a number: inside a string
        token = match.group()
        if token[-2:] == b".0" or b"e" in token or b"." not in token:
            return None  # integral, exponent form, or a long integer
        if repr(float(token)).encode() != token:
            return None
    return text


#: ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``, built once.
_compact_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def dumps(value: Any) -> bytes:
    """Compact JSON of a JSON-shaped value, keys in their order (orjson; stdlib if it refuses)."""
    try:
        return orjson.dumps(value, option=_PLAIN)
    except orjson.JSONEncodeError:
        # beyond orjson: an integer over 64 bits, a lone surrogate (which cannot be UTF-8 either)
        return _compact_json(value).encode()


def loads(body: bytes) -> Any:
    """Parse UTF-8 JSON as the standard library's decoder does, refusing NaN, infinities and
    overflow (:func:`llmops_contracts.jsonlimits.loads`, faster).

    orjson first; the contracts' decoder for what orjson refuses (lone surrogate escapes, NaN
    literals, anything not UTF-8: they decode or fail there exactly as in every other consumer)
    and for integers of 19 digits or more, which orjson reads as floats.

    Raises:
        ValueError: not JSON, not UTF-8 (``UnicodeDecodeError``), NaN/infinity, a number that
            overflows a double, or nesting too deep to parse.
    """
    if _LONG_DIGITS not in body.translate(_CLASSES):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    try:
        return jsonlimits.loads(body)
    except RecursionError:  # deeper than orjson's 1024 levels; admit() checks depth first
        raise ValueError("nested too deep") from None
