"""Case- and accent-insensitive text with a map back to the original offsets.

Term lists, refusal phrases and leakage checks compare words, not spellings: ``Crème Brûlée``,
``CREME BRULEE`` and ``creme  brulee`` are the same two words. :func:`fold` casefolds, drops
combining marks after NFKD (``é`` -> ``e``, ``ﬁ`` -> ``fi``) and collapses every run of
whitespace to one space, and keeps for each folded character the index of the original
character it came from, so a match found on the folded text is reported at the right place in
the text the caller sent.

This is deliberately lighter than :mod:`.canonical` (which also undoes homoglyphs, leetspeak and
spacing tricks for the injection detector): a deny-list of competitor names should match what
a reader sees, not what an attacker might have hidden.

ASCII text (the common case) takes a fast path: ``str.lower`` is length-preserving there, so
only whitespace runs need a map, and text without them keeps the identity map (``None``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_WS_RUN = re.compile(r"\s{2,}|[\t\n\r\f\v]")


@dataclass(frozen=True, slots=True)
class Folded:
    """A folded text and the way back.

    Attributes:
        text: casefolded, accent-free, whitespace runs collapsed to one space.
        origin: for each character of ``text``, the index of the original character it came
            from; ``None`` when the two texts are aligned one to one.
        length: the length of the original text.
    """

    text: str
    origin: list[int] | None
    length: int

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the folded span ``[start, end)``."""
        if self.origin is None:
            return start, end
        if start >= len(self.origin):
            return self.length, self.length
        o_start = self.origin[start]
        o_end = self.origin[end - 1] + 1 if end > start else o_start
        return o_start, o_end


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    # NFKD splits accents off (and expands compatibility forms); the caller casefolds after,
    # because the casefold of a precomposed letter can differ from that of its decomposition.
    return "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))


def fold(text: str) -> Folded:
    """Fold ``text`` (see the module docstring); linear time."""
    if text.isascii():
        lowered = text.lower()
        if not _WS_RUN.search(lowered):
            return Folded(lowered, None, len(text))
        return _collapse(lowered, list(range(len(text))), len(text))
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if ch.isascii():
            chars.append(ch.lower())
            origin.append(i)
            continue
        for f in _fold_char(ch).casefold():
            chars.append(f)
            origin.append(i)
    return _collapse("".join(chars), origin, len(text))


def _collapse(text: str, origin: list[int], length: int) -> Folded:
    """Turn every whitespace run into one space, keeping ``origin`` aligned."""
    out: list[str] = []
    out_origin: list[int] = []
    last = 0
    for m in _WS_RUN.finditer(text):
        out.append(text[last : m.start()])
        out_origin.extend(origin[last : m.start()])
        out.append(" ")
        out_origin.append(origin[m.start()])
        last = m.end()
    out.append(text[last:])
    out_origin.extend(origin[last:])
    return Folded("".join(out), out_origin, length)


def fold_term(term: str) -> str:
    """A term as :func:`fold` would write it, trimmed (for building pattern tables)."""
    return fold(term.strip()).text


def is_word_char(ch: str) -> bool:
    """Whether ``ch`` continues a word (letters, digits, underscore), for whole-word checks."""
    return ch.isalnum() or ch == "_"
