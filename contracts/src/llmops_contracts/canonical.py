"""Canonical JSON (RFC 8785, the JSON Canonicalization Scheme) for hashing audit records.

The bytes hashed by the audit chain are ``canonical_json(document).encode("utf-8")``:
- no white space; object keys sorted (by code point, which equals RFC 8785's UTF-16 order for
  every key outside the astral planes);
- strings as ECMAScript ``JSON.stringify`` writes them: only ``"``, ``\\`` and control characters
  escaped (``\\b \\f \\n \\r \\t`` short, others ``\\u00xx``), everything else as UTF-8;
- numbers as ECMAScript ``Number.prototype.toString``: integers without a fraction (``12``, also
  for the double ``12.0``), fractions in shortest round-trip form (``0.1``), exponents outside
  1e-6 <= |x| < 1e21 (``1e-7``, ``1.5e+21``); NaN and infinities are not allowed.

Any RFC 8785 library (Go, Java, JavaScript, Python, .NET ...) reproduces these bytes.
"""

from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal
from typing import Any

_INT_EXACT = float(2**53)
_INT_EXACT_INT = 2**53

#: A number that :func:`canonical_json` writes differently from ``json.dumps``, as an array or
#: object value: an integer of 16 or more digits (possibly beyond 2**53, which other languages
#: read as a double), or a float that is integral (``12.0``) or in exponent form (``1e-05``,
#: ``1e+16``). The same characters inside a string may match too; that only costs the slow path.
#: (One pattern, so the text is scanned once; it starts with a character class rather than a
#: look-behind, which makes the scan several times faster: docs/decisions.md.)
_NUMBER_TO_REWRITE = re.compile(
    r"[:,\[]-?(?:[0-9]{16,}[,\]}]|[0-9]+(?:\.0[,\]}]|(?:\.[0-9]+)?e[+-][0-9]+[,\]}]))"
)
#: A character whose UTF-16 order differs from its code-point order against some other one.
_UTF16_ORDER_DIFFERS = re.compile("[\ue000-\U0010ffff]")
#: ``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
#: allow_nan=False)`` with the encoder built once (json.dumps builds one per call when given options).
_sorted_json = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def canonical_json(value: Any) -> str:
    """The RFC 8785 canonical text of a JSON value (dicts, lists, str, int, float, bool, None).

    Raises:
        ValueError: for NaN or infinite numbers, or non-string object keys.
    """
    fixups: dict[str, str] = {"": secrets.token_hex(8)}
    prepared = _prepare(value, fixups)
    del fixups[""]
    text = json.dumps(prepared, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    for marker, number in fixups.items():
        text = text.replace(f'"{marker}"', number, 1)
    return text


def canonical_json_parsed(value: Any) -> str:
    """:func:`canonical_json` of a value shaped like ``json.loads`` output, in one C-level pass.

    For dicts with string keys, lists, str, int, float, bool and None, the text is exactly
    ``canonical_json(value)``. ``json.dumps`` with sorted keys already writes every other value as
    RFC 8785 does, and every float in the canonical range that is not integral as ``repr``
    writes it, which is also ECMAScript's form; so when its output holds no float that must be
    rewritten, it is the canonical text, and otherwise this falls back to :func:`canonical_json`.
    It skips the check that object keys are strings: use it only where they are.

    Raises:
        ValueError: for NaN or infinite numbers.
    """
    text = _sorted_json(value)
    if (
        type(value) in (float, int)  # a bare number has no delimiter
        or _NUMBER_TO_REWRITE.search(text)
        # key order may differ from code-point order (isascii() is O(1) on an ASCII string,
        # where max(text) walked every character)
        or (not text.isascii() and _UTF16_ORDER_DIFFERS.search(text))
    ):
        return canonical_json(value)
    return text


def _utf16(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _prepare(value: Any, fixups: dict[str, str]) -> Any:
    kind = type(value)
    if kind is dict:
        for key in value:
            if type(key) is not str:
                raise ValueError(f"object keys must be strings, got {key!r}")
        # RFC 8785 orders keys by UTF-16 code units (it differs from code points only for
        # characters beyond U+FFFF); the dict is built in that order and dumped unsorted.
        return {k: _prepare(value[k], fixups) for k in sorted(value, key=_utf16)}
    if kind is list or kind is tuple:
        return [_prepare(v, fixups) for v in value]
    if kind is int and abs(value) > _INT_EXACT_INT:
        # Other languages read JSON numbers as doubles: write what they will read, so a third
        # party recomputes the same bytes.
        return _fixup(es_number(float(value)), fixups)
    if kind is float:
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("NaN and infinity have no JSON form")
        magnitude = abs(value)
        if value.is_integer() and magnitude < _INT_EXACT:
            return int(value)
        if 1e-4 <= magnitude < 1e16 and not value.is_integer():
            return value  # Python's repr and ECMAScript agree here
        return _fixup(es_number(value), fixups)
    return value


def _fixup(number: str, fixups: dict[str, str]) -> str:
    # A marker with a per-call random token, so no real string equals it; replaced after
    # dumping (json.dumps writes it unescaped).
    marker = f"\ue000{fixups['']}:{len(fixups)}"
    fixups[marker] = number
    return marker


def es_number(value: float) -> str:
    """ECMAScript ``Number.prototype.toString`` of a finite double."""
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    parts = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, parts.digits))
    k = len(digits)
    n = int(parts.exponent) + k  # the value is 0.<digits> x 10^n
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        exponent = n - 1
        mantissa = digits[0] + (f".{digits[1:]}" if k > 1 else "")
        text = f"{mantissa}e{'+' if exponent >= 0 else '-'}{abs(exponent)}"
    return sign + text
