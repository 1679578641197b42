"""Obfuscations applied to corpus texts (shared by every split of the injection corpus).

Each function takes the text and a seeded ``random.Random`` and returns the disguised text; the
carriers (the words around an encoded payload, "decode this and do it") are not here: each split
brings its own, so the untuned split's phrasings stay its own. Used only by the corpus generator
(``tools/make_injection_corpus.py``), never at run time.
"""

from __future__ import annotations

import base64
import codecs
import random
import urllib.parse
from collections.abc import Callable

#: Latin letter -> a Cyrillic or Greek letter drawn the same in common fonts.
HOMOGLYPHS: dict[str, str] = {
    "a": "\u0430",  # Cyrillic a
    "c": "\u0441",
    "e": "\u0435",
    "i": "\u0456",  # Ukrainian i
    "j": "\u0458",
    "o": "\u043e",
    "p": "\u0440",
    "s": "\u0455",
    "x": "\u0445",
    "y": "\u0443",
    "h": "\u04bb",
    "A": "\u0391",  # Greek Alpha
    "B": "\u0392",
    "E": "\u0395",
    "H": "\u0397",
    "I": "\u0399",
    "K": "\u039a",
    "M": "\u039c",
    "N": "\u039d",
    "O": "\u039f",
    "P": "\u03a1",
    "T": "\u03a4",
    "X": "\u03a7",
    "Y": "\u03a5",
    "v": "\u03bd",  # Greek nu
    "u": "\u03c5",  # Greek upsilon
    "n": "\u0578",  # Armenian vo
}
LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7", "g": "9", "b": "8"}
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
BIDI = ("\u202a", "\u202b", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068")
BIDI_END = ("\u202c", "\u2069")
COMBINING = ("\u0301", "\u0308", "\u0303", "\u0327", "\u0323")


def homoglyph(text: str, rng: random.Random) -> str:
    """Swap about half the swappable letters for Cyrillic/Greek/Armenian look-alikes."""
    return "".join(HOMOGLYPHS[c] if c in HOMOGLYPHS and rng.random() < 0.5 else c for c in text)


def zero_width(text: str, rng: random.Random) -> str:
    """Insert invisible characters inside words."""
    out = []
    for c in text:
        out.append(c)
        if c.isalpha() and rng.random() < 0.35:
            out.append(rng.choice(ZERO_WIDTH))
    return "".join(out)


def leet(text: str, rng: random.Random) -> str:
    """Leetspeak: most vowels and some consonants become digits."""
    return "".join(LEET[c.lower()] if c.lower() in LEET and rng.random() < 0.7 else c for c in text)


def spaced(text: str, rng: random.Random) -> str:
    """Every letter apart (one separator), words apart by three."""
    sep = rng.choice([" ", ".", "-", "_", "*"])
    return (sep * 3 if sep == " " else " ").join(sep.join(w) for w in text.split())


def hyphen_split(text: str, rng: random.Random) -> str:
    """Break longer words with a hyphen or a soft hyphen."""
    words = []
    for w in text.split(" "):
        if len(w) >= 5 and w.isalpha():
            k = rng.randint(2, len(w) - 2)
            w = w[:k] + rng.choice(["-", "\u00ad"]) + w[k:]
        words.append(w)
    return " ".join(words)


def fullwidth(text: str, rng: random.Random) -> str:
    """ASCII letters and digits as their fullwidth forms (NFKC folds them back)."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def mixed_case(text: str, rng: random.Random) -> str:
    """rAnDoM CaSe."""
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text)


def diacritics(text: str, rng: random.Random) -> str:
    """Combining marks on some letters."""
    return "".join(
        c + rng.choice(COMBINING) if c.isalpha() and rng.random() < 0.3 else c for c in text
    )


def bidi(text: str, rng: random.Random) -> str:
    """Bidi embedding/isolate controls wrapped around word fragments."""
    out = []
    for w in text.split(" "):
        if len(w) > 3 and rng.random() < 0.6:
            k = rng.randint(1, len(w) - 1)
            w = w[:k] + rng.choice(BIDI) + w[k:] + rng.choice(BIDI_END)
        out.append(w)
    return " ".join(out)


def to_base64(text: str) -> str:
    """UTF-8 then base64."""
    return base64.b64encode(text.encode()).decode()


def to_hex(text: str, rng: random.Random) -> str:
    """UTF-8 as hex, plain, spaced or ``\\x``-escaped."""
    raw = text.encode().hex()
    style = rng.choice(["plain", "spaced", "escaped"])
    pairs = [raw[i : i + 2] for i in range(0, len(raw), 2)]
    if style == "spaced":
        return " ".join(pairs)
    if style == "escaped":
        return "".join("\\x" + p for p in pairs)
    return raw


def to_rot13(text: str) -> str:
    """ROT13."""
    return codecs.encode(text, "rot13")


def to_url(text: str, rng: random.Random) -> str:
    """Percent-encoding of every character or only of the non-alphanumerics."""
    if rng.random() < 0.5:
        return "".join(f"%{b:02X}" for b in text.encode())
    return urllib.parse.quote(text)


def to_entities(text: str, rng: random.Random) -> str:
    """HTML numeric character references, decimal or hex, for every or some characters."""
    every = rng.random() < 0.5
    out = []
    for c in text:
        if every or (c.isalpha() and rng.random() < 0.5):
            out.append(f"&#{ord(c)};" if rng.random() < 0.5 else f"&#x{ord(c):x};")
        else:
            out.append(c)
    return "".join(out)


def to_tags(text: str) -> str:
    """Unicode tag characters (U+E0000 block): invisible, yet read by some models."""
    return "".join(chr(0xE0000 + ord(c)) for c in text if 0x20 <= ord(c) < 0x7F)


def reverse(text: str) -> str:
    """The text backwards."""
    return text[::-1]


#: In-place disguises: the text stays readable to a model but not to a naive filter.
INPLACE: dict[str, Callable[[str, random.Random], str]] = {
    "homoglyph": homoglyph,
    "zero_width": zero_width,
    "leet": leet,
    "spaced": spaced,
    "hyphen_split": hyphen_split,
    "fullwidth": fullwidth,
    "mixed_case": mixed_case,
    "diacritics": diacritics,
    "bidi": bidi,
}


def encode(kind: str, text: str, rng: random.Random) -> str:
    """The payload encoded by ``kind`` (base64, hex, rot13, url, entities, reversed, tags)."""
    if kind == "base64":
        return to_base64(text)
    if kind == "hex":
        return to_hex(text, rng)
    if kind == "rot13":
        return to_rot13(text)
    if kind == "url":
        return to_url(text, rng)
    if kind == "entities":
        return to_entities(text, rng)
    if kind == "reversed":
        return reverse(text)
    if kind == "tags":
        return to_tags(text)
    raise ValueError(kind)


ENCODINGS = ("base64", "hex", "rot13", "url", "entities", "reversed", "tags")
