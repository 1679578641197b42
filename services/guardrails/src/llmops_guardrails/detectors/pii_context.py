"""Candidate spans, and the context keywords read just before a number (see :mod:`.pii`)."""

from __future__ import annotations

import bisect
import contextlib
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
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
    r"phone|tel\b|tel\.|tél|call|mobile|cell|whats ?app|fax|text me|\breach\b|contact|ring"
    r"|portable|numéro|appel|joindre|telefon|handy|rufnummer|anruf|erreichbar|número|numero"
    r"|chiam|cellulare|cell\.|mob\.|\bm:|\bt:|my no\.|my number"
    r"|teléfono|telefono|móvil|movil|llam|telefone|telemóvel|telemovel|celular|ligue|ligar"
    # Payments and messages sent to a phone number: "bizum al 740 109 637", "MB Way: 92...",
    # "me chama no zap", "escríbeme al 6...".
    r"|bizum|mb ?way|\bzap\b|escr[ií]beme|escreve-me|manda(?:-me)? mensagem"
    # Latin American shorthands: "Cel. 81 1928 4406", "mandame un wsp al 11 6203-8847".
    r"|\bcel\b|\bwsp\b|\bwpp\b|\btlm\b|\btlf\b|\btfno\b|\btelf\b",
)
# The phone words that outweigh a word for a reference before the same number ("Account phone",
# "my no. is"); "número", "contact" and "ring" do not ("Numero spedizione BRT: ...").
STRONG_PHONE_WORDS = re.compile(
    r"phone|tel\b|tel\.|tél|call(?!back\b(?![ #:]))|mobile|cell|whats ?app|fax|text me|\breach\b|portable|appel"
    r"|contact:|contacto:|kontakt:"
    r"|telefon|handy|rufnummer|anruf|erreichbar|chiam|cellulare|mob\.|\bm:|\bt:|my no\.|my number"
    r"|teléfono|telefono|móvil|movil|llam|telefone|telemóvel|telemovel|celular|ligue|ligar"
    r"|\bcel\b|\bwsp\b|\bwpp\b|\btlm\b|\btlf\b|\btfno\b|\btelf\b",
)
# Words that say a number is not a phone number: references, orders, parcels, money.
NOT_PHONE_WORDS = re.compile(
    r"order|invoice|\bref\b|\bref\.|reference|tracking|parcel|shipment|ticket|\bcase|account"
    r"|\bacct|serial|\bsku|isbn|\bid\b|#|\bno\.|\bnr\.|n°|nº|version|build|commande|facture|colis"
    r"|dossier|\bsn\b|s/n|frachtbrief|waybill|\bawb\b|lieferschein|albarán|albaran|bolla\b"
    r"|spedizione|expédition|expedição|envío"
    r"|bestell|rechnung|sendung|kundennummer|kundennr|kunden-nr|auftrag|pedido|factura|envío|envio|encomenda|fatura"
    r"|€|\$|£|\beur\b|\busd\b|routing|\baba\b|swift|polizza|póliza|apólice|num[ée]ro client"
    r"|n° client|número de cliente|customer (?:no|number|id)|vertragskonto|beitragsnummer"
    r"|vertragsnummer|versicherungsnummer|mitgliedsnummer",
)
# Words that say a number is a reference to a case, a file, a part or a meter: read in the
# whole window before a number whose shape is its only evidence (a dashed SSN, a grouped phone
# number). Not "on file" (kept on record: "SSN on file: ...").
REFERENCE_WORDS = re.compile(
    r"(?<![^\W\d_])(?:ref|réf|case|part|part #|(?<!on )file|claim|policy|docket|ticket|(?<!in )order|invoice"
    r"|booking|confirmation|expediente|processo|proceso|protocolo|aktenzeichen|artikel\w*|article"
    r"|artigo|artículo|référence|referência|referencia|reference|localizador|billete|bilhete"
    r"|código|codigo|zähler\w*|compteur|contador|pdl|partita iva|p\.? ?iva|vat|ust-?id\w*|cif"
    r"|siret|siren|steuernummer|tracking|ups|dhl|fedex|gls|dpd|mrw|seur|brt|ctt|correos|hermes|tnt"
    r"|usps|colissimo|chronopost|poste|container|seal)s?(?![^\W\d_])"
)
SSN_WORDS = re.compile(
    r"ssn|social security|soc\. ?sec|\bmy social\b|\bsocial is\b|\bss(?:#| #| is\b| no\b)"
    r"|\bi?tin\b|\bsocial(?:,? (?:it's|it is|is|was|number|no\.?|#)|:|#)"
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


def named(words: re.Pattern[str], text: str, start: int, width: int = _CONTEXT_WIDTH) -> bool:
    """Whether a keyword in the ``width`` characters before ``start``, or the header of its
    table column, names the value there."""
    if words.search(context_before(text, start, width)):
        return True
    column = column_name(text, start)
    return bool(column and words.search(column))


_DELIMITERS = ",;\t|"


@dataclass(slots=True)
class Tables:
    """Where a text's table rows are and what their headers say (see :func:`table_headers`)."""

    #: The start of every line, ascending.
    line_starts: list[int]
    #: Per line: its delimiter and the header fields over it, or None.
    headers: list[tuple[str, list[str]] | None]
    #: Per table row asked about: the offsets of its delimiters (filled on first use).
    delimiters: dict[int, list[int]] = field(default_factory=dict)


_LOCAL = threading.local()


@contextlib.contextmanager
def tables_of(text: str) -> Iterator[None]:
    """Within this block, :func:`table_headers` of ``text`` is built once and reused (a CSV
    export of 1 MB asks for its columns once per value), and so is each :func:`per_text` fact. Per thread and per call, so nothing
    outlives the call (no prompt kept in a cache) and concurrent calls do not evict each other."""
    previous = getattr(_LOCAL, "entry", None)
    _LOCAL.entry = [text, None, {}]
    try:
        yield
    finally:
        _LOCAL.entry = previous


def per_text(text: str, key: str, compute: Callable[[], bool]) -> bool:
    """``compute()``, once per :func:`tables_of` block for ``text`` (every call outside one)."""
    entry = getattr(_LOCAL, "entry", None)
    if entry is None or entry[0] is not text:
        return compute()
    memo: dict[str, bool] = entry[2]
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def table_headers(text: str) -> Tables:
    """Every line's table header, in one pass over the text (once per :func:`tables_of` block).

    A line's header is the nearest line above it in the same table: as many of the line's
    delimiter, no digit, and only lines with that many delimiters between (a Markdown rule line,
    ``|---|---|``, is skipped)."""
    entry = getattr(_LOCAL, "entry", None)
    if entry is not None and entry[0] is text:
        if entry[1] is None:
            entry[1] = _build_tables(text)
        tables: Tables = entry[1]
        return tables
    return _build_tables(text)


# A header's field may hold a digit as a name does ("2FA", "IPv4", "Address 2"), not as a value.
_NAME_WITH_DIGIT = re.compile(
    r"[A-Za-z][A-Za-z0-9]{0,3}|[0-9][A-Za-z]{2,3}|[^\d]{2,30} \d|[A-Za-z][A-Za-z_]{1,30}_?\d"
)


def _header_like(line: str, delimiter: str) -> bool:
    """A line that can be a table's header: no digit but in a field (or two) named with one."""
    if not any(ch.isdigit() for ch in line):
        return True
    # One such field, and none empty: "bob,,g2" is a data row.
    fields = [f.strip(" \t\r\"'") for f in line.split(delimiter)]
    named = [f for f in fields if any(ch.isdigit() for ch in f)]
    # Or two of a kind: "address_line_1,address_line_2".
    return (
        all(fields)
        and 1 <= len(named) <= 2
        and all(_NAME_WITH_DIGIT.fullmatch(n) is not None for n in named)
    )


# A quoted field of a CSV row ('"root acct, only for billing"'): its delimiters are text.
_QUOTED_FIELD = re.compile(r'"[^"\n]*"')


def _unquoted(line: str) -> str:
    """``line`` with its quoted fields blanked (same length, so offsets still hold): the
    delimiters a row's columns are counted and found by. A row of a password manager's export
    with a comma in a quoted note counted one column more, and its table lost its header."""
    if '"' not in line or line.count('"') % 2:
        return line
    return _QUOTED_FIELD.sub(lambda m: '"' + " " * (len(m.group()) - 2) + '"', line)


def _build_tables(text: str) -> Tables:
    starts: list[int] = []
    headers: list[tuple[str, list[str]] | None] = []
    current: dict[str, tuple[int, list[str]]] = {}  # delimiter -> (count, header fields)
    pos = 0
    for line in text.split("\n"):
        starts.append(pos)
        pos += len(line) + 1
        unquoted = _unquoted(line)
        counts = {d: unquoted.count(d) for d in _DELIMITERS}
        delimiter = max(_DELIMITERS, key=counts.__getitem__)
        count = counts[delimiter]
        found = current.get(delimiter)
        headers.append((delimiter, found[1]) if count and found and found[0] == count else None)
        if not line.strip(" -:|\t\r"):
            if not line.strip():
                current.clear()  # a blank line ends every table
            continue
        for d, c in counts.items():
            if not c or (d in current and current[d][0] != c):
                current.pop(d, None)
        if count and _header_like(line, delimiter):
            fields = [f.strip(" \t\r\"'").lower() for f in line.split(delimiter)]
            current[delimiter] = (count, fields)
    return Tables(starts, headers)


def column_name(text: str, start: int) -> str:
    """The header of the table column ``start`` is in (lower case), or "".

    A value in a CSV export or a pasted table has no keyword beside it: its column's header
    names it ("nome;nif;telemovel" over "Tiago Nunes;301628068;961 220 384"). Independent
    authors' CSV rows: a NIF or a phone number with no keyword beside it scored below the
    threshold.
    """
    if not per_text(text, "lines", lambda: "\n" in text):
        return ""
    tables = table_headers(text)
    line = bisect.bisect_right(tables.line_starts, start) - 1
    header = tables.headers[line]
    if header is None:
        return ""
    delimiter, fields = header
    positions = tables.delimiters.get(line)
    if positions is None:
        line_start = tables.line_starts[line]
        line_end = text.find("\n", line_start)
        line_end = len(text) if line_end == -1 else line_end
        row = _unquoted(text[line_start:line_end])
        positions = [m.start() for m in re.finditer(re.escape(delimiter), row)]
        positions = [line_start + p for p in positions]
        tables.delimiters[line] = positions
    index = bisect.bisect_left(positions, start)
    return fields[index] if index < len(fields) else ""
