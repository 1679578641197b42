"""Text laid out by a scanner, a form or a label, read as if typed (see :mod:`.pii`).

The value patterns expect values written the usual way. Text copied from a scan or a payslip
spaces them out ("N°  S.S.  :  1 91  04 33  184 931  47"), breaks them across lines ("FR76 1450
5049 0811\\n9153 5801 117") or writes them in capitals ("BAHNHOFSTR. 2\\n72072 TÜBINGEN").
Independent authors' fourth round: 19 of 42 values missed on one author's administrative
documents were laid out so. Each layout gets a copy of the text read the usual way; the
findings in the copy that need the change are mapped back to the original offsets.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise

from llmops_guardrails.detectors.pii_context import PHONE_WORDS, Span

# Spaces doubled by a scan: two or three between two printed characters, at least twice. (A
# wider gap separates a table's columns: "R. Mwangi       29:44.9" is a name and a time.)
_RUN = re.compile(r"(?<=\S) {2,3}(?=\S)")
# The runs that count towards a scan's layout: between two letters or digits (two spaces after a
# full stop are a typist's habit; the copy then costs a second reading of the whole text).
_OCR_RUN = re.compile(r"(?<=\w) {2,3}(?=\w)")


@dataclass(frozen=True, slots=True)
class Squeezed:
    """A copy of a text with spaces run together squeezed to one and numbers broken across lines
    joined with a space; ``origin[i]`` is the original offset of the copy's ``i``-th character."""

    text: str
    origin: list[int]
    #: Offsets in the copy right after a squeezed run (a span holding one needed the squeeze).
    squeezed_at: frozenset[int]
    #: Offsets in the copy of a joined line break.
    joined_at: frozenset[int]

    def back(self, spans: Iterable[Span]) -> Iterator[Span]:
        """The copy's spans that needed the change, at the original offsets. A phone number is
        joined across lines only where neither line's part is a number of its own (seven digits
        or more): two numbers listed one per line would read as one; "06 43 18\n92 70", a number
        cut by a copy and paste, is one (tenth round: four of one author's phones)."""
        for span in spans:
            inside = range(span.start + 1, span.end)
            joins = [i for i in inside if i in self.joined_at]
            if joins and span.kind == "phone" and not self._one_number(span, joins):
                continue
            if joins and span.kind == "phone" and not self._phone_named(span):
                continue  # a list wrapped over lines ("05 12 23\n34 45", lottery numbers)
            joined = bool(joins)
            if joined or any(i in self.squeezed_at for i in inside):
                end = self.origin[span.end - 1] + 1
                yield span._replace(start=self.origin[span.start], end=end)

    def _phone_named(self, span: Span) -> bool:
        """Whether a word for a phone stands before ``span`` (60 characters)."""
        return (
            PHONE_WORDS.search(self.text[max(0, span.start - 60) : span.start].lower()) is not None
        )

    def _one_number(self, span: Span, joins: list[int]) -> bool:
        """Whether each line's part of ``span`` (split at ``joins``) is too short to be a number."""
        cuts = [span.start, *joins, span.end]
        return all(_digits(self.text[a:b]) < 7 for a, b in pairwise(cuts))


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


def squeezed(text: str) -> Squeezed | None:
    """The squeezed copy of ``text``, or None when nothing in it is laid out so."""
    # Each looked for only where its marker is (a pattern tried at every offset of a prompt
    # cost ~20 us per KB).
    runs = "  " in text and len(_OCR_RUN.findall(text, 0, 20_000)) >= 3
    breaks = list(_broken(text)) if "\n" in text else []
    if not runs and not breaks:
        return None
    out: list[str] = []
    origin: list[int] = []
    squeezed_at: set[int] = set()
    joined_at: set[int] = set()
    at = 0
    changes = [(m.start(), m.end(), False) for m in _RUN.finditer(text)] if runs else []
    changes += [(start, end, True) for start, end in breaks]
    for start, end, joins in sorted(changes):
        if start < at:
            continue  # a run inside a broken number's gap: already taken
        out.append(text[at:start])
        origin.extend(range(at, start))
        (joined_at if joins else squeezed_at).add(len(origin))
        out.append(" ")
        origin.append(start)
        at = end
    out.append(text[at:])
    origin.extend(range(at, len(text)))
    return Squeezed("".join(out), origin, frozenset(squeezed_at), frozenset(joined_at))


# --- boxes ------------------------------------------------------------------------------------

# A form printed one character per box: "Steuer-ID 5 9 1 8 3 0 2 7 4 5 6", "CODICE FISCALE
# F N T M T T 9 4 T 2 4 B 1 5 7 C", "DNI 2 6 0 4 8 1 7 3 Y". Fifth-round authors: 13 of 41 ids
# missed on one author's forms were boxed. Single characters with one or two spaces between.
_BOX_RUN = re.compile(r"(?<![\w])\w(?: {1,2}\w(?![\w])){6,}")


#: Boxed runs read per text at most (a form has a few; a megabyte of "1 2 3 4 " is no form).
_MAX_BOXES = 16


def boxed(text: str, seeds: Iterable[int]) -> list[Squeezed]:
    """For each run of boxed characters around ``seeds`` (the starts of digit clusters that look
    boxed), a copy of the run's neighbourhood on its line (the label before it, 60 characters)
    with the spaces inside the run taken out. Only the neighbourhood is read again, not the text
    (a copy of the whole text cost a second full reading: 5.6 s for a megabyte of boxes)."""
    copies: list[Squeezed] = []
    done = 0
    for seed in seeds:
        if seed < done or len(copies) >= _MAX_BOXES:
            continue
        line = text.rfind("\n", max(0, seed - 40), seed) + 1
        run = next(
            (
                m
                for m in _BOX_RUN.finditer(text, max(line, seed - 40), min(len(text), seed + 80))
                if m.start() <= seed < m.end()
            ),
            None,
        )
        if run is None:
            continue
        done = run.end()
        joined = run.group().replace(" ", "")
        if len(set(joined)) == 1 or joined in "0123456789" or joined in "9876543210":
            continue  # counting, or one character repeated: no one's number
        copies.append(_unboxed(text, run.start(), run.end()))
    return copies


def _unboxed(text: str, start: int, end: int) -> Squeezed:
    """A copy of ``text`` around the run at ``start:end`` (60 characters before, 20 after, on its
    line) with the run's spaces taken out."""
    begin = max(start - 60, text.rfind("\n", max(0, start - 60), start) + 1)
    stop = text.find("\n", end, end + 20)
    stop = min(len(text), end + 20) if stop == -1 else stop
    out = [text[begin:start]]
    origin = list(range(begin, start))
    squeezed_at: set[int] = set()
    for at in range(start, end):
        if text[at] == " ":
            squeezed_at.add(len(origin))
            continue
        out.append(text[at])
        origin.append(at)
    out.append(text[end:stop])
    origin.extend(range(end, stop))
    return Squeezed("".join(out), origin, frozenset(squeezed_at), frozenset())


_GROUPED_END = re.compile(r"\d \d{1,4}$")


def _broken(text: str) -> Iterator[tuple[int, int]]:
    """Each line break with digits on both sides (spaces and tabs around it), as (start, end)."""
    at = text.find("\n")
    while at != -1:
        start, end = at, at + 1
        while start > 0 and text[start - 1] in " \t":
            start -= 1
        while end < len(text) and text[end] in " \t":
            end += 1
        # Only a number written in groups goes on over a line break ("FR76 1450 5049 0811\n9153
        # 5801 117"); a column of numbers does not ("5000\n8080\n8443\n5432" is four ports).
        grouped = _GROUPED_END.search(text, max(0, start - 12), start)
        if start > 0 and grouped and text[end : end + 1].isdigit():
            yield start, end
        at = text.find("\n", at + 1)


# --- capitals ---------------------------------------------------------------------------------

# An address written in capitals, as on a shipping label or an official letter ("847 PALM AVE
# APT 12\nSAN DIEGO CA 92154"): the street patterns read capitalised words, so the capitals are
# folded ("Palm Ave") in a copy of the text with the same offsets. Two-letter words stay (states,
# provinces) but for the street abbreviations.
_CAPS_LINE = re.compile(r"(?m)^(?=[^a-z\n]*\d)(?=(?:[^a-z\n]*[A-ZÀ-Þ]{3}){2})[^a-z\n]{6,}$")
# Or capitals inside a sentence, as a carrier's text message writes the address it delivers to
# ("... entregue hoje em R DR MANUEL ARRIAGA 15 1 ESQ 4700-040 BRAGA. Acompanhe ..."; tenth
# round): a run without small letters, a digit and two words of three capitals in it. (Found
# as runs, then looked into: lookaheads at every offset of a megabyte of capitals are quadratic.)
_CAPS_RUN = re.compile(r"[^a-z\n]{12,}")
_CAPS3 = re.compile(r"[A-ZÀ-Þ]{3}")


def _caps_address(run: str) -> bool:
    return any(c.isdigit() for c in run) and len(_CAPS3.findall(run, 0, 200)) >= 2


_CAPS_WORD = re.compile(r"(?<![\w])[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ'\u2019]{1,40}(?![\w])")
_NO_CAPITALS = str.maketrans("", "", "ABCDEFGHIJKLMNOPQRSTUVWXYZÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞ")
_STREET_ABBREVIATIONS = frozenset(["ST", "DR", "RD", "LN", "CT", "PL", "AV", "AVE", "SQ"])


def _fold(m: re.Match[str]) -> str:
    word = m.group()
    if len(word) == 2 and word not in _STREET_ABBREVIATIONS:
        return word
    folded = word[0] + word[1:].lower()
    return folded if len(folded) == len(word) else word


def folded(text: str) -> str | None:
    """``text`` with its words in capitals written capitalised (same length), or None when no line
    is in capitals."""
    if len(text) - len(text.translate(_NO_CAPITALS)) < 6:
        return None  # fewer capitals than two words of three (counted in ~3 us per KB)
    if not _CAPS_LINE.search(text) and not any(map(_caps_address, _CAPS_RUN.findall(text))):
        return None
    copy = _CAPS_WORD.sub(_fold, text)
    return copy if len(copy) == len(text) else None


def in_capitals(text: str, spans: Callable[[str], Iterable[Span]]) -> Iterator[Span]:
    """The addresses ``spans`` finds in the folded copy of ``text`` where the original is in
    capitals and a postal code holds them ("12 PARK PLACE" in a chapter title is none)."""
    copy = folded(text)
    if copy is None:
        return
    for span in spans(copy):
        value = text[span.start : span.end]
        capitals = not any(c.islower() for c in value)
        if span.kind == "street_address" and capitals and _POSTAL.search(value):
            yield span


# A postal code after the first line of an address: four or five digits (a ZIP+4, a CEP), or a
# British postcode.
_POSTAL = re.compile(
    r"[\s,;](?:[A-Z]{1,2}-)?\d{4,5}(?:-\d{3,4})?(?!\d)|[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}"
)
