"""Smuggled payloads: find encoded substrings and decode them, bounded.

An attacker who cannot write "ignore previous instructions" plainly writes it in base64, hex,
ROT13 or backwards, and asks the model to decode it. :func:`encoded_payloads` finds candidate
substrings of the *original* text (encodings are case-sensitive, so before canonicalisation),
decodes them and keeps only decodings that read as text; the caller scans each decoded text as
a text of its own and reports a hit there at the encoded substring's span. ROT13 and reversal
have no alphabet of their own to find, so :func:`rot13` and :func:`reverse` give whole-text views
the caller checks cheaply (trigger words first). Percent-encoding, HTML entities and ``\\u``
escapes are undone in place by :mod:`.canonical`.

Bounds: candidates are length-capped, at most ``MAX_CANDIDATES`` are decoded per text, and the
caller stops at depth 2, so a text of nested encodings costs a fixed multiple of its length.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

MAX_CANDIDATES = 16
#: Longest candidate decoded (characters); a longer run is decoded in pieces of this size.
MAX_CANDIDATE = 8192

_BASE64 = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,8192}={0,2}")
_HEX_PLAIN = re.compile(r"(?<![0-9A-Za-z])[0-9A-Fa-f]{16,8192}(?![0-9A-Za-z])")
_HEX_SPACED = re.compile(
    r"(?<![0-9A-Za-z])[0-9A-Fa-f]{2}(?:[ :,][0-9A-Fa-f]{2}){7,4096}(?![0-9A-Za-z])"
)
_HEX_ESCAPED = re.compile(r"(?:\\x[0-9A-Fa-f]{2}){8,4096}")
#: Prefilters (one translation and a substring search each, microseconds per kilobyte): a
#: base64 or plain-hex candidate needs 16 characters of the base64 alphabet in a row; a spaced
#: hex candidate needs eight hex pairs with one separator between each. Both alphabets are
#: ASCII, so the classes are read off the UTF-8 bytes (every byte of any other character is
#: outside them): ``bytes.translate`` stays fast where ``str.translate`` of text that is not
#: ASCII looks every character up.
_B64_CLASS = bytes(
    ord("b") if i < 128 and (chr(i).isalnum() or chr(i) in "+/_-") else ord(" ") for i in range(256)
)
_B64_RUN = b"b" * 16
_HEX_CLASS = bytes(
    ord("h") if chr(i) in "0123456789abcdefABCDEF" else ord("s") if chr(i) in " :," else ord(".")
    for i in range(256)
)
_HEX_RUN = b"hhs" * 7 + b"hh"
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ROTATED = "nopqrstuvwxyzabcdefghijklmNOPQRSTUVWXYZabcdefghijklm"
_ROT13_TEXT = str.maketrans(_LETTERS, _ROTATED)
_ROT13 = bytes.maketrans(_LETTERS.encode(), _ROTATED.encode())


@dataclass(frozen=True, slots=True)
class Payload:
    """A decoded substring.

    Attributes:
        start: offset of the encoded substring in the text searched.
        end: one past its end.
        encoding: ``base64`` or ``hex``.
        text: the decoded text.
    """

    start: int
    end: int
    encoding: str
    text: str


def encoded_payloads(text: str) -> list[Payload]:
    """Base64 and hex substrings of ``text`` that decode to readable text, in order of start."""
    found: list[Payload] = []
    taken: list[tuple[int, int]] = []
    budget = MAX_CANDIDATES
    passes: list[tuple[re.Pattern[str], str]] = []
    # Hex first: a hex run is also valid base64, and decoding it as base64 gives bytes noise.
    if "\\x" in text:
        passes.append((_HEX_ESCAPED, "hex"))
    raw = text.encode("utf-8", "surrogatepass")
    if _HEX_RUN in raw.translate(_HEX_CLASS):
        passes.append((_HEX_SPACED, "hex"))
    if _B64_RUN in raw.translate(_B64_CLASS):
        passes += [(_HEX_PLAIN, "hex"), (_BASE64, "base64")]
    for pattern, encoding in passes:
        for m in pattern.finditer(text):
            if budget <= 0:
                return sorted(found, key=lambda p: p.start)
            a, b = m.span()
            if any(a < e and s < b for s, e in taken):
                continue
            budget -= 1
            decoded = _hex(m.group()) if encoding == "hex" else _base64(m.group())
            if decoded is not None:
                found.append(Payload(a, b, encoding, decoded))
                taken.append((a, b))
    return sorted(found, key=lambda p: p.start)


def rot13(text: str) -> str:
    """The ROT13 view: the same length, so offsets carry over unchanged."""
    if text.isascii():
        return text.translate(_ROT13_TEXT)
    # Rotated as UTF-8 bytes: ASCII letters are single bytes, other characters untouched.
    return text.encode("utf-8", "surrogatepass").translate(_ROT13).decode("utf-8", "surrogatepass")


def reverse(text: str) -> str:
    """The reversed view: canonical offset ``i`` is ``len(text) - 1 - i`` here."""
    return text[::-1]


def readable(raw: bytes) -> str | None:
    """``raw`` as text if it is UTF-8 that reads like words, else ``None``."""
    try:
        s = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(s) < 6:
        return None
    letters = sum(c.isalpha() for c in s)
    spaces = sum(c.isspace() for c in s)
    printable = sum(c.isprintable() or c in "\n\t\r" for c in s)
    # Words, not bytes noise: mostly letters, some spaces, nothing unprintable.
    if printable < len(s) or letters < 0.6 * len(s) or spaces == 0:
        return None
    return s


def _base64(s: str) -> str | None:
    body = s.rstrip("=")
    if len(body) % 4 == 1:
        return None
    padded = body + "=" * (-len(body) % 4)
    try:
        if "-" in body or "_" in body:
            raw = base64.urlsafe_b64decode(padded)
        else:
            raw = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return readable(raw)


def _hex(s: str) -> str | None:
    digits = re.sub(r"\\x|[ :,]", "", s)
    if len(digits) % 2:
        digits = digits[:-1]
    try:
        raw = bytes.fromhex(digits)
    except ValueError:
        return None
    return readable(raw)
