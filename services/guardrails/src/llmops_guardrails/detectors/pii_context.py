"""Candidate spans, and the context keywords read just before a number (see :mod:`.pii`)."""

from __future__ import annotations

import bisect
import functools
import re
from typing import NamedTuple


class Span(NamedTuple):
    kind: str
    start: int
    end: int
    score: float


# --- context keywords -------------------------------------------------------------------------

# Words that, just before a number, say what it is. Matched in the lower-cased short window
# before the candidate (a keyword further away is as likely to name something else); lower-casing
# the window costs less than IGNORECASE, which is slow on non-ASCII alternatives.
PHONE_WORDS = re.compile(
    r"phone|tel\b|tel\.|tél|call|mobile|cell|whats ?app|fax|text me|reach me|contact|ring"
    r"|portable|numéro|appel|joindre|telefon|handy|rufnummer|anruf|erreichbar|número|numero"
    r"|chiam|cellulare|cell\.|mob\.|\bm:|\bt:|my no\.|my number"
    r"|teléfono|telefono|móvil|movil|llam|telefone|telemóvel|telemovel|celular|ligue|ligar",
)
# Words that say a number is not a phone number: references, orders, parcels, money.
NOT_PHONE_WORDS = re.compile(
    r"order|invoice|\bref\b|\bref\.|reference|tracking|parcel|shipment|ticket|\bcase|account"
    r"|\bacct|serial|\bsku|isbn|\bid\b|#|\bno\.|\bnr\.|n°|nº|version|build|commande|facture|colis"
    r"|dossier|\bsn\b|s/n|frachtbrief|waybill|\bawb\b|lieferschein|albarán|albaran|bolla\b"
    r"|bestell|rechnung|sendung|kundennummer|kundennr|kunden-nr|auftrag|pedido|factura|envío|envio|encomenda|fatura"
    r"|€|\$|£|\beur\b|\busd\b",
)
# Words that say a number is a reference to a case, a file, a part or a meter: read in the
# whole window before a number whose shape is its only evidence (a dashed SSN, a grouped phone
# number).
REFERENCE_WORDS = re.compile(
    r"case|part\b|part #|file|claim|policy|docket|ticket|order|invoice|booking|confirmation"
    r"|expediente|processo|proceso|protocolo|aktenzeichen|artikel|article|artigo|artículo"
    r"|référence|referência|referencia|reference|localizador|billete|bilhete|código|codigo"
    r"|zähler|compteur|contador|pdl|partita iva|p\.? ?iva|\bvat\b|ust-id|cif\b|siret|siren"
    r"|\bein\b|tracking|\bups\b|\bdhl\b|fedex|\bgls\b|\bdpd\b|\bmrw\b|\bseur\b|\bbrt\b"
    r"|\bctt\b|correos|hermes|\btnt\b|\busps\b|colissimo|chronopost|\bposte\b|container|seal\b"
)
SSN_WORDS = re.compile(
    r"ssn|social security|soc\. ?sec|\bmy social\b|\bsocial is\b|\bss(?:#| #| is\b| no\b)"
    r"|\bi?tin\b"
)
NINO_WORDS = re.compile(r"\bni\b|nino|national insurance")
IDNR_WORDS = re.compile(r"steuer|idnr|identifikationsnummer|tax id|tin\b|steuerliche")
NIF_WORDS = re.compile(r"(?<![a-z])nif(?![a-z])|nipc|contribuinte|fiscal|tax")

#: The payment networks' published test cards (Stripe's, Adyen's, Braintree's): a real card
#: only when nothing says it is a test.
_TEST_CARD_NUMBERS = (
    "4242424242424242 4000056655665556 5555555555554444 2223003122003222 5200828282828210"
    " 5105105105105100 378282246310005 371449635398431 6011111111111117 6011000990139424"
    " 3056930009020004 36227206271667 3566002020360505 6200000000000005 4000000000000002"
    " 4000000000009995 4000000000000069 4000000000000127 4000000000000119 4100000000000019"
    " 4111111111111111 5500000000000004 4012888888881881 4000000000003220"
)
TEST_CARDS = frozenset(_TEST_CARD_NUMBERS.split())
# Words that mark a value as an example or test data: "use the test card ...", "(ejemplo:
# 12345678Z)", "format: nombre.apellido@...".
# Whole words only, and not in a domain or a path ("jo@example.com", "/tests/").
_EXAMPLE_WORDS = re.compile(
    r"(?<![\w.@/-])(?:test|sandbox|example|exempl|ejempl|esempi|beispiel|e\.g\.|ej\.|ex\.|z\.b\."
    r"|p\.ex|sample|dummy|fake|falso|fictic|fictí|fictif|placeholder|format)(?![\w.]*\.[a-z]{2}|[\w]*/)"
)


def marked_example(text: str, start: int, width: int = 64) -> bool:
    """Whether the words in the ``width`` characters before ``start`` say an example or test
    value follows."""
    return bool(_EXAMPLE_WORDS.search(context_before(text, start, width)))


def filler_digits(digits: str) -> bool:
    """A digit run no one is issued: one digit repeated, or counting up from 0 or 1
    ("12345678", "00000000")."""
    if len(digits) < 6:
        return False
    return (
        len(set(digits)) == 1 or "0123456789".startswith(digits) or "123456789".startswith(digits)
    )


_CONTEXT_WIDTH = 32


def context_before(text: str, start: int, width: int = _CONTEXT_WIDTH) -> str:
    return text[max(0, start - width) : start].lower()


def named(words: re.Pattern[str], text: str, start: int) -> bool:
    """Whether a keyword just before ``start``, or the header of its table column, names the
    value there."""
    if words.search(context_before(text, start)):
        return True
    column = column_name(text, start)
    return bool(column and words.search(column))


_DELIMITERS = ",;\t|"


class Tables(NamedTuple):
    #: The start of every line, ascending.
    line_starts: list[int]
    #: Per line: its delimiter and the header fields over it, or None.
    headers: list[tuple[str, list[str]] | None]


@functools.lru_cache(maxsize=4)
def table_headers(text: str) -> Tables:
    """Every line's table header, in one pass over the text (cached: a CSV export of 1 MB asks
    once per value, and the last texts' hashes are kept by ``str`` itself).

    A line's header is the nearest line above it in the same table: as many of the line's
    delimiter, no digit, and only lines with that many delimiters between (a Markdown rule line,
    ``|---|---|``, is skipped)."""
    starts: list[int] = []
    headers: list[tuple[str, list[str]] | None] = []
    current: dict[str, tuple[int, list[str]]] = {}  # delimiter -> (count, header fields)
    pos = 0
    for line in text.split("\n"):
        starts.append(pos)
        pos += len(line) + 1
        counts = {d: line.count(d) for d in _DELIMITERS}
        delimiter = max(_DELIMITERS, key=counts.__getitem__)
        count = counts[delimiter]
        found = current.get(delimiter)
        headers.append((delimiter, found[1]) if count and found and found[0] == count else None)
        if not line.strip(" -:|\t"):
            if not line.strip():
                current.clear()  # a blank line ends every table
            continue
        for d, c in counts.items():
            if not c or (d in current and current[d][0] != c):
                current.pop(d, None)
        if count and not any(ch.isdigit() for ch in line):
            current[delimiter] = (count, [f.strip(" \t\"'").lower() for f in line.split(delimiter)])
    return Tables(starts, headers)


def column_name(text: str, start: int) -> str:
    """The header of the table column ``start`` is in (lower case), or "".

    A value in a CSV export or a pasted table has no keyword beside it: its column's header
    names it ("nome;nif;telemovel" over "Tiago Nunes;301628068;961 220 384"). Independent
    authors' CSV rows: a NIF or a phone number with no keyword beside it scored below the
    threshold.
    """
    if "\n" not in text:
        return ""
    tables = table_headers(text)
    line = bisect.bisect_right(tables.line_starts, start) - 1
    header = tables.headers[line]
    if header is None:
        return ""
    delimiter, fields = header
    index = text.count(delimiter, tables.line_starts[line], start)
    return fields[index] if index < len(fields) else ""
