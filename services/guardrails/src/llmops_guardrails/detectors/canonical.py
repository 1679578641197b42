# ruff: noqa: RUF001, RUF002  (look-alike letters are the subject of this module)
"""Canonical text: undo the disguises an attacker puts on words, keeping a map back to the original.

Detectors match phrases; an attacker writes the same phrase so that no naive pattern sees it:
look-alike letters from other scripts (``іgnоre`` with Cyrillic і and о), invisible characters
inside words, Unicode tag characters that spell hidden text ("ASCII smuggling"), bidi controls,
fullwidth or mathematical letters, combining marks, leetspeak (``1gn0r3``), letters spaced
apart (``i g n o r e``, ``i.g.n.o.r.e``), words broken by a hyphen (``ign-ore``), HTML entities,
percent- and ``\\u``-escapes. :func:`canonicalise` undoes all of these and lower-cases, so the
rules and the model see one spelling.

Every character of the canonical text remembers the span of the original it came from
(``starts``/``ends``), so a hit found on the canonical text is reported at the right place in the
text the caller sent. The map is only built when a step changes the length of the text; plain
ASCII prose (the common case) takes the fast path and keeps the identity map (``None``).

Confusables: a compact hand-written table (Cyrillic, Greek, Armenian, Latin small capitals,
IPA, regional indicators) on top of NFKD, which already folds fullwidth, mathematical,
circled and other compatibility forms. No package: the usual ones ship megabytes of tables we
would load for a few dozen letters attackers actually use.

Linear time: every pattern here has bounded repetitions and no nested unbounded ones, so a
1 MB input cannot make the regular-expression engine backtrack without end.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

#: Look-alike characters (after NFKD, mark stripping and case folding) -> Latin.
CONFUSABLES: dict[str, str] = {
    # Cyrillic
    "а": "a", "в": "b", "г": "r", "д": "d", "е": "e", "з": "3", "и": "u", "к": "k", "м": "m",
    "н": "h", "о": "o", "п": "n", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ь": "b",
    "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l",
    "ɡ": "g", "ѵ": "v", "ү": "y", "ұ": "y", "ҽ": "e", "ӽ": "x", "ԍ": "g",
    # Greek
    "α": "a", "β": "b", "γ": "y", "δ": "d", "ε": "e", "ζ": "z", "η": "n", "θ": "o", "ι": "i",
    "κ": "k", "λ": "l", "μ": "u", "ν": "v", "ξ": "e", "ο": "o", "π": "n", "ρ": "p", "σ": "o",
    "ς": "s", "τ": "t", "υ": "u", "φ": "o", "χ": "x", "ω": "w", "ϲ": "c", "ϳ": "j",
    # Armenian
    "ա": "w", "գ": "q", "ժ": "d", "հ": "h", "ո": "n", "ս": "u", "ց": "g", "օ": "o", "ք": "p",
    # Latin small capitals and IPA
    "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ғ": "f", "ɢ": "g", "ʜ": "h", "ɪ": "i",
    "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r", "ꜱ": "s",
    "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z", "ɑ": "a", "ı": "i", "ȷ": "j",
    "ɩ": "i", "ɒ": "a", "ʋ": "v", "ɛ": "e", "ɔ": "c", "ø": "o", "đ": "d", "ħ": "h", "ł": "l",
    "ŀ": "l", "ŧ": "t", "ƀ": "b", "ƈ": "c", "ɨ": "i", "ʝ": "j", "ƙ": "k", "ɱ": "m", "ɲ": "n",
    "ƥ": "p", "ʠ": "q", "ɍ": "r", "ʂ": "s", "ƭ": "t", "ʉ": "u", "ⱳ": "w", "ɏ": "y", "ƶ": "z",
    "æ": "ae", "œ": "oe", "ð": "d", "þ": "p",
    # Punctuation drawn like ASCII
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2039": "'", "\u203a": "'", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-",
    "\u2014": "-", "\u2015": "-", "\u2212": "-", "\u2043": "-", "\u2024": ".", "\u3002": ".",
    "\uff61": ".", "\u2044": "/", "\u2215": "/", "\u29f8": "/",
}  # fmt: skip

#: Capital letters whose lower case looks like another Latin letter than they do (Greek
#: capital Eta is drawn H but its lower case η reads n): mapped before case folding.
CAPITAL_CONFUSABLES: dict[str, str] = {
    "\u0397": "h",  # Greek Eta
    "\u039c": "m",  # Greek Mu
    "\u039d": "n",  # Greek Nu
    "\u03a5": "y",  # Greek Upsilon
    "\u03a1": "p",  # Greek Rho
    "\u0392": "b",  # Greek Beta
    "\u0417": "3",  # Cyrillic Ze
    "\u041d": "h",  # Cyrillic En
    "\u0412": "b",  # Cyrillic Ve
    "\u041c": "m",  # Cyrillic Em
    "\u0422": "t",  # Cyrillic Te
    "\u041a": "k",  # Cyrillic Ka
    "\u0423": "y",  # Cyrillic U
}

#: Leetspeak digits and symbols -> letters (one for one, so offsets stay put).
LEET = str.maketrans("0134578@$9", "oieastbasg")

#: Invisible format characters: zero-width, joiners, soft hyphen, bidi embeddings/overrides/
#: isolates, variation selectors, fillers. Removed outright.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0100-\U000e01ef]{1,4096}"
)
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: Unicode tag characters (U+E0000 block): each one mirrors an ASCII character, invisible.
_TAGS = re.compile("[\U000e0000-\U000e007f]{1,4096}")
_NON_ASCII = re.compile(r"[^\x00-\x7f]{1,4096}")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_PERCENT = re.compile(r"(?:%[0-9A-Fa-f]{2}){1,1024}")
_UESCAPE = re.compile(r"(?:\\u[0-9A-Fa-f]{4}){1,1024}")
#: A word that mixes letters with leet digits/symbols (``1gn0r3``, ``pr0mpt``); pure numbers
#: (``12345``, ``2024-05-01``) never match, so order numbers and dates stay as they are.
#: Written to start with the digit/symbol class, so the engine skips ahead to those characters
#: instead of trying at every letter (``[a-z][0-9]|...`` costs ~7x more on prose).
_LEET_HINT = re.compile(r"[0134578@$9](?:(?<=[a-z].)|(?=[a-z]))")
#: An e-mail address (``x@example.com``) is not a leet word: its ``@`` stays.
_LEET_WORD = re.compile(
    r"(?<![a-z0-9@$])(?=[a-z0-9@$]{0,63}[a-z])(?![a-z0-9$]{1,64}@[a-z0-9-]{1,63}\.[a-z])"
    r"[a-z0-9@$]{2,64}(?![a-z0-9@$])"
)
#: Four or more single letters, each apart by the same kind of one-to-three-character gap.
_SPACED = re.compile(r"(?<![a-z0-9])[a-z](?:[ .\-_*+~/|,:]{1,3}[a-z](?![a-z0-9])){3,512}")
_SPACED_GAP = re.compile(r"[ .\-_*+~/|,:]{1,3}")
#: Necessary for a ``_SPACED`` run (its second, third and fourth letters stand alone between
#: gaps), and cheap: it starts with the gap class, so ordinary words are skipped in C. Two
#: lone letters in a row are common prose ("e a casa", "y a", "for a p..."); three are not.
_SPACED_HINT = re.compile(
    r"[ .\-_*+~/|,:][a-z](?![a-z0-9])[ .\-_*+~/|,:]{1,3}[a-z](?![a-z0-9])"
    r"[ .\-_*+~/|,:]{1,3}[a-z](?![a-z0-9])"
)
_GAPS = " .-_*+~/|,:"  # the gap class of the two patterns above


def _class(c: str) -> str:
    if c in _GAPS:
        return "g"
    return "l" if "a" <= c <= "z" else "w" if c.isdigit() else "o"


#: ``_SPACED_HINT`` on ASCII text, cheaper: each character mapped to its class (``g`` a gap,
#: ``l`` a letter, ``w`` a digit, ``o`` anything else) by one ``str.translate``, then searched
#: from a letter after a gap (the literal ``gl``, which the engine finds in C) rather than tried
#: at every gap as the pattern on the text itself is.
_CLASSES = str.maketrans({chr(i): _class(chr(i)) for i in range(128)})
_SPACED_CLASSES = re.compile(r"glg{1,3}lg{1,3}l(?![lw])")
#: A hyphen inside a word (``ign-ore``): joined, so the word reads whole.
_INNER_HYPHEN = re.compile(r"(?<=[a-z])-(?=[a-z])")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

#: A replacement: the new text, or the new text with each character's source span relative
#: to the match (so a one-for-one rewrite keeps per-character offsets).
Replacement = str | tuple[str, list[int], list[int]] | None


@dataclass(frozen=True, slots=True)
class Canonical:
    """A canonical text and its map back to the original.

    Attributes:
        text: the canonical text (lower case, disguises undone).
        original_length: length of the original text.
        starts: per canonical character, the original offset where its source starts
            (``None``: the identity, the text only changed case or one-for-one letters).
        ends: per canonical character, one past the original offset where its source ends.
        tricks: which disguises were undone (``tags``, ``zero_width``, ``bidi``,
            ``confusable``, ``leet``, ``spacing``, ``hyphen``, ``entity``, ``percent``,
            ``uescape``); a signal in itself.
    """

    text: str
    original_length: int
    starts: list[int] | None = None
    ends: list[int] | None = None
    tricks: frozenset[str] = field(default_factory=frozenset)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span behind the canonical span ``[start, end)``."""
        if self.starts is None or self.ends is None:
            return start, end
        if not self.starts:
            return 0, 0
        start = min(max(start, 0), len(self.starts) - 1)
        end = min(max(end, start + 1), len(self.ends))
        return self.starts[start], self.ends[end - 1]


class _Text:
    """A text being rewritten, with its per-character source spans (built on first change)."""

    __slots__ = ("ends", "starts", "text", "tricks")

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts: list[int] | None = None
        self.ends: list[int] | None = None
        self.tricks: set[str] = set()

    def rewrite(
        self, pattern: re.Pattern[str], repl: Callable[[str], Replacement], trick: str | None
    ) -> None:
        """Replace every match of ``pattern`` by ``repl(match)``; ``None`` keeps the match.

        ``trick`` is recorded when anything was replaced (``None``: ``repl`` records its own).
        """
        text = self.text
        pieces: list[str] = []
        new_starts: list[int] = []
        new_ends: list[int] = []
        pos = 0
        for m in pattern.finditer(text):
            a, b = m.span()
            r = repl(m.group())
            if r is None:
                continue
            if self.starts is None or self.ends is None:
                self.starts = list(range(len(text)))
                self.ends = list(range(1, len(text) + 1))
            starts, ends = self.starts, self.ends
            pieces.append(text[pos:a])
            new_starts += starts[pos:a]
            new_ends += ends[pos:a]
            if isinstance(r, tuple):
                out, rel_starts, rel_ends = r
                new_starts += [starts[a + i] for i in rel_starts]
                new_ends += [ends[a + j - 1] for j in rel_ends]
            elif len(r) == b - a:
                out = r
                new_starts += starts[a:b]
                new_ends += ends[a:b]
            else:  # every new character stands for the whole match
                out = r
                new_starts += [starts[a]] * len(r)
                new_ends += [ends[b - 1]] * len(r)
            pieces.append(out)
            pos = b
        if not pieces:
            return
        assert self.starts is not None
        assert self.ends is not None
        pieces.append(text[pos:])
        new_starts += self.starts[pos:]
        new_ends += self.ends[pos:]
        self.text = "".join(pieces)
        self.starts, self.ends = new_starts, new_ends
        if trick is not None:
            self.tricks.add(trick)


def canonicalise(text: str) -> Canonical:
    """The canonical form of ``text`` with its offset map (see the module docstring)."""
    t = _Text(text)
    if "&" in text:
        t.rewrite(_ENTITY, _entity, "entity")
    if "%" in text:
        t.rewrite(_PERCENT, _percent, "percent")
    if "\\u" in text:
        t.rewrite(_UESCAPE, _uescape, "uescape")
    if not t.text.isascii():
        t.rewrite(_TAGS, _tags, "tags")
        t.rewrite(_INVISIBLE, _invisible(t.tricks), "zero_width")
        _fold(t)
        lowered = t.text.lower()
        t.text = lowered if len(lowered) == len(t.text) else t.text.translate(_ASCII_LOWER)
    else:
        t.text = t.text.lower()  # one for one on ASCII: no map needed
    if _LEET_HINT.search(t.text):
        t.rewrite(_LEET_WORD, _leet(t.tricks), None)
    if spaced_hint(t.text):
        t.rewrite(_SPACED, _spaced, "spacing")
    if "-" in t.text:
        t.rewrite(_INNER_HYPHEN, lambda _: "", "hyphen")
    return Canonical(t.text, len(text), t.starts, t.ends, frozenset(t.tricks))


def spaced_hint(text: str) -> bool:
    """Whether lower-case ``text`` may hold letters spaced apart (``_SPACED_HINT`` matches)."""
    if text.isascii():
        return _SPACED_CLASSES.search(text.translate(_CLASSES)) is not None
    return _SPACED_HINT.search(text) is not None


def _entity(s: str) -> Replacement:
    out = html.unescape(s)
    return None if out == s else out


def _percent(s: str) -> Replacement:
    raw = bytes.fromhex(s.replace("%", ""))
    if raw.isascii():  # one character per %XX: keep per-character offsets
        n = len(raw)
        return raw.decode(), [3 * i for i in range(n)], [3 * i + 3 for i in range(n)]
    return raw.decode("utf-8", errors="replace")


def _uescape(s: str) -> Replacement:
    chars = "".join(chr(int(s[i + 2 : i + 6], 16)) for i in range(0, len(s), 6))
    return chars, [6 * i for i in range(len(chars))], [6 * i + 6 for i in range(len(chars))]


def _tags(s: str) -> Replacement:
    # Spaces around the hidden text keep it from gluing onto the visible words next to it.
    keep = [i for i, c in enumerate(s) if 0xE0020 <= ord(c) <= 0xE007E]
    hidden = "".join(chr(ord(s[i]) - 0xE0000) for i in keep)
    if not keep:
        return ""
    first, last = keep[0], keep[-1]
    return (
        " " + hidden + " ",
        [first, *keep, last],
        [first + 1, *(i + 1 for i in keep), last + 1],
    )


def _invisible(tricks: set[str]) -> Callable[[str], Replacement]:
    def repl(s: str) -> Replacement:
        if any(c in _BIDI for c in s):
            tricks.add("bidi")
        return ""

    return repl


@lru_cache(maxsize=4096)
def fold_char(c: str) -> str:
    """One non-ASCII character folded: NFKD, marks dropped, case-folded, look-alikes to Latin."""
    out = []
    for d in unicodedata.normalize("NFKD", c):
        if unicodedata.combining(d):
            continue
        if d in CAPITAL_CONFUSABLES:
            out.append(CAPITAL_CONFUSABLES[d])
            continue
        for f in d.casefold():
            out.append(CONFUSABLES.get(f, f))
    folded = "".join(out)
    if 0x1F1E6 <= ord(c) <= 0x1F1FF:  # regional indicator letters spell words too
        folded = chr(ord(c) - 0x1F1E6 + ord("a"))
    return folded


def _fold(t: _Text) -> None:
    """Fold every character that is not ASCII (:func:`fold_char`); trick ``nfkc`` if any.

    What ``t.rewrite(_NON_ASCII, _fold_run(t.tricks), "nfkc")`` does, cheaper (a kilobyte of
    French has about sixty runs of such characters): each distinct character folded once, and
    the offset map rebuilt only around the characters that do not fold to exactly one (``ß``,
    ``œ``, ``…``); the others keep their offsets.
    """
    text = t.text
    runs = _NON_ASCII.findall(text)
    if not runs:
        return
    chars: set[str] = set().union(*runs)
    folds = {c: fold_char(c) for c in chars}
    for c, f in folds.items():
        if f != c and c.lower() not in _ACCENTED and f.isascii() and f.isalpha():
            t.tricks.add("confusable")
    t.tricks.add("nfkc")
    starts = t.starts if t.starts is not None else list(range(len(text)))
    ends = t.ends if t.ends is not None else list(range(1, len(text) + 1))
    if any(len(f) != 1 for f in folds.values()):
        new_starts: list[int] = []
        new_ends: list[int] = []
        pos = 0
        for m in _NON_ASCII.finditer(text):
            for i, c in enumerate(m.group(), m.start()):
                n = len(folds[c])
                if n != 1:
                    new_starts += starts[pos:i]
                    new_ends += ends[pos:i]
                    new_starts += [starts[i]] * n
                    new_ends += [ends[i]] * n
                    pos = i + 1
        starts, ends = new_starts + starts[pos:], new_ends + ends[pos:]
    # Piece by piece (``str.translate`` of text that is not ASCII looks every character up).
    pieces = _NON_ASCII.split(text)
    out = [pieces[0]]
    for run, piece in zip(runs, pieces[1:], strict=True):
        out.append("".join(map(folds.__getitem__, run)))
        out.append(piece)
    t.text = "".join(out)
    t.starts, t.ends = starts, ends


def _fold_run(tricks: set[str]) -> Callable[[str], Replacement]:
    """The plain fold of a run of characters that are not ASCII, for ``_Text.rewrite``: the
    definition :func:`_fold` computes faster (the tests compare the two)."""

    def repl(s: str) -> Replacement:
        out: list[str] = []
        rel_starts: list[int] = []
        rel_ends: list[int] = []
        for i, c in enumerate(s):
            f = fold_char(c)
            if f != c and c.lower() not in _ACCENTED and f.isascii() and f.isalpha():
                tricks.add("confusable")
            out.append(f)
            rel_starts += [i] * len(f)
            rel_ends += [i + 1] * len(f)
        return "".join(out), rel_starts, rel_ends

    return repl


#: Letters of the five languages served, whose folding is spelling, not a disguise.
_ACCENTED = frozenset("àâäáãçéèêëíìîïñóòôöõúùûüÿßœæ")


def _leet(tricks: set[str]) -> Callable[[str], Replacement]:
    def repl(s: str) -> Replacement:
        if not any(c.isdigit() or c in "@$" for c in s):
            return None
        out = s.translate(LEET)
        if out == s:
            return None
        # Every such word is read as letters, but only a word of four or more with a digit
        # *between* letters (``pr0mpt``, ``1gn0r3``, ``5y5t3m``) counts as a disguise: version
        # and product names (``utf8``, ``h11``, ``ipv4``, ``v2``) are not someone hiding words.
        if len(s) >= 4 and _LEET_INSIDE.search(s):
            tricks.add("leet")
        return out

    return repl


_LEET_INSIDE = re.compile(r"[a-z][0134578@$9]{1,3}[a-z]")


def _spaced(s: str) -> Replacement:
    gaps = [m.group() for m in _SPACED_GAP.finditer(s)]
    # The commonest gap joins the letters of a word; any other gap is a word break
    # ("i g n o r e   a l l", "d_u_m_p y_o_u_r"), kept as one space.
    letter_gap = max(sorted(set(gaps)), key=gaps.count)
    out: list[str] = []
    rel_starts: list[int] = []
    rel_ends: list[int] = []
    i = 0
    for m in _SPACED_GAP.finditer(s):
        a, b = m.span()
        out.append(s[i:a])
        rel_starts += range(i, a)
        rel_ends += range(i + 1, a + 1)
        if s[a:b] != letter_gap:
            out.append(" ")
            rel_starts.append(a)
            rel_ends.append(b)
        i = b
    out.append(s[i:])
    rel_starts += range(i, len(s))
    rel_ends += range(i + 1, len(s) + 1)
    return "".join(out), rel_starts, rel_ends
