"""IP and postal addresses (see :mod:`.pii`)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from llmops_guardrails.detectors.pii_context import Span, context_before

# --- IP addresses -----------------------------------------------------------------------------

_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
# Hex groups and colons (an IPv4 tail allowed); ``ipaddress`` decides. The look-behind keeps a
# match from starting inside a word, so ``std::vector`` is not tried as ``::``.
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{1,4}|:)(?::[0-9A-Fa-f]{0,4}){2,7}"
    r"(?:(?<=:)\d{1,3}(?:\.\d{1,3}){3})?(?![\w:]|\.\d)"
)
_VERSION_WORDS = re.compile(r"version|v\.?$|release|build|chrome|firefox|python")


#: The documentation ranges (RFC 5737, RFC 3849): no machine has one, so an address in them is
#: an example or test data standing for a real one — what a user's "my IP is 203.0.113.7" or a
#: test set's synthetic record holds. Reported like a global address (independent authors'
#: PII rows: 29 of 29 IP addresses were in these ranges, all missed at 0.3).
_DOCUMENTATION = (
    ipaddress.ip_network("192.0.2.0/24"),
    ipaddress.ip_network("198.51.100.0/24"),
    ipaddress.ip_network("203.0.113.0/24"),
    ipaddress.ip_network("2001:db8::/32"),
)


def _ip_score(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> float:
    if address.is_global or any(address in net for net in _DOCUMENTATION):
        return 0.9
    return 0.3


def ipv4s(text: str, pos: int, endpos: int) -> Iterator[Span]:
    for m in _IPV4.finditer(text, pos, endpos):
        try:
            v4 = ipaddress.IPv4Address(m.group())
        except ValueError:
            continue
        if _VERSION_WORDS.search(context_before(text, m.start(), 16)):
            continue
        yield Span("ip_address", m.start(), m.end(), _ip_score(v4))


def ipv6s(text: str) -> Iterator[Span]:
    if "::" in text or text.count(":") >= 7:
        for m in _IPV6.finditer(text):
            cand = m.group()
            if sum(c in "0123456789abcdefABCDEF" for c in cand) < 3:
                continue  # "::" or "::1"-like fragments of code and times
            try:
                v6 = ipaddress.IPv6Address(cand)
            except ValueError:
                continue
            yield Span("ip_address", m.start(), m.end(), _ip_score(v6))


# --- postal addresses -------------------------------------------------------------------------

_CAP = r"[A-ZÀ-ÖØ-Þ][\w'\u2019-]{0,30}"
_US_ADDRESS = re.compile(
    r"(?<![\w])\d{1,6}[A-Za-z]?(?: (?:[NSEW]\.?|North|South|East|West))?"
    r"(?: (?:" + _CAP + r"|\d{1,3}(?:st|nd|rd|th))){1,4}"
    r" (?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl"
    r"|Terrace|Ter|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Square|Sq|Trail|Trl|Grove|Crescent"
    r"|Gardens|Mews)\b\.?"
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
    r"|allee|gasse|ring|damm|ufer)|Straße|Strasse|Str\.|Weg|Platz|Allee|Gasse|Chaussee)"
    r" \d{1,4} ?[a-z]?(?![\w])(?:, \d{5} " + _CAP + r")?"
)
_IBERIAN_STREET = (
    r"(?:Calle|C/|Avenida|Avda\.|Av\.|Plaza|Paseo|Camino|Ronda|Travesía|Rua|Praça|Travessa"
    r"|Largo|Estrada|Alameda|Carrer|Passeig|Avinguda"
    # Belgium, Switzerland and Luxembourg write French streets name first too: "Rue de la Loi 16"
    r"|Rue|Avenue|Boulevard|Chaussée|Chemin|Quai)"
)
_ES_PT_ADDRESS = re.compile(
    r"(?<![\w])"
    + _IBERIAN_STREET
    # Each name word needs its separator (a space, or the elision "d'"/"l'"): with the space
    # optional a run of capitals could be cut into words in cubically many ways (review: 17 s
    # per 100 KB of "Calle AAAA... 1a").
    + r"(?:(?: (?:de|del|la|las|los|el|da|do|das|dos|du|des|le|les)){0,2}(?: [dl]'| )"
    + _CAP
    + r"){1,4},? (?:n\.?º ?)?\d{1,4}[A-Za-z]?(?![\w])"
    r"(?:,? (?:\d{5}|\d{4}-\d{3}) " + _CAP + r"(?: " + _CAP + r")?)?"
)


# The street-type words that come before a house number in German, Spanish and Portuguese
# addresses; the 64 characters before a number are searched for one before the patterns run.
_STREET_BEFORE_NUMBER = re.compile(
    r"stra(?:ß|ss)e|str\.|weg|platz|allee|gasse|ring|damm|ufer|Straße|Strasse|Weg|Platz|Allee"
    r"|Gasse|Str\.|Chaussee|Calle|C/|Avda|Av\.|Avenida|Plaza|Paseo|Camino|Ronda|Travesía|Rua"
    r"|Praça|Travessa|Largo|Estrada|Alameda|Carrer|Passeig|Avinguda|Rue|Avenue|Boulevard"
    r"|Chaussée|Chemin|Quai"
)

# What may follow a street and its number, whatever the country: a flat or floor ("/3/12",
# ", 4º izq.", ", 3.º Dto."), then a postal code and a city ("1060 Wien", "L-1611 Luxembourg",
# "1250-147 Lisboa", "79100 Freiburg im Breisgau") or a British town and postcode ("Leeds LS6
# 2AB"). Independent authors' addresses: 4-digit codes (Austria, Switzerland, Belgium,
# Luxembourg), two-word cities and floors were where the country patterns stopped short.
_CITY = _CAP + r"(?:(?: (?:am|im|an der|sur|sous|de|del|da|do|la|le|les|en))? " + _CAP + r"){0,2}"
_FLOOR = r"(?:(?:/\d{1,3}){1,3}|, ?\d{1,2}\.?[ºª°] ?(?:[A-Za-z]{1,5}\.?)?)"
_TAIL = re.compile(
    _FLOOR + r"?(?:, (?:[A-Z]-)?(?:\d{4}-\d{3}|\d{4,5}) " + _CITY + r""
    r"|, " + _CAP + r" [A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}(?![\w]))"
    r"|" + _FLOOR + r"(?![\w])"
)


#: The rest of a city's name after a country pattern's own postal code ("Frankfurt am Main").
_CITY_REST = re.compile(r" (?:am|im|an der|sur|sous|de|del|da|do|en) " + _CAP)


def _tailed(text: str, m: re.Match[str]) -> Span:
    """The address ``m`` found, with the flat, postal code and city that follow it."""
    tail = _TAIL.match(text, m.end())
    if tail:
        # A postal code in the tail makes it an address beyond doubt; a floor alone does not.
        coded = re.search(r"\d{4}", tail.group()) is not None
        return Span("street_address", m.start(), tail.end(), 0.9 if coded else _address_score(m))
    score = _address_score(m)
    rest = _CITY_REST.match(text, m.end()) if score == 0.9 else None
    return Span("street_address", m.start(), rest.end() if rest else m.end(), score)


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


def addresses(text: str, start: int, end: int) -> Iterator[Span]:
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
            yield _tailed(text, m)
    if after.lstrip(", ")[:1] in _FR_AFTER_NUMBER:
        m = _FR_ADDRESS.match(text, start)
        if m:
            yield _tailed(text, m)
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
                    yield _tailed(text, m)
