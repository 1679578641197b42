"""Passwords given with no keyword in front: a password-shaped word on a line that names what it
opens ("logs in as jdoe with Maple+Kettle+27") or in a paragraph about passwords, a generated
one far from its word, one under a user's line. Beside :mod:`.secrets` (keywords and
assignments), :mod:`.secrets_credentials` (URLs, pairs, command lines, tables) and
:mod:`.secrets_phrases` (passphrases)."""

from __future__ import annotations

import base64
import bisect
import re
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import ahocorasick  # type: ignore[import-not-found]  # C extension, no stubs

from llmops_guardrails.detectors.secrets_credentials import FILE_LIKE
from llmops_guardrails.detectors.secrets_tokens import CAMEL_PIECE, word_run
from llmops_guardrails.detectors.secrets_values import (
    PLACEHOLDER,
    Span,
    cased,
    classes,
    dummy,
    rule_like,
)

# A password given with no word for one, only a word for what it opens: "logs in as jchen with
# Marigold+Kettle+19", "le portable s'ouvre avec Soleil!Marseille13", "admin und Brezel+Senf+1860".
# Independent authors' rows: a third of the passwords still missed were told so. The shape
# carries it (see ``_password_shaped``) with the context word on the same line, shortly before
# or after. A word whose only symbols are an identifier's ("Bluebell_2023", "Bleu-Ocean-4471")
# is a product or a file name as often ("FritzBox-7590", "Plan_ventas_2024"): only right after
# the word for a password.
_OPENS = re.compile(
    r"pass|\bpwd?\b|\bmdp\b|kennwort|contraseña|senha|\bclave\b|chiave|wi-?fi|\bwlan\b|\bvpn\b"
    r"|router|log(?:s|ged)? ?in|sign(?:s|ed)? ?in|\badmin|\broot\b|\buser|usuario|utente"
    r"|utilizador|benutzer|entrar|connect|conectar|\babre\b|ouvre|unlock|credential|identifiant"
    r"|tried|probé|probado|essayé|testei|\bsecret|acc[eè]s|acesso"
    r"|accesso|zugang|anmeld|cambi|chang|geändert|alterei|mudei|vault|tresor|coffre"
)
# Before a word: a sentence about passwords or an example of one ("Reset password Link-2024!",
# "a password such as D5%t9Bgf").
_ABOUT = re.compile(
    r"reset|forgot|policy|expired|rules|example|e\.g\.|such as|zum beispiel|par exemple"
    r"|por ejemplo|por exemplo|ad esempio|\bej\.|\bex\.|\bp\. ?ex\.|\bz\. ?b\.|\bbspw\.|\bes\.|\bp\. ?ej\."
)
_PASSWORD_BEFORE = re.compile(
    r"(?:pass|\bpwd?|kennwort|contraseña|senha|\bclave|chiave)[^\n]{0,25}$"
)
# Quotes, brackets and emphasis around a word, and the punctuation after it.
_OPENING = "\"'`\u00ab\u201e\u201c\u2018*(["
_CLOSING = "\"'`\u00bb\u201d\u2019\u201c\u2018*)].,;:?"
_STRONG_SYMBOLS = frozenset("!#$%&*+?@^~")
_LETTERS = re.compile(r"[^\W\d_]{3}")
_IDENTIFIER_SYMBOLS = frozenset("_.-")
# Code, paths, links, encodings, hex literals, chat handles ("name#4764"), references
# ("Ticket#2024061210000437"), "user@host", keyboard
# shortcuts ("Strg+Shift+P").
# Not a password either: "Notepad++", "openssl@3", "2*pi*radius" (review's findings).
# A hash in crypt's format ("pbkdf2_sha256$600000$salt$hash", "$2b$12$...").
_NOT_A_PASSWORD = re.compile(r"\+\+|^[\w.-]+@\d[\d.]*$|^[\w.]+(?:\*[\w.]+)+$|\$.*\$")
_NOT_CHOSEN = re.compile(
    r"[/\\=()\[\]{}<>`|\";:,]|!!|%[0-9A-Fa-f]{2}|0x[0-9a-fA-F]|^\w+#\d{4}$|^[A-Za-z]+#\d+$|^[\w.+-]+@[a-z][a-z0-9-]*"
    r"(?:\.[a-z0-9-]+)*$|^[#@]|@[\w-]+\.[A-Za-z]{2,}"
    r"|(?i:ctrl|strg|cmd|alt|shift|option)\+"
)


def _password_shaped(value: str) -> bool | None:
    """True for a word shaped like a password a person chose: letters (a lower-case one), a
    digit and a strong symbol, or all four kinds of character; None when its only symbols are an
    identifier's; False otherwise."""
    if sum(c.isalpha() for c in value) < 3 or not any(c.islower() for c in value):
        return False
    symbols = {c for c in value if not c.isalnum()}
    if not symbols or not symbols <= _STRONG_SYMBOLS | _IDENTIFIER_SYMBOLS:
        return False
    if not value[0].isalnum() or not _LETTERS.search(value) or rule_like(value):
        return False
    if _NOT_CHOSEN.search(value) or FILE_LIKE.search(value) or _NOT_A_PASSWORD.search(value):
        return False
    if symbols <= {"+", "_", ".", "-"} and "+" in symbols:
        # Words joined with "+" are a passphrase with a number in it ("Marigold+Kettle+19"),
        # or a stack ("k8s+helm3", "WireGuard+2FA", "Mon+Wed+Fri2").
        return any(part.isdigit() and len(part) >= 2 for part in value.split("+"))
    if symbols <= _IDENTIFIER_SYMBOLS:
        plain = classes(value) == 4 and value[0].isalpha() and "__" not in value
        return None if plain else False
    if classes(value) == 4 or (classes(value) == 3 and any(c.isdigit() for c in value)):
        return True
    # No digit: both cases and two strong symbols ("Kiln&Glaze#Autumn"), not "Rock&Roll".
    return cased(value) and sum(c in _STRONG_SYMBOLS for c in value) >= 2


def shaped(text: str, lower: str) -> Iterator[Span]:
    """Password-shaped words on a line that names what they open (see ``_OPENS``). Only the
    words near a context word (found in one Aho-Corasick pass) with a mark of a password (a
    strong symbol, or a letter beside a digit) are read: reading every word near a context word
    cost 20-300 us per KB of prose, one pattern for the marks over the whole text 86 us."""
    if len(lower) != len(text):
        return
    classes = text.translate(_CLASSES)
    if "a0" not in classes and "0a" not in classes:
        return  # no letter beside a digit or a strong symbol anywhere (~3 us per KB)
    done = scanned = 0
    # In a text about passwords every word is read (see ``_strongly_chosen``), as one window;
    # where the words for a password are and the paragraph each is in, found once.
    told = _Told(
        [m.start() for m in _PASSWORD_TEXT.finditer(lower)]
        if any(stem in lower for stem in _PASSWORD_TEXT_STEMS)
        else [],
        lower,
    )
    if told.words:
        windows = [(0, len(text))]
    else:
        windows = [(near - 42, near + 66) for near in _context(lower)]
    for low, high in windows:
        begin = max(done, scanned, low)
        scanned = high  # windows overlap: each character is read once
        for mark in _DIGITS_OR_SYMBOL.finditer(text, begin, scanned):
            at = mark.start()
            if at < done:
                continue
            if text[at] not in _STRONG_SYMBOLS and not (
                _letter_beside(text, at, -1) or _letter_beside(text, mark.end() - 1, 1)
            ):
                continue
            start = max(text.rfind(c, max(0, at - 64), at) for c in " \n\t") + 1
            end = min((e for c in " \n\t" if (e := text.find(c, at, at + 65)) != -1), default=-1)
            if end == -1:
                end = len(text) if len(text) - at <= 64 else at + 65
            done = end
            if start == 0 and at >= 64:
                continue  # no space in the 64 characters before: a word too long
            span = _shaped_word(text, lower, start, end, told)
            if span is not None:
                yield span


class _Told:
    """The offsets of a text's words for a password and of its paragraphs' breaks: whether a
    word for a password is in the paragraph of an offset, in O(log n)."""

    def __init__(self, words: list[int], lower: str) -> None:
        self.words = words
        self.breaks = [m.start() for m in _PARAGRAPH_BREAK.finditer(lower)] if words else []

    def near(self, at: int) -> bool:
        """Whether a word for a password is in the paragraph of ``at`` and close: 160 characters
        before it or 60 after ("Customer: ... it's Buster1987" below "we never ask for your
        password"), not a flight or a chapter further on (the review's finding)."""
        i = bisect.bisect_left(self.words, at)
        before = self.words[i - 1] if i else None
        after = self.words[i] if i < len(self.words) else None
        close = (before is not None and at - before <= 160) or (
            after is not None and after - at <= 60
        )
        return close and self.in_paragraph(at)

    def in_paragraph(self, at: int) -> bool:
        paragraph = bisect.bisect_left(self.breaks, at)
        i = bisect.bisect_left(self.words, at)
        near = self.words[max(0, i - 1) : i + 1]  # the words just before and after ``at``
        return any(bisect.bisect_left(self.breaks, w) == paragraph for w in near)


_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def _told_here(lower: str, line_start: int, start: int, told: _Told) -> bool:
    """Whether a word is told with a copula right before it in a paragraph about passwords, and
    not as a network's or a user's name ("Wi-Fi network is \"Gull_Nest_5G\"")."""
    before = lower[max(line_start, start - 40) : start]
    return (
        _TOLD_WITH.search(before[-24:]) is not None
        and not _NAMES_A_USER.search(before)
        and told.in_paragraph(start)
    )


# The copula of "the new one is ...", "ahora es ...", "c'est ...", "jetzt ...", right before.
_TOLD_WITH = re.compile(
    r"(?:\bis|\bes|\bc'est|\bist|\bé|\bè|\bnow|\bahora|\bagora|\bjetzt|\bmaintenant|\bora"
    r"|\blautet|\bwas|\bera|\bfue|\bfoi|\bwar)[ \t]*[:\-\u2013]?[ \t]*[\"'\u00ab\u201c\u201e]?$"
)
_NAME_NUMBER = re.compile(r"[^\W\d_]{4,}\d{2,4}")
_NAMES_A_USER = re.compile(
    r"(?:user|login|identifiant|usuario|utilizador|utente|benutzer|ssid|wi-?fi|wlan|netz|network"
    r"|réseau|rede|account|konto|compte|cuenta|conta|nutzer)\w*[\W_]{0,6}(?:(?:is|est|es|é|ist|c'est)\W{1,3})?$"
)


_DIGITS = "0123456789"
# A thing's name before a word and a number: "read chapter Mercury12", "Room Zeus2024", "el vuelo
# Iberia3456", "Projekt Phoenix2025" (the review's finding).
_THING_BEFORE = re.compile(
    r"(?:chapter|chapitre|capítulo|kapitel|capitolo|room|salle|sala|raum|flight|vuelo|vol|flug"
    r"|voo|volo|project|projekt|projet|proyecto|projeto|progetto|model|modelo|modell|modèle"
    r"|modello|team|équipe|version|release|sprint|episode|level|map|server|host|node|heißt|called"
    r"|named|llamado|chamado|appelé)\W{0,3}$"
)
#: The words of the passwords every example and test uses ("password123", "Welcome1").
_SAMPLES = frozenset(
    ("password", "passwort", "welcome", "example", "test", "demo", "changeme", "secret", "letmein")
)


# A line that lists passwords not to choose ("Examples of rejected passwords: `Summer2024`",
# "Verboten sind u. a. „Sommer2024“"): a word and a number is the commonest bad choice.
_BAD_EXAMPLES = re.compile(
    r"example|exemple|ejemplo|exemplo|esempio|beispiel|e\.g\.|such as|\bz\. ?b\.|\bwie\b|comme"
    r"|rejected|banned|forbidden|verboten|interdit|prohibid|proibid|vietat|avoid|never|weak"
    r"|schwach|faible|débil|fraco|debole|common|breached|leaked|don't use|do not use"
)


def _name_number(value: str) -> bool:
    """A word and two to four digits, the word in small letters or capitalised ("Buster1987",
    "gartenzwerg77"): the password most people choose; not a camel-cased name ("HmacSHA256")."""
    if not _NAME_NUMBER.fullmatch(value):
        return False
    letters = value.rstrip(_DIGITS)
    return letters[1:].islower() and letters.lower() not in _PRODUCTS


#: Names that take a number and are no password: products, versions, places in a queue.
_PRODUCTS = frozenset(
    (
        *("windows", "office", "iphone", "ipad", "galaxy", "android", "ubuntu", "debian", "python"),
        *("java", "excel", "outlook", "teams", "pixel", "covid", "euro", "version", "server"),
        *("macos", "redmi", "xbox", "playstation", "chrome", "firefox", "safari", "oracle"),
        *("mysql", "postgres", "node", "react", "angular", "intel", "ryzen", "model", "room"),
        *("gate", "flight", "route", "line", "platform", "terminal", "floor", "level", "zone"),
        *("page", "step", "phase", "stage", "sprint", "release", "build", "patch", "update"),
        *("ticket", "order", "invoice", "item", "batch", "store", "branch", "site", "host"),
        *("chapter", "flight", "vuelo", "vol", "airbus", "boeing", "apollo", "corolla", "model"),
    )
)


# A password only a generator writes ("rUnwz$Imp68p", "fndMeh-5khcwysHp9w", "xe5n7VLupfq="), in
# a text about a login but far from the word ("For the very first sign-in use the string I read
# out on the phone yesterday \u2014 for the record it was rUnwz$Imp68p"): both cases, digits
# among the letters, a symbol, and no word in it even read back from leetspeak ("5y5t3m-Pr0mpt"
# is "system-Prompt", "4dm1n-B3nutz3r" "admin-Benutzer"). Seventh round: six such.
_UNLEET = str.maketrans("013457@$", "oieastas")
_VOWELS_Y = frozenset("aeiouyAEIOUY")


def _machine_made(value: str) -> bool:
    # The tests that run in C first: most words that get here are ids, codes and names.
    if not (10 <= len(value) <= 32) or not _PASSWORD_ALPHABET.fullmatch(value):
        return False
    if value.isalnum() or value.count("=") > 1 or "**" in value:
        return False  # no symbol: all four kinds of character are needed
    flips = len(_LETTER_DIGIT_FLIP.findall(value))
    if flips < 2 or classes(value) < 4 or not cased(value):
        return False
    if _NOT_CHOSEN.search(value.rstrip("=")) or FILE_LIKE.search(value) or word_run(value):
        return False
    if flips < 2 or (flips < 3 and not any(c in _STRONG_SYMBOLS for c in value)):
        return False  # "GPT-4o", "SHA-256-Hash", "WPA2-Passwort", "Mon+Wed+Fri2"
    for piece in _LETTER_PIECES.findall(value.translate(_UNLEET)):
        vowels = sum(c in _VOWELS_Y for c in piece)
        if (len(piece) >= 6 and vowels * 4 >= len(piece)) or (
            len(piece) >= 4 and vowels * 10 >= 4 * len(piece)
        ):
            return False  # a word, maybe in leetspeak ("D4rkL0rd_99")
    return value[-1:] != "=" or not _decodes_to_text(value)


def _decodes_to_text(value: str) -> bool:
    """Base64 of text ("YXBwX3VzZXI=" is "app_user"), not a password that ends in "="."""
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    return decoded.isprintable()


def machine_made(text: str, lower: str) -> Iterator[Span]:
    """Generated passwords anywhere in a text that names a login (see ``_machine_made``). Only
    the words with a letter beside a digit or a strong symbol are read (a pattern for every
    long word cost a prompt ~18 us), each once, and the text's context words only once one
    passes."""
    if len(lower) != len(text):
        return
    # Read as UTF-8 bytes: bytes.translate runs in C, ~1 us per KB; str.translate 15-30. A mark
    # is between ASCII characters, so its offset in characters is that of the bytes before it.
    encoded = text.encode("utf-8", "surrogatepass")
    marks = encoded.translate(_LETTER_DIGIT_BYTES)
    ascii_only = len(encoded) == len(text)
    found: list[Span] = []
    seen: set[int] = set()
    for byte_at in _pairs(marks):
        at = byte_at if ascii_only else len(encoded[:byte_at].decode("utf-8", "surrogatepass"))
        floor = max(0, at - 34)
        start = max(text.rfind(" ", floor, at), text.rfind("\n", floor, at)) + 1
        if start == 0 and floor > 0:
            continue  # no blank in the 34 characters before: a word too long to be one
        if start in seen:
            continue  # the word of an earlier mark
        seen.add(start)
        ends = [e for e in (text.find(" ", at, at + 35), text.find("\n", at, at + 35)) if e != -1]
        end = min(ends) if ends else min(len(text), at + 35)
        if end - start < 10:
            continue  # too short for a generated password: most words with a digit
        span = _machine_made_word(text, lower, start, end)
        if span is not None:
            found.append(span)
    if found and _context(lower):
        yield from found


# ASCII letters as "a", digits as "0", every other byte as it is: a generated password has a
# letter beside a digit somewhere (dates, prices and references join digits with other bytes).

_LETTER_DIGIT_BYTES = bytes(
    # (ASCII only: bytes from 0x80 are pieces of other characters; "\xb2" is a digit to Python.)
    ord("a") if chr(i).isascii() and chr(i).isalpha() else ord("0") if 48 <= i <= 57 else i
    for i in range(256)
)


def _pairs(marks: bytes) -> Iterator[int]:
    """Where an ASCII letter meets a digit, either way round (see ``_LETTER_DIGIT_BYTES``)."""
    for pair in (b"0a", b"a0"):
        at = marks.find(pair)
        while at != -1:
            yield at
            at = marks.find(pair, at + 1)


# A letter beside a digit, either way round (each adjacent pair counted once: overlapping).
_LETTER_DIGIT_FLIP = re.compile(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")
_WORD_EDGES = "\t\"'`()[]\u00ab\u00bb\u201c\u201d\u201e\u2018\u2019*"
_PASSWORD_ALPHABET = re.compile(r"[A-Za-z0-9!#$%&*+?@^~=._-]+")


def _machine_made_word(text: str, lower: str, start: int, end: int) -> Span | None:
    raw = text[start:end]
    if raw.isupper() or raw.islower() or ("@" in raw and _EMAILISH.search(raw)):
        return None  # one case (references, codes, words) or an address: the cheap tests first
    value = raw.strip(_WORD_EDGES).rstrip(".,;:").strip(_WORD_EDGES)
    if not value:
        return None
    start = text.find(value, start, end)
    if not _machine_made(value) or PLACEHOLDER.fullmatch(value) or dummy(value):
        return None
    if _ABOUT.search(lower, max(0, start - 28), start):
        return None  # an example of a strong password ("e.g. nothing like "Spring2025!"")
    if _AN_ID_BEFORE.search(lower, max(0, start - 24), start):
        return None  # an id ('"userId": "V1StGXR8_Z5jdHi6B-myT"', "video id x7K-2pQ9mZa")
    return Span("password", start, start + len(value), 0.75)


_EMAILISH = re.compile(r"@[\w-]+\.[A-Za-z]{2,}")
_AN_ID_BEFORE = re.compile(r"(?:\bid|_id|id\b|ids)[\"':=\s]*$")


#: Where the context words of ``_OPENS`` may be, found in one pass (the pattern itself, forty
#: alternatives with no literal to start from, cost ~300 us per KB of prose).
_OPENS_STEMS = (
    "pass", "pw", "mdp", "kennwort", "contraseña", "senha", "clave", "chiave", "wifi", "wi-fi",
    "wlan", "vpn", "router", "log", "sign", "admin", "root", "user", "usuario", "utente",
    "utilizador", "benutzer", "entrar", "connect", "conectar", "abre", "ouvre", "unlock",
    "credential", "identifiant", "tried", "prob", "essayé", "testei", "secret",
    "accès", "acces", "acesso", "accesso", "zugang", "anmeld", "cambi", "chang",
    "geändert", "alterei", "mudei", "vault", "tresor", "coffre",
)  # fmt: skip
_AUTOMATON: list[Any] = []


def _context(lower: str) -> list[int]:
    """The offsets of the context stems in ``lower``, in order (built once, on first use)."""
    if not _AUTOMATON:
        automaton = ahocorasick.Automaton()
        for stem in _OPENS_STEMS:
            automaton.add_word(stem, len(stem))
        automaton.make_automaton()
        _AUTOMATON.append(automaton)
    return sorted(end - size + 1 for end, size in _AUTOMATON[0].iter(lower))


_DIGITS_OR_SYMBOL = re.compile(r"\d+|[!#$%&*+?@^~]")
# Letters and an identifier's separators as "a", digits and strong symbols as "0": a password's
# mark shows as "a0" or "0a" in the copy.
_CLASSES = str.maketrans(
    {c: "a" for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-.éèàçñãõüöäß"}
    | {c: "0" for c in "0123456789!#$%&*+?@^~"}
)


def _letter_beside(text: str, at: int, step: int) -> bool:
    """Whether a letter is next to ``at`` on the side of ``step``, or one "_", "-" or "." away."""
    near = at + step
    if 0 <= near < len(text) and text[near] in "_-.":
        near += step
    return 0 <= near < len(text) and text[near].isalpha()


def stems(lower: str, stems: tuple[str, ...]) -> list[int]:
    """Every offset in ``lower`` where one of ``stems`` starts, in order."""
    found = []
    for stem in stems:
        at = lower.find(stem)
        while at != -1:
            found.append(at)
            at = lower.find(stem, at + len(stem))
    return sorted(found)


_LETTER_PIECES = re.compile(r"[A-Za-z]+")
_GENERATED_AFTER = re.compile(
    r"(?:pass(?:code|word|wort)?|pwd|kennwort|contraseña|senha|clave|chiave|mot de passe|mdp"
    r"|code d'accès|código de acceso|codice di accesso|código de acesso|zugangscode)"
    r"\b[^\n:=]{0,40}[:=][ \t]*[\"'`\u00ab\u201c]?$"
)
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def _generated(value: str) -> bool:
    """Letters and digits as a generator mixes them, with no symbol ("ZNpxxdP3", "KiI5YeWT",
    "790oiz7f8tim"): digits among the letters and case changing, three changes or more between
    them, and no word of five letters in it ("iPhone15", "Fritz7590", "Hortensia1954" are
    names). Only on a line that names what it opens (the caller's test)."""
    if not (8 <= len(value) <= 40 and value.isascii() and value.isalnum()):
        return False
    if set(value) <= _HEX_DIGITS:
        return False  # a hash, an id, a commit
    if not any(c.isdigit() for c in value) or sum(c.isalpha() for c in value) < 4:
        return False
    if word_run(value):
        return False
    for piece in _LETTER_PIECES.findall(value):
        if len(piece) >= 5 and sum(c in "aeiouAEIOU" for c in piece) * 10 >= 3 * len(piece):
            return False
    for piece in CAMEL_PIECE.findall(value):
        if len(piece) >= 4 and any(c in "aeiouAEIOU" for c in piece):
            return False  # a word in camel case ("PBKDF2WithHmacSHA256", "9of10Tests")
    flips = sum(a.isdigit() != b.isdigit() for a, b in pairwise(value))
    letters = [c for c in value if c.isalpha()]
    case_flips = sum(a.isupper() != b.isupper() for a, b in pairwise(letters))
    return flips + case_flips >= 3


def _shaped_word(text: str, lower: str, start: int, end: int, told: _Told) -> Span | None:
    while start < end and text[start] in _OPENING:
        start += 1
    while end > start and text[end - 1] in _CLOSING:
        end -= 1
    value = text[start:end]
    if len(value) < 8 or value.isalpha():
        return None  # most words: checked before anything slower
    shape = _password_shaped(value)
    line_start = lower.rfind("\n", max(0, start - 80), start) + 1
    if shape is False and _generated(value):
        # Letters and digits alone: only right after a word for a password and a colon.
        if _GENERATED_AFTER.search(lower, max(line_start, start - 60), start):
            return Span("password", start, end, 0.75)
        return None
    if shape is False and _name_number(value) and told.near(start):
        before = lower[max(line_start, start - 40) : start]
        example = (
            _ABOUT.search(before[-28:])
            or _THING_BEFORE.search(before[-24:])
            or _BAD_EXAMPLES.search(lower, max(line_start, start - 120), start)
            or value.rstrip(_DIGITS).lower() in _SAMPLES
        )
        if not (
            example or _NAMES_A_USER.search(before) or PLACEHOLDER.fullmatch(value) or dummy(value)
        ):
            return Span("password", start, end, 0.7)
    if shape is False or PLACEHOLDER.fullmatch(value) or dummy(value):
        return None
    before = lower[max(line_start, start - 80) : start]
    if shape is None:
        # Right after the word for a password, or told with a copula in a paragraph about one
        # ("new one is Crumpet_Thursday", ninth round).
        if _PASSWORD_BEFORE.search(before) or _told_here(lower, line_start, start, told):
            return Span("password", start, end, 0.75)
        return None
    if _ABOUT.search(before[-28:]):
        return None
    line_end = lower.find("\n", end, end + 40)
    after = lower[end : end + 40 if line_end == -1 else line_end]
    if _OPENS.search(before) or _OPENS.search(after):
        return Span("password", start, end, 0.75)
    if _strongly_chosen(value) and told.in_paragraph(start):
        # Anywhere in a paragraph about passwords, a word with all a chosen password's marks
        # ("Fenwick2024!", "Tuesday#Blue12", "Ridgeway#Client77"): told far from the word for
        # it, after a dash, on a sticky note's line (eighth round: a third of the helpdesk
        # author's misses).
        return Span("password", start, end, 0.7)
    return None


# A text about passwords: the word for one, whole, in any of the corpus's languages.
_PASSWORD_TEXT = re.compile(
    r"pass(?:word|wort|wd|phrase|code)|\bpw\b|\bpwd\b|\bmdp\b|mot de passe|kennwort|contraseña"
    r"|senha|palavra-passe|\bclave\b|\bchiave\b|credential|zugangsdaten|identifiants"
)


#: What ``_PASSWORD_TEXT`` needs, tested first with ``in`` (the pattern, an alternation with no
#: literal start, cost ~90 us per KB of a chat prompt that has none of them).
_PASSWORD_TEXT_STEMS = (
    "pass", "pw", "mdp", "mot de passe", "kennwort", "contraseña", "senha", "clave", "chiave",
    "credential", "zugangsdaten", "identifiants",
)  # fmt: skip


def _strongly_chosen(value: str) -> bool:
    """Letters of both cases, a digit and a strong symbol, a word of three letters in it: what a
    person makes a password of ("Lune!Rouge77"), not a handle, a hash or a reference."""
    return (
        classes(value) >= 3
        and any(c.isdigit() for c in value)
        and any(c in _STRONG_SYMBOLS for c in value)
        and _LETTERS.search(value) is not None
        and value[0] not in "#@"
        # Not a name in capitals or a product's build ("ERROR#42Timeout", "Build2024#3").
        and _CAPITALS_OR_BUILD.search(value) is None
    )


_CAPITALS_OR_BUILD = re.compile(
    r"[A-Z]{4}|^(?i:build|node|release|version|error|galaxy|sku|q[1-4]#|v\d)|#\d$|[@+]"
)


# A password alone on the line after a service and its user, as a note or a sticky note keeps
# them ("VPN - mjones\n   Tigers#2019", "Citrix: tbauer\n Schalke04!"). Seventh round: a dev
# author transcribed such notes in every language; the user's line names no password.
# (Blanks on either side of an optional quote are one run, then the quote and its own blanks:
# two runs side by side split a line of blanks every way, 97 s for 100 KB: a test's finding.)
_AFTER_LOGIN = re.compile(
    r"^[ \t]*(?:[\"'\u201e\u201c\u00ab][ \t]*)?[^\W\d_][\w.-]{0,12}(?: [\w.-]{1,12}){0,2}"
    r"[ \t]{0,3}(?::|[-\u2013])[ \t]{0,3}[a-z][a-z0-9._-]{2,30}\r?\n[ \t]*"
    r"(?P<value>[^\s\"\u201c\u201d\u00bb]{6,40})[ \t]*(?:[\"\u201c\u201d\u00bb][ \t]*)?\r?$",
    re.MULTILINE,
)


def after_login(text: str, lower: str) -> Iterator[Span]:
    """Only in a text about logins or credentials ("Branch: main\nRelease-2024-Q3" is a
    release's name under a branch): the review's finding."""
    found = []
    for m in _AFTER_LOGIN.finditer(text):
        value = m.group("value")
        # After a user, a name and a number are a password too ("Tigers#2019", which alone is
        # a chat handle's shape), with a strong symbol.
        chosen = _password_shaped(value) or (
            classes(value) >= 3
            and sum(c.isalpha() for c in value) >= 3
            and any(c.isdigit() for c in value)
            and any(c in _STRONG_SYMBOLS for c in value)
            and not FILE_LIKE.search(value)
            and "/" not in value
        )
        if chosen and not PLACEHOLDER.fullmatch(value) and not dummy(value) and "=" not in value:
            found.append(Span("password", m.start("value"), m.end("value"), 0.75))
    if found and (_context(lower) or _NOTE_WORDS.search(lower)):
        yield from found


# A transcribed note is about credentials even without a word for a login.
_NOTE_WORDS = re.compile(
    r"note|post-it|zettel|pósit|posit|nota\b|notiz|appunt|sécurité|security|seguridad|segurança"
    r"|sicherheit|sicurezza|rssi|\bisb\b|credential|identifiant|zugang|acceso|acesso|accesso"
)
