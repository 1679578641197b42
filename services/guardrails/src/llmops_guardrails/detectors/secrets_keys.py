"""Keys and codes known by their shape and a word near them, not by a word right before them:
routers' Wi-Fi keys (twenty digits, capitals and digits after a network's name, digits after its
label), a card's security code after its name, and licence and recovery keys in groups. Beside the door and PIN codes of
:mod:`.secrets_codes`. Each pattern runs from its literal starts or where its digits are (see
each function): over a whole prompt, the first draft cost ~100 us per KB."""

from __future__ import annotations

import re
from collections.abc import Iterator

from llmops_guardrails.detectors.secrets_codes import DIGIT_MAP, DIGITS, filler
from llmops_guardrails.detectors.secrets_values import Span


def keys_and_card_codes(text: str, lower: str, marks: dict[str, list[int]]) -> Iterator[Span]:
    """Routers' keys and cards' security codes (a character whose lower case is longer, U+0130,
    would shift the offsets: none then). ``marks``: where each word of ``MARKS`` starts in
    ``lower`` (see :mod:`.secrets_marks`)."""
    if len(lower) != len(text):
        return
    yield from card_codes(lower, marks)
    yield from network_keys(text, lower, marks)
    if "-" in text:
        yield from grouped_keys(text, lower)


# --- a router's network key -----------------------------------------------------------------------

# A FRITZ!Box's Wi-Fi key is twenty digits, printed in five groups of four ("WLAN-Schlüssel:
# 4829 1037 5520 8164 3391"): eight dev authors in six rounds wrote one, none found (one word
# of a value in a space's place). Twenty digits are no card, account or phone number; a word for
# a key, a password or a network before them says what they are.
_TWENTY_DIGITS = re.compile(r"(?<!\d)(?<!\d )\d{4}(?: \d{4}){4}(?!\d)(?! \d)|(?<!\d)\d{20}(?!\d)")
_NETWORK_KEY_WORDS = re.compile(
    r"wlan|wi-?fi|netzwerkschl|schlüssel|schluessel|passwort|password|kennwort|\bkey\b|clé|cle wifi"
    r"|clave|chave|chiave|fritz|\bpsk\b|\bwpa|senha|contraseña|mot de passe"
)


# A router's printed key in capitals and digits on a line that names the network: "WLAN Praxis:
# D9D245E0F2BDF3A6ED43", "Le wifi (Livebox-7A3C) : 0D5AFE364458CCE8A8418997E2", "Wifi
# MOVISTAR_8F21: 9ICIQU5875SR46JJ5IBV" (ninth round: five dev authors' routers).
_HEX_KEY = re.compile(r"(?<![\w-])[0-9A-Z]{16,32}(?![\w-])")
_WIFI_DIGITS = re.compile(
    r"(?:^|\n)[ \t*\u2022-]*(?:wi-?fi|wlan)(?: [^\n:\d]{1,24})?[ \t]*:[ \t]*(?P<value>\d{8,20})[ \t]*(?=\n|$)"
)
_DATE_DIGITS = re.compile(r"(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")
_NETWORK_MARKS = (
    *("wlan", "wifi", "wi-fi", "wpa", "livebox", "freebox", "fritz", "psk", "ssid", "réseau"),
)


def network_keys(text: str, lower: str, found: dict[str, list[int]]) -> Iterator[Span]:
    """Routers' keys: capital hex after a network's name on its line, digits after a network's
    label, twenty digits near a word for a key or a network. Each pattern runs only where its
    marks are (a scan of a whole prompt for either cost ~40 us per KB of prose)."""
    marks = [mark for mark in _NETWORK_MARKS if mark in found]
    for mark in marks:
        at = lower.find(mark)
        while at != -1:
            line_end = lower.find("\n", at, at + 120)
            stop = min(len(lower), at + 120) if line_end == -1 else line_end
            for m in _HEX_KEY.finditer(text, at, stop):
                value = m.group()
                digits = sum(c.isdigit() for c in value)
                line_start = lower.rfind("\n", max(0, at - 80), at) + 1
                named = _ID_NAMES.search(lower, max(line_start, at - 80), m.start())
                # Given as the network's key: after a colon or a copula ("WLAN Praxis: D9D2...",
                # not "wlan0: ... driver IWLWIFI9260NGW1234" nor "extender model TPLINK...").
                given = _GIVEN.search(lower, max(at, m.start() - 6), m.start()) is not None
                if 3 <= digits <= len(value) - 3 and given and not named:
                    yield Span("password", m.start(), m.end(), 0.8)
            at = lower.find(mark, max(stop, at + 1))
    if any(mark in marks for mark in ("wlan", "wifi", "wi-fi")):
        # Digits alone as a network's key after its label: "Wifi: 161499275716".
        for m in _WIFI_DIGITS.finditer(lower):
            value = m.group("value")
            if not filler(value) and not _DATE_DIGITS.fullmatch(value):
                yield Span("password", m.start("value"), m.end("value"), 0.8)
    if not any(mark in lower for mark in _KEY_MARKS) or sum(map(text.count, DIGITS)) < 20:
        return  # no word for a key, or no twenty digits anywhere (ten counts in C: ~3 us per KB)
    for m in _twenty_digits(text):
        # The word before it, or the router's name right after ("... 3391. Netzwerk heißt FRITZ!Box").
        if m.group().startswith(("00", "89")) or _PARCEL_WORDS.search(
            lower, max(0, m.start() - 80), m.start()
        ):
            continue  # a parcel's SSCC ("DHL-Sendungsnummer 00340...") or a SIM's ICCID ("89...")
        if _NETWORK_KEY_WORDS.search(lower, max(0, m.start() - 200), min(len(lower), m.end() + 60)):
            yield Span("password", m.start(), m.end(), 0.8)


def _twenty_digits(text: str) -> Iterator[re.Match[str]]:
    """``_TWENTY_DIGITS``' matches, tried where twenty digits and spaces start (a pattern that
    starts with a digit is skipped to quickly; ``_TWENTY_DIGITS``, its look-behinds first, ran at
    every offset: ~80 us per KB of a chat; a translated copy of a non-ASCII text cost more)."""
    if text.isascii():
        # Its two shapes found with bytes.find in a copy whose digits are "0" and whose spaces
        # and dashes are "_" (see ``_marks``): ~3 us per KB.
        copy = text.encode("ascii").translate(DIGIT_MAP)
        for shape in (b"0000_0000_0000_0000_0000", b"0" * 20):
            at = copy.find(shape)
            while at != -1:
                m = _TWENTY_DIGITS.match(text, at)
                if m:
                    yield m
                at = copy.find(shape, m.end() if m else at + 1)
        return
    at = 0
    while (start := _TWENTY_START.search(text, at)) is not None:
        m = _TWENTY_DIGITS.match(text, start.start())
        if m:
            yield m
            at = m.end()
        else:
            at = start.start() + 1


_TWENTY_START = re.compile(r"\d{4}[ \d]{16}")
#: What ``_NETWORK_KEY_WORDS`` needs, tested first with ``in``.
_KEY_MARKS = (
    *("wlan", "wi", "schl", "pass", "kennwort", "key", "clé", "cle", "clave", "chave", "chiave"),
    *("fritz", "psk", "wpa", "senha", "contraseña"),
)


# Words for a hash or an identifier before hex: not a key.
_ID_NAMES = re.compile(
    r"hash|sha|md5|digest|checksum|commit|\bid\b|uuid|mac|bssid|serial|fingerprint"
)
_PARCEL_WORDS = re.compile(
    r"sendung|tracking|\bdhl|\bups\b|sscc|paket|colis|parcel|shipment|envío|envio|order|bestell"
    r"|rechnung|invoice|factur|referen|iccid|imei|account|receipt|number|konto|nummer|numéro"
    r"|número|numero|\bcard|karte|tarjeta"
)
# A colon, an equals sign or a copula between a network's word and its key.
_GIVEN = re.compile(r":|=|\b(?:is|est|ist|es|é|è|lautet|c'est)\b")


# --- a card's security code ---------------------------------------------------------------------

# The three or four digits on a card's back, given with its number ("exp 09/27, CVC 318",
# "Cryptogramme : 418", "Prüfnummer 731"): whoever has them can pay with the card (ninth round:
# dev authors labelled them secrets in every language).
_CARD_CODE = re.compile(
    r"(?<![\w])(?:cvv2?|cvc2?|cvv/cvc|cvc/cvv|csc|cid|card security code|security code"
    r"|cryptogramme(?: visuel)?|kartenprüfnummer|prüfnummer|prüfziffer|código de seguridad"
    r"|codigo de seguridad|código de segurança|codice di sicurezza|codice cvv|código cvv)"
    r"(?![\w])[ \t]*(?:\([^)\n]{0,20}\)[ \t]*)?(?:[:=]|is|est|ist|es|é|è)?[ \t]*(?P<value>\d{3,4})(?![\w]|[.,/-]\d)"
)
_CARD_CODE_MARKS = (
    *("cvv", "cvc", "csc", " cid", "security code", "crypto", "prüf", "segur", "sicurezza"),
)


def card_codes(lower: str, found: dict[str, list[int]]) -> Iterator[Span]:
    """A card's security code after its name; not a "CID" in a phone system's caller-ID sense
    without a card's word near it."""
    starts = sorted({at for mark in _CARD_CODE_MARKS for at in found.get(mark, ())})
    for m in _around(_CARD_CODE, lower, starts):
        if filler(m.group("value")):
            continue  # a test card's "CVV 123", "000"
        value = m.group("value")
        if len(value) == 4 and value[:2] in ("19", "20"):
            continue  # a year: "The CVV 2024 report", "cryptogramme visuel 2019"
        if not m.group().startswith(("cvv", "cvc")) and not _CARD_WORDS.search(
            lower, max(0, m.start() - 200), m.start()
        ):
            continue  # "Prüfnummer 4711" of an inspection, a CSC conference: a card's word first
        yield Span("generic_secret", m.start("value"), m.end("value"), 0.85)


def _around(pattern: re.Pattern[str], lower: str, starts: list[int]) -> Iterator[re.Match[str]]:
    """``pattern``'s matches that start at most 30 characters before one of ``starts`` (where a
    mark is; an alternation of words with no literal start, run over a whole prompt, cost ~30 us
    per KB)."""
    done = -1
    for at in starts:
        m = pattern.search(lower, max(done, at - 30), at + 120)
        if m and m.start() >= done:
            done = m.end()
            yield m


_CARD_WORDS = re.compile(r"card|carte|karte|tarjeta|cartão|carta|visa|mastercard|amex|exp")


#: The words these finders start from, for :class:`~.secrets_marks.Marks`.
MARKS = (*_NETWORK_MARKS, *_CARD_CODE_MARKS)


# --- licence and recovery keys ---------------------------------------------------------------------

# A product's licence key or an account's recovery key: four to eight groups of four or five
# capitals and digits ("NKGG6-WBPCC-HXWMY-6DQGJ-CPQVG", "ICDN-N3WQ-CX5Q-BHOU-FBFO-46NX-DK9X").
# Independent authors wrote 33 in their dev rows, most with no word for a key beside them ("sem
# ela nao recuperamos a conta): ..."), and five look-alikes: an example ("ABCDE-12345-...", "looks
# like ..."), and Microsoft's published volume licence keys (public, in a table of editions).
_GROUPED_KEY = re.compile(r"(?<![\w-])[A-Z0-9]{4,5}(?:-[A-Z0-9]{4,5}){3,7}(?![\w-])")
_KEY_EXAMPLE = re.compile(
    r"example|e\.g\.|exemple|ejemplo|beispiel|esempio|exemplo|looks like|format"
)
_RUN = re.compile(r"ABCD|1234|XXXX|0000")
_REFERENCE = re.compile(
    r"\bref\b|refer|réf|order|serial|s/n|\bsn\b|sku|\bpart|model|track|ticket|invoice|booking|\bid\b"
    r"|artikel|article|item|product|policy|claim|customer|account|kunden|dossier|aktenzeichen"
    r"|expediente|pratica|\blot\b|batch|\bcase\b|police|póliza|apólice|polizza|vertrag|contrat"
    r"|reserv|commande|pedido|bestell|ordine|factur|rechnung|fattura|série|serie|gift|voucher|cadeau|regalo|gutschein|coupon|promo"
)
_PUBLIC_KEY_EDITIONS = re.compile(
    r"windows \d+(?:/\d+)? (?:pro|enterprise|education|home)[^\n]{0,12}\|"
)


def grouped_keys(text: str, lower: str) -> Iterator[Span]:
    """Licence and recovery keys by their shape: letters in two groups at least, two digits."""
    for m in _GROUPED_KEY.finditer(text):
        value = m.group()
        groups = value.split("-")
        if sum(any(c.isalpha() for c in g) for g in groups) < 2 or sum(map(str.isdigit, value)) < 2:
            continue  # a reference of digits ("2024-0339-..."), a word in capitals
        if _RUN.search(value) or _KEY_EXAMPLE.search(lower, max(0, m.start() - 60), m.start()):
            continue  # an example, a placeholder
        if _PUBLIC_KEY_EDITIONS.search(lower, max(0, m.start() - 40), m.start()):
            continue  # a table of published volume licence keys
        if _REFERENCE.search(lower, max(0, m.start() - 40), m.start()):
            continue  # a reference, a serial or an order number in the same shape
        yield Span("generic_secret", m.start(), m.end(), 0.8)
