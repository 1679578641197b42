"""Personal data: emails, phone numbers, payment cards, IBANs, national identifiers, IP and postal
addresses.

Every kind is found the same way: a compact regular expression proposes candidates, and a
validator confirms them — a checksum where the format has one (Luhn for cards, mod-97 for IBANs
and the French NIR, ISO 7064 for the German IdNr, the check letter of a Spanish DNI/NIE or an
Italian codice fiscale, mod-11 for the Portuguese NIF), ``phonenumbers`` for phone numbers and
``ipaddress`` for IPs. A look-alike that fails its checksum is not reported at all: a policy that
lowers its threshold should get more true values, not noise that was known to be wrong.

Scores say how much the evidence proves, and sit on either side of :data:`DEFAULT_THRESHOLD`:

- 0.99: a checksum with a 1-in-97 (or better) chance of passing by accident, or a valid number
  next to a keyword naming it (``SSN``, ``NIF``, ``Tel.``);
- 0.85-0.95: a strong format with a weak or no checksum (an SSN written ``123-45-6789``, a UK
  NINO, a phone number in international format or a grouped national one);
- below 0.5: valid but ambiguous on its own (a bare digit run that is a valid national phone
  number with no keyword near it, a PT NIF with no keyword, a private IP address). A policy can
  lower its threshold to hide those too.

Patterns are written for linear time on hostile input (the content may be 1 MB): every
repetition is bounded or unambiguous, and every pattern starts with a look-behind that lets a
match start only at a token boundary, so a long run of letters or digits is tried once, not at
every position. Cheap substring tests skip whole families when their anchor character is absent
(no ``@``, no email scan; no digit, no number scan).

Decisions:

- **Private IP addresses** (RFC 1918, loopback, link-local, CGNAT and other non-global
  ranges) are reported with a low score (0.3): they identify a machine inside one network, not
  a person on the internet, and they appear constantly in logs and configs that users paste
  for debugging. Global addresses are personal data under the GDPR (CJEU, Breyer, C-582/14)
  and are reported at 0.9, and so are the documentation ranges (``192.0.2.0/24``,
  ``198.51.100.0/24``, ``203.0.113.0/24``, ``2001:db8::/32``): no machine has one, so such an
  address stands for a real one (examples, test data).
- **Postal addresses** are found where a street-type keyword and a house number make the
  pattern reliable: US ``123 Main Street[, Springfield, IL 62704]``, French ``12 rue de la Paix
  [, 75002 Paris]``, German ``Hauptstraße 5[, 10115 Berlin]``, Spanish ``Calle Mayor 5[, 28013
  Madrid]``, Portuguese ``Rua Augusta 100[, 1100-053 Lisboa]`` and Italian ``Via Roma 10[,
  00184 Roma]``, with the flats, units and Brazilian neighbourhood, state and CEP that follow.
  Without a street-type word an address needs what follows it to hold it: a postal code and a
  city (``Am Sportpark 2, 55122 Mainz``), a British postcode (``88 Kingsway, Manchester M19
  2LL``) or a US city, state and ZIP (``1600 Broadway, New York, NY 10019``); or a label that
  names the field (``Address:``, ``Anschrift:``, a JSON ``"indirizzo"``). A bare ``Am
  Sportpark 2`` in prose is not found: no pattern tells it from ordinary words and a number.
- **National identifiers** are those a pattern finds and a checksum (or strict format rule)
  confirms: US SSN (format rules of ``stdnum.us.ssn``; it has no checksum, so the dashed form is
  required unless a keyword names it), UK NINO (prefix rules only; no checksum exists), FR NIR,
  DE IdNr (Steuer-ID), ES DNI and NIE, PT NIF (a 9-digit mod-11 number collides with phone
  numbers, so it needs a keyword), IT codice fiscale. German Steuernummer (no checksum, regional
  formats) and UK NHS numbers are left out.

Context (``pii_context``): a keyword just before a value, or the header of the table column it
is in, names it (``nif``, ``telefone``); words for references, parts, parcels and amounts say a
number is none of ours (``case``, ``Aktenzeichen``, ``partita IVA``, a carrier's name, a
currency after it); a bare number that needed a keyword counts in a delimited record row that
holds another confirmed value; a form's example value (Stripe's test cards, ``12345678Z``,
``nombre.apellido@...``, ``Rua Exemplo``, a ``00000`` postal code) is reported at 0.3 when the
words before it say it is an example.

Known gaps: a French NIR born in Corsica (department ``2A``/``2B``) written with spaces is split
into two digit clusters too short to be tried; a four-part version string that is also a valid
public IPv4 address (``6.0.1.23``) is reported unless a word for a version is near it; a bare
9-digit NIF and a bare 10-digit phone number without a keyword, a column header or a record
around them score below the default threshold; addresses written all in lower case are found
only after a label or an address word, or where a field starts.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate

from llmops_guardrails.detectors.base import Hit
from llmops_guardrails.detectors.pii_address_labels import (
    held_by_postcode,
    labelled_addresses,
    postal_city_fields,
    table_addresses,
    unnumbered_street,
)
from llmops_guardrails.detectors.pii_address_tails import extend, po_box
from llmops_guardrails.detectors.pii_addresses import addresses
from llmops_guardrails.detectors.pii_context import (
    Span,
    tables_of,
)
from llmops_guardrails.detectors.pii_ids import (
    cards,
    cfs,
    dnis,
    ibans,
    idnrs,
    nifs,
    ninos,
    nirs,
    ssns,
)
from llmops_guardrails.detectors.pii_ips import ipv4s, ipv6s
from llmops_guardrails.detectors.pii_layout import boxed, in_capitals, squeezed
from llmops_guardrails.detectors.pii_phones import (
    phones,
    possible_international,
    valid_international,
    valid_national,
    whatsapp_links,
)

__all__ = [
    "DEFAULT_NAMED_REGIONS",
    "DEFAULT_REGIONS",
    "DEFAULT_THRESHOLD",
    "KINDS",
    "NAME",
    "VERSION",
    "PiiDetector",
    "possible_international",
    "valid_international",
    "valid_national",
]

NAME = "pii"
VERSION = "pii-10"
#: Scores at or above this are meant to be acted on by a default policy.
DEFAULT_THRESHOLD = 0.5
#: Regions whose national phone formats are recognised without a ``+`` prefix.
DEFAULT_REGIONS: tuple[str, ...] = ("US", "GB", "FR", "DE", "ES", "PT", "IT", "CA")
#: Regions whose national formats are recognised only where a word names the number a phone's.
DEFAULT_NAMED_REGIONS: tuple[str, ...] = (
    "IE", "BE", "CH", "AT", "NL", "LU", "MX", "AR", "CO", "CL", "PL", "AU", "BR",
)  # fmt: skip
#: Every kind this detector reports.
KINDS: tuple[str, ...] = (
    "email",
    "phone",
    "card_number",
    "iban",
    "us_ssn",
    "gb_nino",
    "fr_nir",
    "de_idnr",
    "es_dni",
    "es_nie",
    "pt_nif",
    "it_codice_fiscale",
    "ip_address",
    "street_address",
)


# --- emails -----------------------------------------------------------------------------------

# Found from each ``@`` outwards rather than by scanning the whole text with a pattern that
# starts with a look-behind (which the regex engine cannot skip ahead for): the local part is
# matched backwards on the reversed 64 characters before the ``@`` (RFC 5321's limit), the
# domain forwards. Domain labels cannot contain dots, so ``(?:label\.)+`` is unambiguous.
_LOCAL_REVERSED = re.compile(r"[\w%+'-](?:[\w.%+'-]{0,62}[\w%+'-])?(?![\w.%+'-])")
_DOMAIN = re.compile(r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,24}(?![\w-])")


_ESCAPE = re.compile(r"[0-9A-Fa-f]{2}%")  # "%2C", read backwards


def _emails(text: str) -> Iterator[Span]:
    at = text.find("@")
    while at != -1:
        domain = _DOMAIN.match(text, at + 1)
        if domain:
            window = text[max(0, at - 64) : at][::-1]
            local = _LOCAL_REVERSED.match(window)
            start = at - local.end() if local else at
            quoted = text[start] == "'" and text[domain.end() : domain.end() + 1] == "'"
            if local and quoted:
                start += 1  # quoted in code ("login('jane@example.com', ...)"): not O'Brien's
            scp = local and local.end() <= 8 and _SCP_PATH.match(text, domain.end())
            if local and start < at and not scp and not _in_url(text, start):
                placeholder = _PLACEHOLDER_LOCAL.fullmatch(text, start, at)
                yield Span("email", start, domain.end(), 0.3 if placeholder else 0.95)
        at = text.find("@", at + 1)
    # In a URL or a form's body the "@" is written "%40": "username=delgado.olivia%40example.com".
    at = text.find("%40")
    while at != -1:
        domain = _DOMAIN.match(text, at + 3)
        local = _LOCAL_REVERSED.match(text[max(0, at - 64) : at][::-1]) if domain else None
        if domain and local:
            start = at - local.end()
            # The address starts after the text's last escape ("...%20to%20x%40robo.es" is the
            # words "to x@robo.es"): a "%" and two hex digits are no local part's.
            escape = _ESCAPE.search(text[start:at][::-1])
            if escape is not None:
                start = at - escape.start()
            if start < at:
                yield Span("email", start, domain.end(), 0.9)
        at = text.find("%40", at + 3)


# An address written to escape harvesters: "john [at] example [dot] com", "marie(at)orange.fr",
# "j.smith at gmail dot com", "anna.k @ gmx.de", a full-width at sign (U+FF20). Found from each written
# "at" outwards, as above; the domain ends with a country's or a generic top-level domain, and a
# plain " at " needs a written "dot" too (without one it is the preposition).
# Matched from each of its literal starts (``_WRITTEN_MARKS``), a blank before it or not: a
# pattern with an optional blank first ran at every offset (~40 us per KB of a ticket).
_WRITTEN_AT = re.compile(
    r"(?:[\[({<][ \t]?(?i:at|@|arroba|chez|ät)[ \t]?[\])}>]|\uff20)[ \t]?| @ | (?:at|AT|arroba) "
)
_WRITTEN_DOT = r"(?:[ \t]?(?:[\[({<][ \t]?(?i:dot|punto|ponto|point|punkt|\.)[ \t]?[\])}>])[ \t]?| (?:dot|DOT) |\.)"
_WRITTEN_DOMAIN = re.compile(
    r"[^\W_][\w-]{0,62}(?:"
    + _WRITTEN_DOT
    + r"[^\W_][\w-]{0,62}){0,3}?"
    + _WRITTEN_DOT
    + r"(?:com|net|org|edu|gov|info|biz|io|eu|de|fr|es|pt|it|nl|be|ch|at|uk|ie|lu|br|mx|ar|cl"
    r"|co|us|ca|au|nz|pl|se|dk|no|fi|jp|ru|in|cn|kr|za|tr|gr|cz|sk|hu|ro|bg|hr|si|ua|il|ae|sg|hk"
    r"|tw|pe|ve|uy|ec|cr|pa|do|pr)(?:"
    + _WRITTEN_DOT
    + r"(?:uk|br|mx|ar|au|nz|jp|za|in|kr))?(?![\w-])",
    re.IGNORECASE,
)
_WRITTEN_LOCAL_REVERSED = re.compile(r"[\w+-](?:[\w.+-]{0,62}[\w+-])?(?![\w.+-])")
_WRITTEN_MARKS = ("[", "(", "{", "<", "\uff20", " @ ", " at ", " AT ", " arroba")
# A plain "at" is an address's only before a written dot, which is a bracket's or " dot ": in a
# text with neither it is the preposition, not looked at (most English prose has an " at ").
_PLAIN_MARKS = (" at ", " AT ", " arroba")
_DOT_MARKS = ("[", "(", "{", "<", " dot ", " DOT ")


def _written_marks(text: str) -> list[str]:
    """The marks of ``_WRITTEN_MARKS`` in ``text`` that may start a written address."""
    marks = [mark for mark in _WRITTEN_MARKS if mark in text]
    if marks and not any(mark in text for mark in _DOT_MARKS):
        marks = [mark for mark in marks if mark not in _PLAIN_MARKS]
    return marks


def _written_ats(text: str, marks: list[str]) -> Iterator[tuple[int, re.Match[str]]]:
    """(where the written "at" starts, a blank before a bracket included; its match), in order,
    from each of ``marks`` (:func:`_written_marks`)."""
    starts = sorted({at for mark in marks for at in _finds(text, mark)})
    done = 0
    for at in starts:
        if at < done:
            continue
        m = _WRITTEN_AT.match(text, at)
        if m is not None:
            done = m.end()
            blank = at > 0 and text[at - 1] in " \t" and text[at] not in " "
            yield at - blank, m


def _finds(text: str, mark: str) -> Iterator[int]:
    at = text.find(mark)
    while at != -1:
        yield at
        at = text.find(mark, at + 1)


def _written_emails(text: str, marks: list[str]) -> Iterator[Span]:
    for at, m in _written_ats(text, marks):
        plain = m.group().strip().lower() in ("at", "arroba")
        domain = _WRITTEN_DOMAIN.match(text, m.end())
        if domain is None or (plain and "." in domain.group() and " " not in domain.group()):
            continue  # "at gmail.com" after a word: "log in at gmail.com" (a site, not a mailbox)
        local = _WRITTEN_LOCAL_REVERSED.match(text[max(0, at - 64) : at][::-1])
        if local is None:
            continue
        start = at - local.end()
        if plain and not any(c in text[start:at] for c in "._-+0123456789"):
            continue  # one plain word before "at": "meet me at home dot com" is no address
        yield Span("email", start, domain.end(), 0.85)


def _in_url(text: str, start: int) -> bool:
    """Whether ``start`` is in a URL's user information ("postgres://app:s3cr3t@db"): the
    secrets detector reports the password there."""
    scheme = text.rfind("://", max(0, start - 80), start)
    if scheme == -1:
        return False
    user_info = text[scheme + 3 : start]
    return ":" in user_info and not any(c in " \t\n/?&=" for c in user_info)


# "git@github.com:acme/sdk.git": a host and a path for scp or git over SSH, not a mailbox.
_SCP_PATH = re.compile(r":[\w~.-]*(?:/|\.git\b)")
# A format written out, not an address: "nombre.apellido@tuempresa.com", "first.last@...".
_NAME_WORD = (
    r"(?:first|last|given|family|name|surname|firstname|lastname|user|username|your|you|me"
    r"|nombre|apellido|apellidos|usuario|prenom|prénom|nom|utilisateur|vorname|nachname|name"
    r"|benutzer|nome|cognome|apelido|sobrenome|utente|utilizador|x+|initial|initials)"
)
_PLACEHOLDER_LOCAL = re.compile(
    r"firstname|lastname|username|yourname|your[._-]?email|nombre|usuario|prenom|prénom"
    r"|utilisateur|vorname|benutzer|utilizador|utente|x{3,}|"
    + _NAME_WORD
    + r"(?:[._-]"
    + _NAME_WORD
    + r"){1,2}",
    re.IGNORECASE,
)


# --- numbers: phones, cards, identifiers --------------------------------------------------------

_DIGITS = "0123456789"
# A digit and the separators and digits that follow it. Number-shaped values are looked for only
# in small windows around these clusters: one pass of this pattern costs far less than a pass of
# every pattern below over a whole prompt, most of which is prose.
_CLUSTER = re.compile(r"[0-9][0-9 ()./\u00a0\u2013-]*")


def _clusters(text: str) -> list[tuple[int, int]]:
    """(start, end) of each digit cluster, trailing separators dropped."""
    out = []
    for m in _CLUSTER.finditer(text):
        end = m.end()
        while not text[end - 1].isdigit():
            end -= 1
        out.append((m.start(), end))
    return out


# --- the detector -----------------------------------------------------------------------------

_SEPARATORS = str.maketrans("", "", " ()./\u00a0\u2013-")


def _upper_at(text: str, i: int) -> bool:
    return 0 <= i < len(text) and "A" <= text[i] <= "Z"


#: The countries that use IBANs (ISO 13616 registry): a lower-case IBAN ("fr76 3000 ...") is
#: looked for only after one of these, not after any two letters before digits (hex, ids).
_IBAN_COUNTRY_CODES = (
    "ad ae al at az ba be bg bh br by ch cr cy cz de dk do ee eg es fi fo fr gb ge gi gl gr gt "
    "hr hu ie il iq is it jo kw kz lb lc li lt lu lv ly mc md me mk mr mt mu nl no pk pl ps pt "
    "qa ro rs sa sc se si sk sm st sv tl tn tr ua va vg xk"
)
_IBAN_COUNTRIES = frozenset(_IBAN_COUNTRY_CODES.split())


def _iban_start(text: str, start: int) -> bool:
    """Whether the two characters before a digit cluster can start an IBAN."""
    if start < 2:
        return False
    if _upper_at(text, start - 1) and _upper_at(text, start - 2):
        return True
    return text[start - 2 : start] in _IBAN_COUNTRIES


def _letter_at(text: str, i: int) -> bool:
    return 0 <= i < len(text) and text[i].isalpha()


_TWO_DIGITS = frozenset(f"{a}{b}" for a in "0123456789" for b in "0123456789")


def _boxed_seeds(text: str, clusters: list[tuple[int, int]]) -> list[int]:
    """The starts of digit clusters written one digit per box ("5 9 1 8 3 0 2"), and of the
    clusters a letter breaks ("2 6 0 4 8 1 7 3 Y", "9 4 T 2 4 B"): checked on each cluster's
    first characters, no pattern run over the text."""
    seeds = []
    for start, end in clusters:
        spaced = text[start + 1 : start + 2] == " " and text[start + 3 : start + 4] == " "
        if end - start >= 5 and spaced and text[start + 2] + text[start + 4] in _TWO_DIGITS:
            seeds.append(start)
    return seeds


def _number_spans(
    text: str,
    regions: Sequence[str],
    clusters: list[tuple[int, int]] | None = None,
    named: Sequence[str] = (),
    kinds: frozenset[str] = frozenset(KINDS),
) -> Iterator[Span]:
    """Number-shaped values, looked for around each digit cluster by the cluster's shape.

    Each family's pattern runs only on a small window around a cluster that could be part of
    one of its values (enough digits, the right letters next to it), so a prompt full of dates,
    prices and version numbers pays for a few short searches, not a dozen passes over the text.
    A cluster with more digits than a family needs may hold several values, so the test is "at
    least", never "exactly".
    """
    n = len(text)
    want_phones, want_streets = "phone" in kinds, "street_address" in kinds
    for start, end in _clusters(text) if clusters is None else clusters:
        digits = len(text[start:end].translate(_SEPARATORS))
        lo, hi = max(0, start - 1), min(n, end + 2)
        if digits >= 7 and want_phones:
            # Four characters past the cluster: what follows a number tells a CSV's next field
            # (",675 045 692") from its decimals (",50 €").
            yield from phones(text, max(0, start - 3), min(n, end + 4), regions, named)
        if digits >= 12:
            yield from cards(text, lo, hi)
        if digits >= 9:
            yield from ssns(text, lo, hi)
            yield from nifs(text, lo, hi)
        if digits >= 11:
            yield from idnrs(text, lo, hi)
        if digits >= 13:
            yield from nirs(text, lo, min(n, end + 4))
        if digits >= 5 and text[end : end + 1] in ("A", "B", "a", "b"):
            # A Corsican NIR, its department "2A" or "2B" breaking the digits in two.
            yield from nirs(text, lo, min(n, end + 16))
        if digits >= 8 and (_letter_at(text, end) or _letter_at(text, end + 1)):
            yield from dnis(text, lo, min(n, end + 3))
        if digits >= 6 and (_letter_at(text, start - 1) or _letter_at(text, start - 2)):
            yield from dnis(text, max(0, start - 3), min(n, end + 3))
            yield from ninos(text, max(0, start - 4), min(n, end + 3))
        if _iban_start(text, start):
            yield from ibans(text, start - 2, min(n, end + 34))
        if _letter_at(text, start - 1):
            yield from cfs(text, max(0, start - 6), min(n, end + 12))
        elif end - start == 2 and text[start - 1 : start] == " " and _letter_at(text, end):
            yield from cfs(text, start - 8, min(n, end + 14))  # "GLL CHR 88R63 G273J"
        if digits >= 4 and text.count(".", start, end) >= 3:
            yield from ipv4s(text, lo, hi)
        if not want_streets:
            continue
        yield from _street_spans(text, start, end, digits)


def _street_spans(text: str, start: int, end: int, digits: int) -> Iterator[Span]:
    """Post-office boxes and addresses whose house number is in the digit cluster at
    ``start:end`` (of ``digits`` digits), alone or run into a postal code or another number."""
    yield from po_box(text, start, end)
    if digits <= 6:
        yield from addresses(text, start, end)
    if 4 <= digits <= 7 and (text[start - 2 : start] == ", " or text[start - 1 : start] == "\n"):
        yield from unnumbered_street(text, start, end)
    if " " in text[start:end]:
        # A house number run into a postal code ("via garibaldi 9 20090 segrate", "Via Roma
        # 10 - 00184 Roma", "Viale Mazzini 41 \u2013 00195 Roma"), or after another number ("£425,000
        # - 11 Orchard Rise").
        first = text.index(" ", start)
        if first - start <= 4 and (digits > 6 or text[first + 1 : first + 2].isdigit()):
            yield from addresses(text, start, first)
        last = text.rindex(" ", start, end) + 1
        if text[last] == "(":
            last += 1  # a house number in brackets after another number ("lot 27 (48 rue")
        if end - last <= 4 and (
            text[last - 2 : last] in ("- ", "\u2013 ") or _letter_at(text, end + 1)
        ):
            # "pour le T3 5 rue Saint-Guilhem, 34000 Montpellier": held by its postal code
            # ("Q3 2024 \u2013 12 Main Street", "Pages 10 - 12 Main Street Journal" are none).
            for span in addresses(text, last, end):
                if span.score >= 0.9:
                    yield span


def _addresses_of(copy: str) -> list[Span]:
    """The postal addresses in a copy of a text, followed (the rest is found in the original)."""
    found: list[Span] = []
    for start, end in _clusters(copy):
        found.extend(_street_spans(copy, start, end, len(copy[start:end].translate(_SEPARATORS))))
    return extend(copy, found)


def _resolve(spans: Iterable[Span]) -> list[Span]:
    """Drop a span inside another span that scores at least as high (one value, one finding)."""
    ordered = sorted(spans, key=lambda s: (s.start, -s.end, -s.score))
    kept: list[Span] = []
    # Kept spans that may still contain a later one (end beyond its start); each pattern's matches
    # do not overlap each other, so this stays as short as the number of patterns.
    active: list[Span] = []
    for span in ordered:
        active = [k for k in active if k.end > span.start]
        if any(span.end <= k.end and k.score >= span.score for k in active):
            continue
        kept.append(span)
        active.append(span)
    return kept


#: Scores of values that need a keyword (a bare national phone number, a PT NIF).
_NEEDS_A_KEYWORD = (0.4, 0.5)


def _in_records(text: str, spans: list[Span]) -> list[Span]:
    """Raise a bare number that needed a keyword to 0.6 when it is a field of a record: a line
    of delimited fields that also holds a confirmed personal value ("Herrero<TAB>Nuria<TAB>
    11505304Z<TAB>687441290<TAB>nuria.herrero@example.es"). A pasted export without its header
    row names no column, but the row says whose data it is. Independent authors: 10 such phone
    numbers and NIFs, all missed. Linear: spans are grouped by line once, and each line's
    delimiters counted once."""
    low, high = _NEEDS_A_KEYWORD
    weak = [i for i, s in enumerate(spans) if low <= s.score < high]
    if not weak:
        return spans
    newlines = [m.start() for m in _NEWLINE.finditer(text)]

    def line_of(pos: int) -> int:
        return bisect.bisect_left(newlines, pos)

    confirmed = {line_of(s.start) for s in spans if s.score >= 0.9}
    delimited: dict[int, bool] = {}
    out = list(spans)
    for i in weak:
        line = line_of(spans[i].start)
        if line not in confirmed:
            continue
        if line not in delimited:
            begin = newlines[line - 1] + 1 if line else 0
            end = newlines[line] if line < len(newlines) else len(text)
            delimited[line] = max(text.count(d, begin, end) for d in "\t;|,") >= 2
        if delimited[line]:
            out[i] = spans[i]._replace(score=0.6)
    return out


_NEWLINE = re.compile("\n")


class PiiDetector:
    """Finds personal data; see the module docstring for kinds, scores and decisions.

    Args:
        regions: ISO 3166 regions whose national phone formats are recognised (international
            ``+``/``00`` numbers are recognised for every region).
        named_regions: regions whose national formats are recognised only for a number that a
            word names a phone's and that starts with a trunk "0" ("Phone: (01) 482 6828"):
            tried on every number, their plans would read order and account numbers as phones.
        kinds: the kinds to report (default: all of :data:`KINDS`).
    """

    name = NAME
    version = VERSION

    def __init__(
        self,
        regions: Sequence[str] = DEFAULT_REGIONS,
        kinds: Iterable[str] | None = None,
        named_regions: Sequence[str] = DEFAULT_NAMED_REGIONS,
    ) -> None:
        self.regions = tuple(r.upper() for r in regions)
        self.named_regions = tuple(
            r.upper() for r in named_regions if r.upper() not in self.regions
        )
        unknown = set(kinds or ()) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown PII kinds: {sorted(unknown)}")
        self.kinds = frozenset(kinds) if kinds is not None else frozenset(KINDS)

    def detect(self, text: str) -> list[Hit]:
        """Every PII finding in ``text``, ordered by start offset."""
        with tables_of(text):
            return self._detect(text)

    def _detect(self, text: str) -> list[Hit]:
        clusters = _clusters(text) if any(d in text for d in _DIGITS) else []
        spans = self._spans(text, clusters)
        if clusters:
            # Text laid out by a scan or a label (see :mod:`.pii_layout`).
            copy = squeezed(text)
            if copy is not None:
                spans.extend(copy.back(self._copy_spans(copy.text)))
            for box in boxed(text, _boxed_seeds(text, clusters)):
                spans.extend(box.back(self._copy_spans(box.text)))
            if "street_address" in self.kinds:
                spans.extend(in_capitals(text, _addresses_of))
        wanted = _resolve(s for s in extend(text, spans) if s.kind in self.kinds)
        return [
            Hit(NAME, s.kind, s.start, s.end, s.score, VERSION) for s in _in_records(text, wanted)
        ]

    def _copy_spans(self, copy: str) -> list[Span]:
        """The spans of a copy of the text, followed, with the copy's own tables (see
        :func:`tables_of`: without them a column's header was rebuilt per number)."""
        with tables_of(copy):
            return extend(copy, self._spans(copy))

    def _spans(self, text: str, clusters: list[tuple[int, int]] | None = None) -> list[Span]:
        """The spans of ``text``; ``clusters`` its digit clusters when the caller has them."""
        # Only the families of the kinds asked for are looked for: each finder reports its own
        # kind, and other kinds' spans are dropped before spans are resolved (``_detect``), so
        # the findings are the same; a policy that hides e-mails and cards skips addresses and
        # phones (~0.1-0.2 ms of a check's 1 KB prompt).
        kinds = self.kinds
        spans: list[Span] = []
        if "email" in kinds and ("@" in text or "%40" in text):
            spans.extend(_emails(text))
        marks = _written_marks(text) if "email" in kinds else []
        if marks:
            spans.extend(_written_emails(text, marks))
        if "phone" in kinds and "wa.me/" in text:
            spans.extend(whatsapp_links(text))
        if clusters or (clusters is None and any(d in text for d in _DIGITS)):
            if clusters is None:
                clusters = _clusters(text)
            spans.extend(_number_spans(text, self.regions, clusters, self.named_regions, kinds))
            if "ip_address" in kinds:
                spans.extend(ipv6s(text))
            if "street_address" not in kinds:
                return spans
            spans.extend(labelled_addresses(text))
            spans.extend(postal_city_fields(text))
            if "\n" in text:
                spans.extend(table_addresses(text))
            held = list(held_by_postcode(text, clusters))
            if held:
                # Only where no street pattern found the address (theirs end where they should).
                # (Sorted, with the farthest end so far: a pair of loops was quadratic in a text
                # of addresses, the review's finding.)
                streets = sorted((s.start, s.end) for s in spans if s.kind == "street_address")
                starts = [start for start, _ in streets]
                reach = list(accumulate((end for _, end in streets), max))
                for span in held:
                    before = bisect.bisect_left(starts, span.end)
                    if before == 0 or reach[before - 1] <= span.start:
                        spans.append(span)
        return spans
