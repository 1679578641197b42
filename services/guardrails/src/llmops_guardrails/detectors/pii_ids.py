"""Payment cards, IBANs and national identifiers: candidates and their checks (see :mod:`.pii`)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.de import idnr as de_idnr
from stdnum.es import dni as es_dni
from stdnum.es import nie as es_nie
from stdnum.fr import nir as fr_nir
from stdnum.it import codicefiscale as it_cf
from stdnum.pt import nif as pt_nif
from stdnum.us import ssn as us_ssn

from llmops_guardrails.detectors.pii_context import (
    IDNR_WORDS,
    NIF_WORDS,
    NINO_WORDS,
    SSN_WORDS,
    Span,
    context_before,
)

# 12-19 digits, optionally grouped by single spaces or hyphens; the look-arounds refuse a piece of
# a longer digit run.
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){11,18}(?![\w]|[ -]\d)")

# (prefix range low, high, allowed lengths): the networks' public IIN ranges.
_IIN_RANGES: tuple[tuple[int, int, tuple[int, ...]], ...] = (
    (4, 4, (13, 16, 19)),  # Visa
    (51, 55, (16,)),  # Mastercard
    (2221, 2720, (16,)),  # Mastercard 2-series
    (34, 34, (15,)),  # American Express
    (37, 37, (15,)),
    (6011, 6011, (16, 17, 18, 19)),  # Discover
    (644, 649, (16, 17, 18, 19)),
    (65, 65, (16, 17, 18, 19)),
    (3528, 3589, (16, 17, 18, 19)),  # JCB
    (300, 305, (14, 15, 16, 17, 18, 19)),  # Diners Club
    (36, 36, (14, 15, 16, 17, 18, 19)),
    (38, 39, (14, 15, 16, 17, 18, 19)),
    (62, 62, (16, 17, 18, 19)),  # UnionPay
    (50, 50, (12, 13, 14, 15, 16, 17, 18, 19)),  # Maestro
    (56, 58, (12, 13, 14, 15, 16, 17, 18, 19)),
    (63, 63, (12, 13, 14, 15, 16, 17, 18, 19)),
    (67, 67, (12, 13, 14, 15, 16, 17, 18, 19)),
)


def _known_iin(digits: str) -> bool:
    for low, high, lengths in _IIN_RANGES:
        width = len(str(low))
        if len(digits) in lengths and low <= int(digits[:width]) <= high:
            return True
    return False


def cards(text: str, pos: int, endpos: int) -> Iterator[Span]:
    for m in _CARD.finditer(text, pos, endpos):
        cand = m.group()
        if " " in cand and "-" in cand:
            continue
        groups = cand.replace("-", " ").split(" ")
        if len(groups) > 1 and min(len(g) for g in groups[:-1]) < 3:
            continue  # "12 34 56 ..." is a phone or a list of numbers, not a card
        digits = "".join(groups)
        if _known_iin(digits) and luhn.is_valid(digits):
            yield Span("card_number", m.start(), m.end(), 0.99)


# Country code, check digits, then the BBAN; grouped by single spaces or not at all; in either
# case (people type "fr76 3000 ..." in chat: the mod-97 check and the country's format decide).
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}(?![A-Za-z0-9])")


_LETTER_VALUES = {ord(c): str(ord(c) - 55) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def _mod97(compact: str) -> bool:
    """ISO 7064 mod 97-10 alone: a fast first test before stdnum's full (country-aware) check."""
    return int((compact[4:] + compact[:4]).translate(_LETTER_VALUES)) % 97 == 1


def ibans(text: str, pos: int, endpos: int) -> Iterator[Span]:
    for m in _IBAN.finditer(text, pos, endpos):
        cand = m.group()
        # The pattern may have run on into a following uppercase token ("... 00 BIC"): try the
        # longest prefix that is a valid IBAN, ending on a character of the candidate.
        positions = [i for i, c in enumerate(cand) if c != " "]
        for n in range(len(positions), 14, -1):
            compact = "".join(cand[i] for i in positions[:n]).upper()
            # The country's length and format, and mod 97; not its national check digits
            # (``check_country``): an IBAN that passes mod 97 is one to hide, and synthetic
            # ones (test data, examples) often carry only that (independent authors' Spanish
            # IBANs: 4 of 4 failed the Spanish check and were missed).
            if _mod97(compact) and stdnum_iban.is_valid(compact, check_country=False):
                yield Span("iban", m.start(), m.start() + positions[n - 1] + 1, 0.99)
                break


_SSN = re.compile(r"(?<![\w-])\d{3}([- ])\d{2}\1\d{4}(?![\w]|-\d)|(?<![\w-])\d{9}(?![\w])")


def ssns(text: str, pos: int, endpos: int) -> Iterator[Span]:
    for m in _SSN.finditer(text, pos, endpos):
        cand = m.group()
        if not us_ssn.is_valid(cand.replace(" ", "-")):
            continue
        keyword = bool(SSN_WORDS.search(context_before(text, m.start())))
        if keyword:
            yield Span("us_ssn", m.start(), m.end(), 0.99)
        elif "-" in cand:
            yield Span("us_ssn", m.start(), m.end(), 0.85)


_NINO = re.compile(
    r"(?<![A-Za-z0-9])[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])",
    re.IGNORECASE,
)
_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def ninos(text: str, pos: int, endpos: int) -> Iterator[Span]:
    for m in _NINO.finditer(text, pos, endpos):
        if m.group()[:2].upper() in _NINO_BAD_PREFIXES:
            continue
        keyword = NINO_WORDS.search(context_before(text, m.start()))
        if not m.group().isupper():
            # Typed in lower case ("ni no. eh275590d"): a NINO only when a keyword names it.
            if keyword:
                yield Span("gb_nino", m.start(), m.end(), 0.95)
            continue
        yield Span("gb_nino", m.start(), m.end(), 0.99 if keyword else 0.9)


# Sex (1/2, 3/4/7/8 for provisional numbers), year, month, department (2A/2B for Corsica), commune,
# order, key; single spaces between any groups.
_NIR = re.compile(
    r"(?<![\w])[1-478] ?\d{2} ?\d{2} ?(?:\d{2}|2[ABab]) ?\d{3} ?\d{3} ?\d{2}(?![\w]|[ ]\d)"
)


def nirs(text: str, pos: int, endpos: int) -> Iterator[Span]:
    for m in _NIR.finditer(text, pos, endpos):
        if fr_nir.is_valid(m.group().upper()):
            yield Span("fr_nir", m.start(), m.end(), 0.99)


_IDNR = re.compile(r"(?<![\w+-])[1-9]\d ?\d{3} ?\d{3} ?\d{3}(?![\w]|[ -]\d)")


def idnrs(text: str, pos: int, endpos: int) -> Iterator[Span]:
    for m in _IDNR.finditer(text, pos, endpos):
        if not de_idnr.is_valid(m.group()):
            continue
        keyword = IDNR_WORDS.search(context_before(text, m.start()))
        yield Span("de_idnr", m.start(), m.end(), 0.99 if keyword else 0.85)


_DNI = re.compile(r"(?<![\w-])\d{8}[- ]?[A-Za-z](?![\w])")
_NIE = re.compile(r"(?<![\w-])[XYZxyz][- ]?\d{7}[- ]?[A-Za-z](?![\w])")


def dnis(text: str, pos: int, endpos: int) -> Iterator[Span]:
    for m in _DNI.finditer(text, pos, endpos):
        if es_dni.is_valid(m.group().upper()):
            yield Span("es_dni", m.start(), m.end(), 0.99)
    for m in _NIE.finditer(text, pos, endpos):
        if es_nie.is_valid(m.group().upper()):
            yield Span("es_nie", m.start(), m.end(), 0.99)


_NIF = re.compile(r"(?<![\w-])[1235689]\d{2}([ .]?)\d{3}\1\d{3}(?![\w]|[ .-]\d)")


def nifs(text: str, pos: int, endpos: int) -> Iterator[Span]:
    for m in _NIF.finditer(text, pos, endpos):
        if pt_nif.is_valid(m.group().replace(" ", "").replace(".", "")):
            keyword = NIF_WORDS.search(context_before(text, m.start()))
            yield Span("pt_nif", m.start(), m.end(), 0.99 if keyword else 0.4)


# Six letters (surname, name), year, month letter, day, municipality, check letter; digits may be
# replaced by letters (omocodia) when two people would share a code.
_CF = re.compile(
    r"(?<![\w])[A-Za-z]{6}[0-9LMNPQRSTUVlmnpqrstuv]{2}[A-EHLMPR-Ta-ehlmpr-t]"
    r"[0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{3}[A-Za-z](?![\w])"
)


def cfs(text: str, pos: int, endpos: int) -> Iterator[Span]:
    for m in _CF.finditer(text, pos, endpos):
        if it_cf.is_valid(m.group().upper()):
            yield Span("it_codice_fiscale", m.start(), m.end(), 0.99)
