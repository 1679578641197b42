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
    REFERENCE_WORDS,
    SSN_WORDS,
    STRONG_PHONE_WORDS,
    TEST_CARDS,
    Span,
    column_name,
    context_before,
    filler_digits,
    marked_example,
    named,
)

# 12-19 digits, optionally grouped by single spaces or hyphens; the look-arounds refuse a piece of
# a longer digit run.
# Not after a digit and a dot (a piece of a dotted number), but after "No." it may start.
_CARD = re.compile(r"(?<![\w-])(?<!\d\.)\d(?:[ .-]?\d){11,18}(?![\w]|[ .-]\d)")

# How cards are printed: fours (the last group shorter on 13-, 15- and 19-digit cards), American
# Express' 4-6-5, Diners' 4-6-4, or two halves of eight.
_CARD_GROUPS = re.compile(r"(?:4 )+[1-4]$|4 6 [45]$|8 8$")

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
        if sum(sep in cand for sep in " -.") > 1:
            continue
        groups = cand.replace("-", " ").replace(".", " ").split(" ")
        if len(groups) > 1 and min(len(g) for g in groups[:-1]) < 3:
            continue  # "12 34 56 ..." is a phone or a list of numbers, not a card
        if len(groups) > 1 and not _CARD_GROUPS.match(" ".join(map(str, map(len, groups)))):
            continue  # "302-8841776-1102934" is an order number: cards are printed in fours
        digits = "".join(groups)
        if "." in cand and len(groups) != 4:
            continue  # dotted: only four groups of four ("4060.9712.2094.1414"), not amounts
        if _known_iin(digits) and luhn.is_valid(digits):
            # A checklist names the test context once for several cards: read further back.
            test = digits in TEST_CARDS and marked_example(text, m.start(), 200)
            score = 0.3 if test else 0.99
            yield Span("card_number", m.start(), m.end(), score)


# Country code, check digits, then the BBAN; grouped by single spaces, by dashes
# ("FR76-3000-3204-...") or not at all; in either case (people type "fr76 3000 ..." in chat:
# the mod-97 check and the country's format decide).
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}"
    r"(?:(?:-[A-Za-z0-9]{1,4}){3,9}|(?:\.[A-Za-z0-9]{4}){3,8}\.?[A-Za-z0-9]{0,4}"
    r"|(?: ?[A-Za-z0-9]){11,30})(?![A-Za-z0-9])"
)


_LETTER_VALUES = {ord(c): str(ord(c) - 55) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def _mod97(compact: str) -> bool:
    """ISO 7064 mod 97-10 alone: a fast first test before stdnum's full (country-aware) check."""
    return int((compact[4:] + compact[:4]).translate(_LETTER_VALUES)) % 97 == 1


def ibans(text: str, pos: int, endpos: int) -> Iterator[Span]:
    for m in _IBAN.finditer(text, pos, endpos):
        cand = m.group()
        # The pattern may have run on into a following uppercase token ("... 00 BIC"): try the
        # longest prefix that is a valid IBAN, ending on a character of the candidate.
        positions = [i for i, c in enumerate(cand) if c not in " -."]
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
        keyword = named(SSN_WORDS, text, m.start(), 64)
        # A reference word just before outweighs a keyword further back ("social events
        # ticket 536-22-1874").
        if keyword and not REFERENCE_WORDS.search(context_before(text, m.start(), 20)):
            yield Span("us_ssn", m.start(), m.end(), 0.99)
        elif "-" in cand and not REFERENCE_WORDS.search(context_before(text, m.start())):
            # Without a keyword the dashed shape is the only evidence, and case, part and
            # file numbers take it too ("mi expediente es el 551-20-3319").
            yield Span("us_ssn", m.start(), m.end(), 0.85)


# Grouped by spaces, or by dashes as some forms print it ("EZ-701519-A", "KY-24-17-23-A").
_NINO = re.compile(
    r"(?<![A-Za-z0-9])[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r"(?: ?\d{2} ?\d{2} ?\d{2} ?|-\d{6}-|(?:-\d{2}){3}-)[A-D]"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def ninos(text: str, pos: int, endpos: int) -> Iterator[Span]:
    for m in _NINO.finditer(text, pos, endpos):
        if m.group()[:2].upper() in _NINO_BAD_PREFIXES:
            continue
        keyword = named(NINO_WORDS, text, m.start())
        if not m.group().isupper() or "-" in m.group():
            # Typed in lower case ("ni no. eh275590d") or dashed like a part number: a NINO
            # only when a keyword names it.
            if keyword:
                yield Span("gb_nino", m.start(), m.end(), 0.95)
            continue
        yield Span("gb_nino", m.start(), m.end(), 0.99 if keyword else 0.9)


# Sex (1/2, 3/4/7/8 for provisional numbers), year, month, department (2A/2B for Corsica), commune,
# order, key; single spaces between any groups.
_NIR = re.compile(
    r"(?<![\w.-])[1-478][ .-]?\d{2}[ .-]?\d{2}[ .-]?(?:\d{2}|2[ABab])[ .-]?\d{3}[ .-]?\d{3}"
    r"[ .-]?\d{2}(?![\w]|[ .-]\d)"
)


def nirs(text: str, pos: int, endpos: int) -> Iterator[Span]:
    for m in _NIR.finditer(text, pos, endpos):
        if fr_nir.is_valid(m.group().upper().replace(".", " ").replace("-", " ")):
            yield Span("fr_nir", m.start(), m.end(), 0.99)


_IDNR = re.compile(r"(?<![\w+-])[1-9]\d ?\d{3} ?\d{3} ?\d{3}(?![\w]|[ -]\d)")
# Grouped other ways ("40372 91583 3", "5731 8640 275", "63-408-775-128"): only after a word
# that names it.
_IDNR_GROUPED = re.compile(r"(?<![\w+-])[1-9](?:[ -]?\d){10}(?![\w]|[ -]\d)")


def idnrs(text: str, pos: int, endpos: int) -> Iterator[Span]:
    found = False
    for m in _IDNR.finditer(text, pos, endpos):
        if not de_idnr.is_valid(m.group()):
            continue
        found = True
        keyword = named(IDNR_WORDS, text, m.start())
        yield Span("de_idnr", m.start(), m.end(), 0.99 if keyword else 0.85)
    if not found:
        for m in _IDNR_GROUPED.finditer(text, pos, endpos):
            if de_idnr.is_valid(m.group().replace("-", "")) and named(IDNR_WORDS, text, m.start()):
                yield Span("de_idnr", m.start(), m.end(), 0.95)


# Eight digits and the letter, or dotted in thousands as some forms print it ("27.667.319-K").
_DNI = re.compile(
    r"(?<![\w-])(?<!\d\.)(?:\d{8}|\d{2}\.\d{3}\.\d{3}|\d{2} \d{3} \d{3})[- ]?[A-Za-z](?![\w])"
)
_NIE = re.compile(r"(?<![\w-])[XYZxyz][- ]?\d{7}[- ]?[A-Za-z](?![\w])")


# Spaced like thousands ("72 418 590 P"), a DNI only after a word that names it: "entre 12 500 000
# y 30 000 000 euros" has the letter of one in eight such numbers.
_DNI_WORDS = re.compile(r"dni|nif|nie|documento|identidad|d\.n\.i")


def dnis(text: str, pos: int, endpos: int) -> Iterator[Span]:
    for m in _DNI.finditer(text, pos, endpos):
        if not es_dni.is_valid(m.group().upper().replace(".", "").replace(" ", "")):
            continue
        if m.group()[2:3] == " " and not named(_DNI_WORDS, text, m.start()):
            continue
        yield Span("es_dni", m.start(), m.end(), _id_score(text, m))
    for m in _NIE.finditer(text, pos, endpos):
        if es_nie.is_valid(m.group().upper()):
            yield Span("es_nie", m.start(), m.end(), _id_score(text, m))


def _id_score(text: str, m: re.Match[str]) -> float:
    """0.99, or 0.3 for the digits a form's example uses ("ejemplo: 12345678Z", "X0000000T")
    when the words before say it is one: a counting run or one digit repeated identifies no one,
    and every Spanish form prints them. Unmarked, they may be test data standing for a real one."""
    digits = "".join(c for c in m.group() if c.isdigit())
    return 0.3 if filler_digits(digits) and marked_example(text, m.start()) else 0.99


# First digits: 1-3 people, 45 non-resident people, 5-9 companies and other entities (70-79
# estates, funds and non-resident bodies among them).
_NIF = re.compile(r"(?<![\w-])(?:[12356789]\d|45)\d([ .]?)\d{3}\1\d{3}(?![\w]|[ .-]\d)")


#: Words that name a Portuguese taxpayer's number and nothing else.
_NIF_NAMED = re.compile(r"(?<![a-z])nif(?![a-z])|contribuinte")
#: NIFs printed for no one: an anonymous consumer's.
_GENERIC_NIFS = frozenset({"999999990"})


def _phone_named_after(text: str, start: int) -> bool:
    """Whether a word for a phone stands after the last word for a NIF before ``start`` (a whole
    word: "hotel" is none), or the number has Portugal's calling code."""
    if text[max(0, start - 6) : start].rstrip().endswith("+351"):
        return True
    before = context_before(text, start, 200)
    phone = [
        m.end()
        for m in STRONG_PHONE_WORDS.finditer(before)
        if m.start() == 0 or not before[m.start() - 1].isalpha()
    ]
    if not phone:
        return False
    nif = [m.end() for m in NIF_WORDS.finditer(before)]
    return not nif or phone[-1] > nif[-1]


#: A label of another number on the number's own line: a payment's reference and entity.
_OTHER_LABEL = re.compile(r"refer|\bref\b|entidade|entity|montante|valor|amount|iban")


def _labelled_otherwise(text: str, start: int) -> bool:
    """Whether the number's own line names it something else ("Referência 232 851 034")."""
    line = text[max(0, text.rfind("\n", max(0, start - 80), start) + 1, start - 80) : start].lower()
    return _OTHER_LABEL.search(line) is not None or REFERENCE_WORDS.search(line) is not None


def nifs(text: str, pos: int, endpos: int) -> Iterator[Span]:
    for m in _NIF.finditer(text, pos, endpos):
        digits = m.group().replace(" ", "").replace(".", "")
        if not pt_nif.is_valid(digits) or digits in _GENERIC_NIFS:
            continue  # (999999990 is printed for an anonymous consumer: "consumidor final")
        at = m.start()
        column = column_name(text, at)
        named_column = bool(column) and NIF_WORDS.search(column or "") is not None
        # A keyword near, its column's header, or one further back in prose ("my NIF so I can
        # deduct it on the IRS - it's ..."); not when a column names something else. Or a
        # conversation about one's NIF, the word a few lines up ("manda-me o teu nif ...\nPai:
        # 119038528\nTiago: e o da mãe?\nPai: 294 662 081"; tenth round's dev rows).
        keyword = (
            named_column
            or NIF_WORDS.search(context_before(text, at)) is not None
            or (
                not column
                and (
                    NIF_WORDS.search(context_before(text, at, 64)) is not None
                    or (
                        _NIF_NAMED.search(context_before(text, at, 200)) is not None
                        and not _labelled_otherwise(text, at)
                    )
                )
            )
        )
        if keyword and not named_column and _phone_named_after(text, at):
            # A phone's number after the NIF's line: "Contribuinte: 232 851 034\nTelefone:
            # 239 812 450" (a ninth of phones' nine digits pass the NIF check).
            keyword = False
        score = _id_score(text, m) if keyword else 0.4  # "(por exemplo, 123456789)"
        yield Span("pt_nif", m.start(), m.end(), score)


# Six letters (surname, name), year, month letter, day, municipality, check letter; digits may be
# replaced by letters (omocodia) when two people would share a code.
# Written in one piece, or in the groups of the printed card ("GLL CHR 88R63 G273J"), or of a
# scan's text ("SPSGNR  49T19  F205D"): at most two spaces between groups (the check decides).
_CF = re.compile(
    r"(?<![\w])[A-Za-z]{3} ?[A-Za-z]{3} {0,2}[0-9LMNPQRSTUVlmnpqrstuv]{2}[A-EHLMPR-Ta-ehlmpr-t]"
    r"[0-9LMNPQRSTUVlmnpqrstuv]{2} {0,2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{3}[A-Za-z](?![\w])"
)


def cfs(text: str, pos: int, endpos: int) -> Iterator[Span]:
    for m in _CF.finditer(text, pos, endpos):
        if it_cf.is_valid(m.group().upper().replace(" ", "")):
            yield Span("it_codice_fiscale", m.start(), m.end(), 0.99)
