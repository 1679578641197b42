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

- **Private IP addresses** (RFC 1918, loopback, link-local, documentation, CGNAT and other
  non-global ranges) are reported with a low score (0.3): they identify a machine inside one
  network, not a person on the internet, and they appear constantly in logs and configs that
  users paste for debugging. Global addresses are personal data under the GDPR (CJEU, Breyer,
  C-582/14) and are reported at 0.9.
- **Postal addresses** are found only where a street-type keyword and a house number make the
  pattern reliable: US ``123 Main Street[, Springfield, IL 62704]``, French ``12 rue de la Paix
  [, 75002 Paris]``, German ``Hauptstraße 5[, 10115 Berlin]``, Spanish ``Calle Mayor 5[, 28013
  Madrid]`` and Portuguese ``Rua Augusta 100[, 1100-053 Lisboa]``. Addresses without such a
  keyword (``Flat 3, 10 Downing``, PO boxes, free-form rural addresses) are not found: no pattern
  tells them from ordinary prose.
- **National identifiers** are those a pattern finds and a checksum (or strict format rule)
  confirms: US SSN (format rules of ``stdnum.us.ssn``; it has no checksum, so the dashed form is
  required unless a keyword names it), UK NINO (prefix rules only; no checksum exists), FR NIR,
  DE IdNr (Steuer-ID), ES DNI and NIE, PT NIF (a 9-digit mod-11 number collides with phone
  numbers, so it needs a keyword), IT codice fiscale. German Steuernummer (no checksum, regional
  formats) and UK NHS numbers are left out.

Known gaps: a French NIR born in Corsica (department ``2A``/``2B``) written with spaces is split
into two digit clusters too short to be tried; IBANs in lower case are not looked for; a
four-part version string that is also a valid public IPv4 address (``6.0.1.23``) is reported
unless a word like ``version`` precedes it; a bare 9-digit NIF and a bare 10-digit phone number
without a keyword score below the default threshold.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.de import idnr as de_idnr
from stdnum.es import dni as es_dni
from stdnum.es import nie as es_nie
from stdnum.fr import nir as fr_nir
from stdnum.it import codicefiscale as it_cf
from stdnum.pt import nif as pt_nif
from stdnum.us import ssn as us_ssn

from llmops_guardrails.detectors.base import Hit

NAME = "pii"
VERSION = "pii-1"
#: Scores at or above this are meant to be acted on by a default policy.
DEFAULT_THRESHOLD = 0.5
#: Regions whose national phone formats are recognised without a ``+`` prefix.
DEFAULT_REGIONS: tuple[str, ...] = ("US", "GB", "FR", "DE", "ES", "PT", "IT")

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


class _Span(NamedTuple):
    kind: str
    start: int
    end: int
    score: float


# --- context keywords -------------------------------------------------------------------------

# Words that, just before a number, say what it is. Matched in the lower-cased short window
# before the candidate (a keyword further away is as likely to name something else); lower-casing
# the window costs less than IGNORECASE, which is slow on non-ASCII alternatives.
_PHONE_WORDS = re.compile(
    r"phone|tel\b|tel\.|tél|call|mobile|cell|whats ?app|fax|text me|reach me|contact|ring"
    r"|portable|numéro|appel|joindre|telefon|handy|rufnummer|anruf|erreichbar"
    r"|teléfono|telefono|móvil|movil|llam|telefone|telemóvel|telemovel|celular|ligue|ligar",
)
# Words that say a number is not a phone number: references, orders, parcels, money.
_NOT_PHONE_WORDS = re.compile(
    r"order|invoice|ref\b|ref\.|reference|tracking|parcel|shipment|ticket|case|account|acct"
    r"|serial|sku|isbn|id\b|#|no\.|nr\.|n°|nº|version|build|commande|facture|colis|dossier"
    r"|bestell|rechnung|sendung|kunden|auftrag|pedido|factura|envío|envio|encomenda|fatura"
    r"|€|\$|£|eur\b|usd\b",
)
_SSN_WORDS = re.compile(r"ssn|social security|soc\. ?sec")
_NINO_WORDS = re.compile(r"\bni\b|nino|national insurance")
_IDNR_WORDS = re.compile(r"steuer|idnr|identifikationsnummer|tax id|tin\b|steuerliche")
_NIF_WORDS = re.compile(r"\bnif\b|nipc|contribuinte|fiscal|tax")

_CONTEXT_WIDTH = 32


def _before(text: str, start: int, width: int = _CONTEXT_WIDTH) -> str:
    return text[max(0, start - width) : start].lower()


# --- emails -----------------------------------------------------------------------------------

# Found from each ``@`` outwards rather than by scanning the whole text with a pattern that
# starts with a look-behind (which the regex engine cannot skip ahead for): the local part is
# matched backwards on the reversed 64 characters before the ``@`` (RFC 5321's limit), the
# domain forwards. Domain labels cannot contain dots, so ``(?:label\.)+`` is unambiguous.
_LOCAL_REVERSED = re.compile(r"[\w%+'-](?:[\w.%+'-]{0,62}[\w%+'-])?(?![\w.%+'-])")
_DOMAIN = re.compile(r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,24}(?![\w-])")


def _emails(text: str) -> Iterator[_Span]:
    at = text.find("@")
    while at != -1:
        domain = _DOMAIN.match(text, at + 1)
        if domain:
            window = text[max(0, at - 64) : at][::-1]
            local = _LOCAL_REVERSED.match(window)
            if local:
                yield _Span("email", at - local.end(), domain.end(), 0.95)
        at = text.find("@", at + 1)


# --- numbers: phones, cards, identifiers --------------------------------------------------------

_DIGITS = "0123456789"
# A digit and the separators and digits that follow it. Number-shaped values are looked for only
# in small windows around these clusters: one pass of this pattern costs far less than a pass of
# every pattern below over a whole prompt, most of which is prose.
_CLUSTER = re.compile(r"[0-9][0-9 ()./\u00a0-]*")


def _clusters(text: str) -> list[tuple[int, int]]:
    """(start, end) of each digit cluster, trailing separators dropped."""
    out = []
    for m in _CLUSTER.finditer(text):
        end = m.end()
        while not text[end - 1].isdigit():
            end -= 1
        out.append((m.start(), end))
    return out


# A phone candidate: optional ``+``/``00``, then digits with the separators people type. Bounded
# length (the longest E.164 number is 15 digits) keeps every start position O(1).
_PHONE = re.compile(
    r"(?<![\w+.,/-])(?:\+ ?|\b00 ?)?(?:\(\d{1,5}\) ?|\d)[\d ()./\u00a0-]{5,22}\d(?![\w]|[.,/-]\d)"
)
_DATE = re.compile(
    r"\d{1,4}[./ -]\d{1,2}[./ -]\d{1,4}|\d{4}[./-]?\d{2}[./-]?\d{2}|\d{1,2}[./-]\d{4}"
)
_DOTTED_QUAD = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")

# Leading national digits each region's numbers can start with, written as they are dialled
# in-country: trunk ``0`` in GB/FR/DE, no trunk prefix in ES/PT, IT keeps the leading ``0`` of
# landlines and ``3`` of mobiles, NANP area codes start 2-9 (after an optional ``1``). A cheap
# filter before the ~45 µs ``phonenumbers`` parse; regions not listed are always tried.
_NATIONAL_LEADS: dict[str, tuple[str, ...]] = {
    "US": ("1", "2", "3", "4", "5", "6", "7", "8", "9"),
    "CA": ("1", "2", "3", "4", "5", "6", "7", "8", "9"),
    "GB": ("0",),
    "FR": ("0",),
    "DE": ("0",),
    "ES": ("6", "7", "8", "9"),
    "PT": ("2", "9"),
    "IT": ("0", "3"),
}


#: The number types whose patterns make a number valid (libphonenumber's ``number_type``).
_PHONE_TYPES = (
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "personal_number",
    "voip",
    "pager",
    "uan",
    "voicemail",
)


class _PhoneRules(NamedTuple):
    national_prefix: str
    lengths: frozenset[int]
    general: re.Pattern[str]
    types: tuple[tuple[frozenset[int], re.Pattern[str]], ...]


@functools.cache
def _phone_rules(region: str) -> _PhoneRules | None:
    """``phonenumbers``' metadata for ``region``, compiled once (loaded on first use, not import)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None:
        return None
    general = metadata.general_desc
    types = []
    for name in _PHONE_TYPES:
        desc = getattr(metadata, name, None)
        if desc is None or not desc.national_number_pattern:
            continue
        lengths = frozenset(desc.possible_length or general.possible_length or ())
        if lengths and lengths != frozenset({-1}):
            types.append((lengths, re.compile(desc.national_number_pattern)))
    return _PhoneRules(
        metadata.national_prefix or "",
        frozenset(general.possible_length or ()),
        re.compile(general.national_number_pattern or "$^"),
        tuple(types),
    )


def _valid_nsn(nsn: str, region: str) -> bool:
    """Whether ``nsn`` (a national significant number) is valid in ``region``.

    The same test as ``phonenumbers.is_valid_number_for_region`` (a possible length, the
    region's general pattern, then some number type's pattern), on ``phonenumbers``' own
    metadata, without building a ``PhoneNumber``: parsing costs ~30 µs a candidate, this ~2.
    A test checks that both agree.
    """
    rules = _phone_rules(region)
    if rules is None or len(nsn) not in rules.lengths or not rules.general.fullmatch(nsn):
        return False
    return any(len(nsn) in lengths and p.fullmatch(nsn) for lengths, p in rules.types)


def valid_international(digits: str) -> bool:
    """Whether ``digits`` (country code first, no ``+``) is a valid phone number anywhere."""
    for size in (1, 2, 3):  # country calling codes are prefix-free
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(digits[:size] or "0"))
        if regions:
            # As phonenumbers does, a trunk prefix written after the country code is dropped.
            return any(valid_national(digits[size:], r) for r in regions)
    return False


def valid_national(digits: str, region: str) -> bool:
    """Whether ``digits``, as dialled within ``region`` (trunk prefix included), is valid there."""
    rules = _phone_rules(region)
    if rules is None:
        return False
    prefix = rules.national_prefix
    if prefix and digits.startswith(prefix) and _valid_nsn(digits[len(prefix) :], region):
        return True
    # Regions without a trunk prefix (ES, PT, IT) and NANP numbers written without the "1".
    return _valid_nsn(digits, region)


def _phone_kind_score(text: str, m: re.Match[str], regions: Sequence[str]) -> float | None:
    """The score of a phone candidate, or None when it is not a valid phone number."""
    cand = m.group()
    digits = re.sub(r"\D", "", cand)
    if not 7 <= len(digits) <= 15:
        return None
    international = cand.startswith("+") or cand.startswith("00")
    if not international:
        if _DATE.fullmatch(cand) or _DOTTED_QUAD.fullmatch(cand):
            return None
        if "(" not in cand and ")" in cand:
            return None
    before = _before(text, m.start())
    # The context is checked before the ~30 µs parse: order and invoice numbers are common.
    if not international and _NOT_PHONE_WORDS.search(before[-20:]):
        return None
    if international:
        # "+44 (0)20 ..." repeats the trunk prefix in brackets: not part of the number.
        intl = re.sub(r"\D", "", cand.replace("(0)", ""))
        return 0.95 if valid_international(intl[2:] if cand.startswith("00") else intl) else None
    for region in regions:
        leads = _NATIONAL_LEADS.get(region)
        if leads is not None and not digits.startswith(leads):
            continue
        if valid_national(digits, region):
            break
    else:
        return None
    if _PHONE_WORDS.search(before):
        return 0.95
    grouped = any(c in cand for c in " ()-./\u00a0")
    if grouped:
        return 0.85
    # A bare digit run: a leading trunk zero on a full-length (9+ digit) number is typical of
    # phone numbers and rare in order or account numbers; anything else needs a keyword.
    return 0.7 if digits.startswith("0") and len(digits) >= 9 else 0.45


def _phones(text: str, pos: int, endpos: int, regions: Sequence[str]) -> Iterator[_Span]:
    for m in _PHONE.finditer(text, pos, endpos):
        score = _phone_kind_score(text, m, regions)
        if score is not None:
            yield _Span("phone", m.start(), m.end(), score)


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


def _cards(text: str, pos: int, endpos: int) -> Iterator[_Span]:
    for m in _CARD.finditer(text, pos, endpos):
        cand = m.group()
        if " " in cand and "-" in cand:
            continue
        groups = cand.replace("-", " ").split(" ")
        if len(groups) > 1 and min(len(g) for g in groups[:-1]) < 3:
            continue  # "12 34 56 ..." is a phone or a list of numbers, not a card
        digits = "".join(groups)
        if _known_iin(digits) and luhn.is_valid(digits):
            yield _Span("card_number", m.start(), m.end(), 0.99)


# Country code, check digits, then the BBAN; grouped by single spaces or not at all. Uppercase
# only: a lowercase IBAN in prose is rare, and the mod-97 check below would still hold.
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])")


_LETTER_VALUES = {ord(c): str(ord(c) - 55) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def _mod97(compact: str) -> bool:
    """ISO 7064 mod 97-10 alone: a fast first test before stdnum's full (country-aware) check."""
    return int((compact[4:] + compact[:4]).translate(_LETTER_VALUES)) % 97 == 1


def _ibans(text: str, pos: int, endpos: int) -> Iterator[_Span]:
    for m in _IBAN.finditer(text, pos, endpos):
        cand = m.group()
        # The pattern may have run on into a following uppercase token ("... 00 BIC"): try the
        # longest prefix that is a valid IBAN, ending on a character of the candidate.
        positions = [i for i, c in enumerate(cand) if c != " "]
        for n in range(len(positions), 14, -1):
            compact = "".join(cand[i] for i in positions[:n])
            if _mod97(compact) and stdnum_iban.is_valid(compact):
                yield _Span("iban", m.start(), m.start() + positions[n - 1] + 1, 0.99)
                break


_SSN = re.compile(r"(?<![\w-])\d{3}([- ])\d{2}\1\d{4}(?![\w]|-\d)|(?<![\w-])\d{9}(?![\w])")


def _ssns(text: str, pos: int, endpos: int) -> Iterator[_Span]:
    for m in _SSN.finditer(text, pos, endpos):
        cand = m.group()
        if not us_ssn.is_valid(cand.replace(" ", "-")):
            continue
        keyword = bool(_SSN_WORDS.search(_before(text, m.start())))
        if keyword:
            yield _Span("us_ssn", m.start(), m.end(), 0.99)
        elif "-" in cand:
            yield _Span("us_ssn", m.start(), m.end(), 0.85)


_NINO = re.compile(
    r"(?<![A-Za-z0-9])[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])"
)
_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def _ninos(text: str, pos: int, endpos: int) -> Iterator[_Span]:
    for m in _NINO.finditer(text, pos, endpos):
        if m.group()[:2] in _NINO_BAD_PREFIXES:
            continue
        keyword = _NINO_WORDS.search(_before(text, m.start()))
        yield _Span("gb_nino", m.start(), m.end(), 0.99 if keyword else 0.9)


# Sex (1/2, 3/4/7/8 for provisional numbers), year, month, department (2A/2B for Corsica), commune,
# order, key; single spaces between any groups.
_NIR = re.compile(
    r"(?<![\w])[1-478] ?\d{2} ?\d{2} ?(?:\d{2}|2[ABab]) ?\d{3} ?\d{3} ?\d{2}(?![\w]|[ ]\d)"
)


def _nirs(text: str, pos: int, endpos: int) -> Iterator[_Span]:
    for m in _NIR.finditer(text, pos, endpos):
        if fr_nir.is_valid(m.group().upper()):
            yield _Span("fr_nir", m.start(), m.end(), 0.99)


_IDNR = re.compile(r"(?<![\w+-])[1-9]\d ?\d{3} ?\d{3} ?\d{3}(?![\w]|[ -]\d)")


def _idnrs(text: str, pos: int, endpos: int) -> Iterator[_Span]:
    for m in _IDNR.finditer(text, pos, endpos):
        if not de_idnr.is_valid(m.group()):
            continue
        keyword = _IDNR_WORDS.search(_before(text, m.start()))
        yield _Span("de_idnr", m.start(), m.end(), 0.99 if keyword else 0.85)


_DNI = re.compile(r"(?<![\w-])\d{8}[- ]?[A-Za-z](?![\w])")
_NIE = re.compile(r"(?<![\w-])[XYZxyz][- ]?\d{7}[- ]?[A-Za-z](?![\w])")


def _dnis(text: str, pos: int, endpos: int) -> Iterator[_Span]:
    for m in _DNI.finditer(text, pos, endpos):
        if es_dni.is_valid(m.group().upper()):
            yield _Span("es_dni", m.start(), m.end(), 0.99)
    for m in _NIE.finditer(text, pos, endpos):
        if es_nie.is_valid(m.group().upper()):
            yield _Span("es_nie", m.start(), m.end(), 0.99)


_NIF = re.compile(r"(?<![\w-])[1235689]\d{2}([ .]?)\d{3}\1\d{3}(?![\w]|[ .-]\d)")


def _nifs(text: str, pos: int, endpos: int) -> Iterator[_Span]:
    for m in _NIF.finditer(text, pos, endpos):
        if pt_nif.is_valid(m.group().replace(" ", "").replace(".", "")):
            keyword = _NIF_WORDS.search(_before(text, m.start()))
            yield _Span("pt_nif", m.start(), m.end(), 0.99 if keyword else 0.4)


# Six letters (surname, name), year, month letter, day, municipality, check letter; digits may be
# replaced by letters (omocodia) when two people would share a code.
_CF = re.compile(
    r"(?<![\w])[A-Za-z]{6}[0-9LMNPQRSTUVlmnpqrstuv]{2}[A-EHLMPR-Ta-ehlmpr-t]"
    r"[0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{3}[A-Za-z](?![\w])"
)


def _cfs(text: str, pos: int, endpos: int) -> Iterator[_Span]:
    for m in _CF.finditer(text, pos, endpos):
        if it_cf.is_valid(m.group().upper()):
            yield _Span("it_codice_fiscale", m.start(), m.end(), 0.99)


# --- IP addresses -----------------------------------------------------------------------------

_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
# Hex groups and colons (an IPv4 tail allowed); ``ipaddress`` decides. The look-behind keeps a
# match from starting inside a word, so ``std::vector`` is not tried as ``::``.
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{1,4}|:)(?::[0-9A-Fa-f]{0,4}){2,7}"
    r"(?:(?<=:)\d{1,3}(?:\.\d{1,3}){3})?(?![\w:]|\.\d)"
)
_VERSION_WORDS = re.compile(r"version|v\.?$|release|build|chrome|firefox|python")


def _ip_score(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> float:
    return 0.9 if address.is_global else 0.3


def _ipv4s(text: str, pos: int, endpos: int) -> Iterator[_Span]:
    for m in _IPV4.finditer(text, pos, endpos):
        try:
            v4 = ipaddress.IPv4Address(m.group())
        except ValueError:
            continue
        if _VERSION_WORDS.search(_before(text, m.start(), 16)):
            continue
        yield _Span("ip_address", m.start(), m.end(), _ip_score(v4))


def _ipv6s(text: str) -> Iterator[_Span]:
    if "::" in text or text.count(":") >= 7:
        for m in _IPV6.finditer(text):
            cand = m.group()
            if sum(c in "0123456789abcdefABCDEF" for c in cand) < 3:
                continue  # "::" or "::1"-like fragments of code and times
            try:
                v6 = ipaddress.IPv6Address(cand)
            except ValueError:
                continue
            yield _Span("ip_address", m.start(), m.end(), _ip_score(v6))


# --- postal addresses -------------------------------------------------------------------------

_CAP = r"[A-ZÀ-ÖØ-Þ][\w'\u2019-]{0,30}"
_US_ADDRESS = re.compile(
    r"(?<![\w])\d{1,6}[A-Za-z]?(?: (?:[NSEW]\.?|North|South|East|West))?"
    r"(?: (?:" + _CAP + r"|\d{1,3}(?:st|nd|rd|th))){1,4}"
    r" (?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl"
    r"|Terrace|Ter|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Square|Sq|Trail|Trl)\b\.?"
    r"(?: (?:N|S|E|W|NE|NW|SE|SW)\b\.?)?"
    r"(?:,? (?:Apt|Apartment|Suite|Ste|Unit|#) ?\.? ?[\w-]{1,6})?"
    r"(?:, " + _CAP + r"(?: " + _CAP + r"){0,2},? [A-Z]{2} \d{5}(?:-\d{4})?)?"
)
_FR_ADDRESS = re.compile(
    r"(?<![\w])\d{1,4}(?: ?(?:bis|ter))?,? (?:rue|avenue|av\.|boulevard|bd|place|chemin|allée"
    r"|impasse|quai|route|cours|square)"
    r"(?:(?: (?:de|du|des|la|le|les|d'|l'|d\u2019|l\u2019)){0,2} ?" + _CAP + r"){1,4}"
    r"(?:,? \d{5} " + _CAP + r"(?:[ -]" + _CAP + r")?)?",
    re.IGNORECASE,
)
_DE_ADDRESS = re.compile(
    r"(?<![\w])(?:" + _CAP + r"[ -])?(?:[A-ZÄÖÜ][\wäöüß-]{0,30}(?:straße|strasse|str\.|weg|platz"
    r"|allee|gasse|ring|damm|ufer)|Straße|Strasse|Weg|Platz|Allee|Gasse)"
    r" \d{1,4} ?[a-z]?(?![\w])(?:, \d{5} " + _CAP + r")?"
)
_IBERIAN_STREET = (
    r"(?:Calle|C/|Avenida|Avda\.|Av\.|Plaza|Paseo|Camino|Ronda|Travesía|Rua|Praça|Travessa"
    r"|Largo|Estrada|Alameda)"
)
_ES_PT_ADDRESS = re.compile(
    r"(?<![\w])"
    + _IBERIAN_STREET
    + r"(?:(?: (?:de|del|la|las|los|el|da|do|das|dos)){0,2} "
    + _CAP
    + r"){1,4},? (?:n\.?º ?)?\d{1,4}(?:, ?\d{1,2}º ?[A-Za-z]?)?"
    r"(?:,? (?:\d{5}|\d{4}-\d{3}) " + _CAP + r"(?: " + _CAP + r")?)?"
)


# The street-type words that come before a house number in German, Spanish and Portuguese
# addresses; the 64 characters before a number are searched for one before the patterns run.
_STREET_BEFORE_NUMBER = re.compile(
    r"stra(?:ß|ss)e|str\.|weg|platz|allee|gasse|ring|damm|ufer|Straße|Strasse|Weg|Platz|Allee"
    r"|Gasse|Calle|C/|Avda|Av\.|Avenida|Plaza|Paseo|Camino|Ronda|Travesía|Rua|Praça|Travessa"
    r"|Largo|Estrada|Alameda"
)


def _address_score(match: re.Match[str]) -> float:
    # A postal code at the end makes it an address beyond doubt.
    return 0.9 if re.search(r"\d{4,5}(?:-\d{3,4})? ?\S*$", match.group()) else 0.75


#: First letters of the words that may follow a French house number (``bis``, ``ter``, ``rue`` ...).
_FR_AFTER_NUMBER = frozenset("rabpciqstRABPCIQST")
#: Endings of a German street name written as one word before its number.
_DE_STREET_ENDINGS = (
    "straße",
    "strasse",
    "str.",
    "weg",
    "platz",
    "allee",
    "gasse",
    "ring",
    "damm",
    "ufer",
)


def _addresses(text: str, start: int, end: int) -> Iterator[_Span]:
    """Addresses whose house number is the digit cluster at ``start:end``.

    Most small numbers in a prompt are not house numbers ("3 workshops", "for the 12"), so each
    pattern runs only when the words next to the number could start or end a street: a cheap
    look at one or two characters or the previous word first.
    """
    after = text[end : end + 3]
    # US: "742 Evergreen", "12B Main", "350 5th Avenue"; French: "12 rue", "12 bis, rue".
    if after[:1].isalpha() or (after[:1] == " " and (after[1:2].isupper() or after[1:2].isdigit())):
        m = _US_ADDRESS.match(text, start)
        if m:
            yield _Span("street_address", m.start(), m.end(), _address_score(m))
    if after.lstrip(", ")[:1] in _FR_AFTER_NUMBER:
        m = _FR_ADDRESS.match(text, start)
        if m:
            yield _Span("street_address", m.start(), m.end(), _address_score(m))
    # German, Spanish and Portuguese put the street first: the word before the number is a
    # capitalised name ("Calle Mayor 5", "Berliner Allee 5"), a German street word
    # ("Hauptstraße 5") or "n.º".
    if start < 2 or text[start - 1] != " ":
        return
    word_start = text.rfind(" ", max(0, start - 40), start - 1) + 1
    word = text[max(word_start, start - 40) : start - 1].rstrip(",")
    if not word or not (
        word[0].isupper() or word.lower().endswith(_DE_STREET_ENDINGS) or word in ("nº", "n.º")
    ):
        return
    pos = max(0, start - 64)
    if _STREET_BEFORE_NUMBER.search(text, pos, start):
        for pattern in (_DE_ADDRESS, _ES_PT_ADDRESS):
            for m in pattern.finditer(text, pos, min(len(text), end + 48)):
                if m.start() < start < m.end():
                    yield _Span("street_address", m.start(), m.end(), _address_score(m))


# --- the detector -----------------------------------------------------------------------------

_SEPARATORS = str.maketrans("", "", " ()./\u00a0-")


def _upper_at(text: str, i: int) -> bool:
    return 0 <= i < len(text) and "A" <= text[i] <= "Z"


def _letter_at(text: str, i: int) -> bool:
    return 0 <= i < len(text) and text[i].isalpha()


def _number_spans(text: str, regions: Sequence[str]) -> Iterator[_Span]:
    """Number-shaped values, looked for around each digit cluster by the cluster's shape.

    Each family's pattern runs only on a small window around a cluster that could be part of
    one of its values (enough digits, the right letters next to it), so a prompt full of dates,
    prices and version numbers pays for a few short searches, not a dozen passes over the text.
    A cluster with more digits than a family needs may hold several values, so the test is "at
    least", never "exactly".
    """
    n = len(text)
    for start, end in _clusters(text):
        digits = len(text[start:end].translate(_SEPARATORS))
        lo, hi = max(0, start - 1), min(n, end + 2)
        if digits >= 7:
            yield from _phones(text, max(0, start - 3), hi, regions)
        if digits >= 12:
            yield from _cards(text, lo, hi)
        if digits >= 9:
            yield from _ssns(text, lo, hi)
            yield from _nifs(text, lo, hi)
        if digits >= 11:
            yield from _idnrs(text, lo, hi)
        if digits >= 13:
            yield from _nirs(text, lo, min(n, end + 4))
        if digits >= 8 and (_letter_at(text, end) or _letter_at(text, end + 1)):
            yield from _dnis(text, lo, min(n, end + 3))
        if digits >= 6 and (_letter_at(text, start - 1) or _letter_at(text, start - 2)):
            yield from _dnis(text, max(0, start - 3), min(n, end + 3))
            yield from _ninos(text, max(0, start - 4), min(n, end + 3))
        if _upper_at(text, start - 1) and _upper_at(text, start - 2):
            yield from _ibans(text, start - 2, min(n, end + 34))
        if _letter_at(text, start - 1):
            yield from _cfs(text, max(0, start - 6), min(n, end + 12))
        if digits >= 4 and text.count(".", start, end) >= 3:
            yield from _ipv4s(text, lo, hi)
        if digits <= 6:
            yield from _addresses(text, start, end)


def _resolve(spans: Iterable[_Span]) -> list[_Span]:
    """Drop a span inside another span that scores at least as high (one value, one finding)."""
    ordered = sorted(spans, key=lambda s: (s.start, -s.end, -s.score))
    kept: list[_Span] = []
    # Kept spans that may still contain a later one (end beyond its start); each pattern's matches
    # do not overlap each other, so this stays as short as the number of patterns.
    active: list[_Span] = []
    for span in ordered:
        active = [k for k in active if k.end > span.start]
        if any(span.end <= k.end and k.score >= span.score for k in active):
            continue
        kept.append(span)
        active.append(span)
    return kept


class PiiDetector:
    """Finds personal data; see the module docstring for kinds, scores and decisions.

    Args:
        regions: ISO 3166 regions whose national phone formats are recognised (international
            ``+``/``00`` numbers are recognised for every region).
        kinds: the kinds to report (default: all of :data:`KINDS`).
    """

    name = NAME
    version = VERSION

    def __init__(
        self, regions: Sequence[str] = DEFAULT_REGIONS, kinds: Iterable[str] | None = None
    ) -> None:
        self.regions = tuple(r.upper() for r in regions)
        unknown = set(kinds or ()) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown PII kinds: {sorted(unknown)}")
        self.kinds = frozenset(kinds) if kinds is not None else frozenset(KINDS)

    def detect(self, text: str) -> list[Hit]:
        """Every PII finding in ``text``, ordered by start offset."""
        spans: list[_Span] = []
        if "@" in text:
            spans.extend(_emails(text))
        if any(d in text for d in _DIGITS):
            spans.extend(_number_spans(text, self.regions))
            spans.extend(_ipv6s(text))
        wanted = (s for s in spans if s.kind in self.kinds)
        return [Hit(NAME, s.kind, s.start, s.end, s.score, VERSION) for s in _resolve(wanted)]
