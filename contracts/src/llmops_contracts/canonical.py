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
import secrets
from decimal import Decimal
from typing import Any

_INT_EXACT = float(2**53)


def canonical_json(value: Any) -> str:
    """The RFC 8785 canonical text of a JSON value (dicts, lists, str, int, float, bool, None).

    Raises:
        ValueError: for NaN or infinite numbers, or non-string object keys.
    """
    fixups: dict[str, str] = {"": secrets.token_hex(8)}
    prepared = _prepare(value, fixups)
    del fixups[""]
    text = json.dumps(
        prepared, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    for marker, number in fixups.items():
        text = text.replace(f'"{marker}"', number, 1)
    return text


def _prepare(value: Any, fixups: dict[str, str]) -> Any:
    kind = type(value)
    if kind is dict:
        for key in value:
            if type(key) is not str:
                raise ValueError(f"object keys must be strings, got {key!r}")
        return {k: _prepare(v, fixups) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_prepare(v, fixups) for v in value]
    if kind is float:
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("NaN and infinity have no JSON form")
        magnitude = abs(value)
        if value.is_integer() and magnitude < _INT_EXACT:
            return int(value)
        if 1e-4 <= magnitude < 1e16:
            return value  # Python's repr and ECMAScript agree in this range
        # A marker with a per-call random token, so no real string equals it; replaced after
        # dumping (json.dumps writes it unescaped).
        marker = f"\ue000{fixups['']}:{len(fixups)}"
        fixups[marker] = es_number(value)
        return marker
    return value


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
