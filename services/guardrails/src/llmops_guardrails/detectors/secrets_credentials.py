"""Credentials given the ways people give them, beside the assignments of :mod:`.secrets`: in a
URL, a combo list, a "user / password" pair, a command line, a PHP ``define``, a Postman
key/value pair, a table column, beside an AWS key id, or as a door code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import ahocorasick  # type: ignore[import-not-found]  # C extension, no stubs

from llmops_guardrails.detectors.pii_context import table_headers
from llmops_guardrails.detectors.secrets_values import (
    PLACEHOLDER,
    Span,
    cased,
    classes,
    dummy,
    high_entropy,
    mixed,
    rule_like,
)

# The password in a URL's user information: "postgres://app:s3cr3t@db:5432/app",
# "rediss://:token@cache:6380". The user name is not a secret; the password always is.
# The last "@" before the host ends it: passwords may hold one ("mysql://shop:Hjkc@41hK@db").
_URL_PASSWORD = re.compile(r"://[^\s:/@\"'`]{0,64}:(?P<value>[^\s/\"'`]{1,128})@[\w\[]")


# A leaked credential pair, "jane.doe@gmail.com:Summer2024!" (the combo-list format).
_COMBO = re.compile(
    r"@[\w-]{1,63}(?:\.[\w-]{1,63}){1,4}:(?P<value>[^\s:/@\"'`,;]{6,64})(?=[\s,;]|$)"
)


# Credentials given as "user / password" with spaces around the slash, after a word for a
# login ("login: admin / Blu3b3rry!Pancake", "test accounts: buyer_test / Buyer2025!!").
# Paths, packages, images and "TCP/IPv4" have no spaces around theirs.
_PAIR = re.compile(
    r"(?<![\w/.-])(?P<user>[\w.@+-]{2,64}) / (?P<value>[^\s/\"'`,;|]{8,64})(?=[\s,;|]|$)"
)
_LOGIN_WORDS = re.compile(
    r"\b(?:login|log in|sign in|users?|username|usuario|utilisateur|benutzer|utente|utilizador"
    r"|accounts?|cuentas?|comptes?|konto|admin|root|credentials?|acceso|accès|acesso|accesso"
    r"|zugang|anmeldung|session|identifiant|identifier|kennung|benutzername|login id)\b"
)
# curl's and wget's "-u user:password" ("docker run -u www-data:www-data" is a user and group).
_CURL_USER = re.compile(
    r"\b(?:curl|wget|http|https)\b[^\n]{0,200}?(?:\s-u|--user)[ =]?[\"']?(?P<user>[\w.@+-]{1,64})"
    r":(?P<value>[^\s\"'@]{6,64})"
)
# A Postman collection's or an environment file's key and value: {"key": "client_secret",
# "value": "..."}; the key's name ends with the secret's word ("token_endpoint" is a URL).
_KEY_VALUE = re.compile(
    r"\"key\"\s*:\s*\"(?P<name>[^\"\n]{0,40}(?:secret|token|password|passwd|api[-_ ]?key"
    r"|apikey))\"\s*,\s*\"value\"\s*:\s*\"(?P<value>[^\"\n]{6,256})\"",
    re.IGNORECASE,
)
# A code to a door or an alarm: "Door code tomorrow is 5172#". (A card's or a booking's PIN
# was a look-alike to the authors who wrote one; a badge PIN a password to another: not kept.)
# Matched on the lower-cased text; only connectives between the words and the code.
_PIN = re.compile(
    r"(?<![\w])(?:door code|alarm code|gate code|entry code|keypad code|access code|digicode"
    r"|code porte|türcode|code d'accès|código de acceso|código do alarme|codice della porta"
    r"|codice allarme|code de l'alarme|code alarme|code de la porte|code du portail"
    r"|code de l'immeuble|alarmcode|código de la alarma|código da porta)(?:[ \t]+(?:is|es|est|ist|é|è|for|of|del|de|do|da|della|tomorrow|today"
    r"|now|demain|morgen|heute|mañana|amanhã|domani|new|nuevo|nouveau|neuer))"
    r"{0,3}[ \t]*(?:[:=]|c'est|c\u2019est)?[ \t]*(?P<value>\d{4,8}#?)(?![\w])(?! ?(?:seconds|secs|minutes|mins|hours"
    r"|days|bits|bytes|ms|s\b|m\b|h\b))"
)
_PIN_ANCHORS = ("code", "código", "codice", "türcode")
# A PIN that unlocks something: "PIN ist 9459", "Code PIN : 4888", "PIN do aparelho 124492".
# Fourth-round authors labelled a phone's, a device's or a fuel card's PIN a password 11 times
# of 11; a booking's or a gift card's PIN is a reference (two look-alikes): not after one.
_DEVICE_PIN = re.compile(
    r"(?<![\w])PIN(?:-?[Cc]ode|-Nummer)?(?:[ \t]+(?:is|ist|es|é|est|è|do|de|du|der|des|da|del|dell|of"
    r"|for|für|para|pour|per|the|le|la|el|o|a|[A-Z][\w-]{1,12}|aparelho|telefone|téléphone"
    r"|telefono|teléfono|móvil|handy|carte|card|karte|tarjeta|cartão)){0,3}"
    r"[ \t]*[:=]?[ \t]*(?P<value>\d{4,8})(?![\w]|[.,/-]\d)"
)
_BOOKING = re.compile(
    r"confirmation|booking|reservation|réservation|reserva|buchung|prenotazione|gift|cadeau|regalo"
    r"|geschenk|voucher|bon d'achat",
    re.IGNORECASE,
)


def pairs(text: str, lower: str) -> Iterator[Span]:
    """User and password pairs, curl credentials, Postman key-value secrets, door codes."""
    if len(lower) != len(text):
        return  # a character whose lower case is longer (U+0130): offsets would not line up
    if " / " in text:
        for m in _pair_matches(text):
            value, user = m.group("value").rstrip(".)"), m.group("user")
            if (
                not _strong_enough(value)
                or user.isdigit()
                or user[-1:] == "."
                or _FILE.search(value)
            ):
                continue
            if _LOGIN_WORDS.search(lower, max(0, m.start() - 80), m.start("value")):
                start = m.start("value")
                yield Span("password", start, start + len(value), 0.85)
    if "-u" in text or "--user" in text:
        for m in _CURL_USER.finditer(text):
            value = m.group("value")
            if value != m.group("user") and classes(value) >= 2 and not value.isdigit():
                yield Span("password", m.start("value"), m.end("value"), 0.85)
    if '"key"' in text:
        for m in _KEY_VALUE.finditer(text):
            value = m.group("value")
            if PLACEHOLDER.fullmatch(value) or dummy(value) or value.startswith(("{{", "/")):
                continue
            if "://" in value:
                continue
            if "pass" in m.group("name").lower():
                if classes(value) >= 2:
                    yield Span("password", m.start("value"), m.end("value"), 0.85)
            elif high_entropy(value) or (len(value) >= 20 and mixed(value)):
                yield Span("generic_secret", m.start("value"), m.end("value"), 0.9)
    if "PIN" in text:
        for m in _DEVICE_PIN.finditer(text):
            digits = m.group("value")
            year = len(digits) == 4 and digits[:2] in ("19", "20")
            if filler(digits) or year or _BOOKING.search(text, max(0, m.start() - 60), m.start()):
                continue
            yield Span("password", m.start("value"), m.end("value"), 0.8)
    if any(anchor in lower for anchor in _PIN_ANCHORS):
        for m in _PIN.finditer(lower):
            digits = m.group("value")
            year = len(digits) == 4 and digits[:2] in ("19", "20")
            if not filler(digits) and not year:
                yield Span("password", m.start("value"), m.end("value"), 0.85)


def _pair_matches(text: str) -> Iterator[re.Match[str]]:
    """``_PAIR`` matched from each " / " (the pattern has no literal start to jump to)."""
    at = text.find(" / ")
    while at != -1:
        begin = at - 1
        while begin >= 0 and at - begin <= 64 and (text[begin].isalnum() or text[begin] in "._@+-"):
            begin -= 1
        m = _PAIR.match(text, begin + 1)
        if m and m.start("value") == at + 3:
            yield m
        at = text.find(" / ", at + 3)


# A file name or a version at the end of a value: "Helper3.py", "Django4.2".
_FILE = re.compile(r"\.[A-Za-z]{1,5}$|\d\.\d")


def _strong_enough(value: str) -> bool:
    """A password in a pair: letters, a digit, and a symbol or both cases; not a path, a date, a
    fraction or a version ("2024/25", "v1.2/v2.0")."""
    if value[:1] == "." or "://" in value:
        return False
    if classes(value) == 4:
        return True
    shaped = any(c.isalpha() for c in value) and any(c.isdigit() for c in value)
    mixed = any(not c.isalnum() for c in value) or cased(value)
    return shaped and mixed and not value.startswith(("v", "V"))


def filler(digits: str) -> bool:
    """A code no one sets: one digit repeated or a counting run ("0000", "1234")."""
    core = digits.rstrip("#")
    return len(set(core)) == 1 or core in "0123456789" or core in "9876543210"


def combos(text: str) -> Iterator[Span]:
    for m in _COMBO.finditer(text):
        value = m.group("value")
        if value.isdigit() or PLACEHOLDER.fullmatch(value) or classes(value) < 2:
            continue
        yield Span("password", m.start("value"), m.end("value"), 0.85)


def url_passwords(text: str) -> Iterator[Span]:
    if "://" not in text:
        return
    for m in _URL_PASSWORD.finditer(text):
        value = m.group("value")
        if PLACEHOLDER.fullmatch(value) or dummy(value) or len(value) < 4:
            continue
        yield Span("password", m.start("value"), m.end("value"), 0.9)


# A password given on a command line: "--requirepass X", "--password X", "mysql -u admin
# -pX" or "-p'X'" (the value attached: "-p X" makes mysql ask for one and names a database),
# "docker login -u ci -p X". Only on the line of a command that takes one, after its name.
_CLI_PASSWORD = re.compile(
    r"(?:--(?:requirepass|password|passwd|pass|db-password|[\w-]{0,20}(?:secret|token|api-key"
    r"|access-key|secret-key)[\w-]{0,12})(?:[ =]|[\"'],? *[\"'])|(?<=\s)-p(?=[^\s-])|(?<=\s)-p +)"
    r"[\"']?(?P<value>[^\s\"']{6,128})"
)
_CLI_COMMANDS = re.compile(
    r"mysql|mariadb|mysqldump|docker login|podman login|redis-server|redis-cli|sshpass"
)
#: Commands whose "-p" takes the password after a space.
_SPACED_PASSWORD = frozenset({"docker login", "podman login", "sshpass"})
# A port mapping or a path is an argument, not a password ("-p 6379:6379", "mkdir -p /var").
_NOT_A_PASSWORD = re.compile(r"[\d:]+|[/~.].*")
# WordPress and PHP configuration: define('DB_PASSWORD', '...'), define('AUTH_KEY', '...').
_DEFINE = re.compile(
    r"define\(\s*['\"](?P<name>[A-Z0-9_]{1,64})['\"]\s*,\s*['\"]"
    r"(?P<value>[^'\"\n]{6,256})['\"]"
)


# An AWS secret access key given beside its key id ("AKIA...:wJalr...", "AKIA... / wJalr...",
# the two columns of the console's credentials CSV): 40 base64 characters soon after the id.
_AWS_ID = re.compile(r"A(?:KIA|SIA)[A-Z0-9]{16}(?![A-Za-z0-9])")
_AWS_SECRET_NEAR = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")


def aws_pairs(text: str) -> Iterator[Span]:
    for m in _AWS_ID.finditer(text):
        near = _AWS_SECRET_NEAR.search(text, m.end(), min(len(text), m.end() + 120))
        if near and mixed(near.group()) and not dummy(near.group()):
            yield Span("aws_secret_access_key", near.start(), near.end(), 0.9)


# A table column named for a secret: "username,password" over "jdoe,Summer2024!". Only a
# header made of such a name ("password_changed" is a date, "keyword" a word).
_SECRET_COLUMN = re.compile(
    r"pass|pwd|kennwort|contraseña|senha|mot de passe|clave|chiave|secret|token|key"
)
_SECRET_HEADER = re.compile(
    r"(?:[a-z]+[ _-])?(?:pass|password|passwort|passwd|pwd|kennwort|contraseña|senha|mot de passe"
    r"|clave|chiave"
    r"|secret|token|key|api[ _-]?key|secret[ _-]access[ _-]key|access[ _-]token|client[ _-]secret)"
)
_PASSWORD_HEADER = re.compile(r"pass|pwd|kennwort|contraseña|senha|mot de passe|clave|chiave")
_DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}.*|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}.*")


def table_cells(text: str, lower: str) -> Iterator[Span]:
    if "\n" not in text or not _SECRET_COLUMN.search(lower):
        return
    tables = table_headers(text)  # built here, once per call
    for line, header in zip(tables.line_starts, tables.headers, strict=True):
        if header is None:
            continue
        delimiter, fields = header
        named = [i for i, f in enumerate(fields) if _SECRET_HEADER.fullmatch(f)]
        if not named:
            continue
        end = text.find("\n", line)
        row = text[line : len(text) if end == -1 else end].rstrip("\r")
        cells = _fields(row, delimiter)
        for i in named:
            if i >= len(cells):
                continue
            offset = line + cells[i][0]
            value = cells[i][1].strip(" \t'")
            if len(value) < 6 or PLACEHOLDER.fullmatch(value) or dummy(value):
                continue
            if _DATE_LIKE.fullmatch(value):
                continue
            start = text.index(value, offset)
            if _PASSWORD_HEADER.search(fields[i]):
                # "Clave" also names a product's or a tax code's column ("Clave SAT"): codes are
                # in capitals.
                spanish = "clave" in fields[i] or "chiave" in fields[i]
                if spanish and not any(c.islower() for c in value):
                    continue
                if classes(value) >= 2 and " " not in value:
                    yield Span("password", start, start + len(value), 0.85)
            elif high_entropy(value):
                yield Span("generic_secret", start, start + len(value), 0.9)


def _fields(row: str, delimiter: str) -> list[tuple[int, str]]:
    """The fields of a delimited row with their offsets, a quoted field's quotes dropped (a
    password manager's CSV export quotes every field: '"Banque","9071458263","Cuisine-Pont-109"')."""
    fields: list[tuple[int, str]] = []
    if '"' not in row:
        at = 0
        for cell in row.split(delimiter):
            fields.append((at, cell))
            at += len(cell) + 1
        return fields
    for m in _QUOTED_FIELDS[delimiter].finditer(row):
        name = "quoted" if m.group("quoted") is not None else "plain"
        fields.append((m.start(name), m.group(name)))
    return fields


_QUOTED_FIELDS = {
    d: re.compile(
        rf'(?:^|(?<={re.escape(d)}))[ \t]*(?:"(?P<quoted>[^"]*)"[ \t]*|(?P<plain>[^{re.escape(d)}"]*))'
        rf"(?={re.escape(d)}|$)"
    )
    for d in ",;|\t"
}


_DEFINE_NAME = re.compile(r"PASSWORD|KEY|SALT|SECRET|TOKEN")


def _flags(text: str) -> Iterator[re.Match[str]]:
    """``_CLI_PASSWORD`` matched where a flag starts ("--", " -p"): the pattern has no literal
    prefix for the engine to jump to, and hyphens are everywhere in prose."""
    starts = []
    for marker, offset in (("--", 0), (" -p", 1), ("\t-p", 1)):
        at = text.find(marker)
        while at != -1:
            starts.append(at + offset)
            at = text.find(marker, at + 2)
    for at in sorted(starts):
        m = _CLI_PASSWORD.match(text, at)
        if m:
            yield m


def command_lines(text: str) -> Iterator[Span]:
    for m in _flags(text):
        value, flag = m.group("value"), m.group()[: m.start("value") - m.start()]
        if PLACEHOLDER.fullmatch(value) or dummy(value) or _NOT_A_PASSWORD.fullmatch(value):
            continue
        line_start = text.rfind("\n", 0, m.start()) + 1
        command = _CLI_COMMANDS.search(text, max(line_start, m.start() - 200), m.start())
        if flag.startswith("-p"):
            # "-p X" only for a login command; mysql's "-p X" asks for the password.
            attached = not flag.startswith("-p ")
            spaced = command is not None and command.group() in _SPACED_PASSWORD
            if command and (attached or spaced) and classes(value) >= 2:
                yield Span("password", m.start("value"), m.end("value"), 0.85)
        elif "pass" in flag:
            if classes(value) >= 2:
                yield Span("password", m.start("value"), m.end("value"), 0.85)
        elif high_entropy(value):
            yield Span("generic_secret", m.start("value"), m.end("value"), 0.9)
    if "define(" in text:
        for m in _DEFINE.finditer(text):
            value = m.group("value")
            if not _DEFINE_NAME.search(m.group("name")):
                continue
            if PLACEHOLDER.fullmatch(value) or dummy(value) or "put your" in value:
                continue
            if "PASSWORD" in m.group("name"):
                if classes(value) >= 2:
                    yield Span("password", m.start("value"), m.end("value"), 0.85)
            elif high_entropy(value) or classes(value) == 4:
                yield Span("generic_secret", m.start("value"), m.end("value"), 0.9)


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
    r"|tried|probé|probado|essayé|testei|\bsecret|\bcodes?\b|código|codice|acc[eè]s|acesso"
    r"|accesso|zugang|anmeld|cambi|chang|geändert|alterei|mudei|vault|tresor|coffre"
)
# Before a word: a sentence about passwords or an example of one ("Reset password Link-2024!",
# "a password such as D5%t9Bgf").
_ABOUT = re.compile(
    r"reset|forgot|policy|expired|rules|example|e\.g\.|such as|zum beispiel|par exemple"
    r"|por ejemplo|por exemplo|ad esempio"
)
_PASSWORD_BEFORE = re.compile(
    r"(?:pass|\bpwd?|\bmdp|kennwort|contraseña|senha|\bclave|chiave)[^\n]{0,25}$"
)
# A word of 8 to 64 characters with a digit or a symbol in it (the others are not read at all).
_WORD = re.compile(r"(?<!\S)(?=\S{0,63}[\d!#$%&*+?@^~_.-])\S{8,64}(?!\S)")
# Quotes, brackets and emphasis around a word, and the punctuation after it.
_OPENING = "\"'`\u00ab\u201e\u201c\u2018*(["
_CLOSING = "\"'`\u00bb\u201d\u2019\u201c\u2018*)].,;:?"
_STRONG_SYMBOLS = frozenset("!#$%&*+?@^~")
_LETTERS = re.compile(r"[^\W\d_]{3}")
_IDENTIFIER_SYMBOLS = frozenset("_.-")
# Code, paths, links, encodings, hex literals, chat handles ("name#4764"), references
# ("Ticket#2024061210000437"), "user@host", keyboard
# shortcuts ("Strg+Shift+P").
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
    if _NOT_CHOSEN.search(value) or _FILE.search(value):
        return False
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
    for near in _context(lower):
        begin = max(done, scanned, near - 42)
        scanned = near + 66  # windows overlap: each character is read once
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
            span = _shaped_word(text, lower, start, end)
            if span is not None:
                yield span


#: Where the context words of ``_OPENS`` may be, found in one pass (the pattern itself, forty
#: alternatives with no literal to start from, cost ~300 us per KB of prose).
_OPENS_STEMS = (
    "pass", "pw", "mdp", "kennwort", "contraseña", "senha", "clave", "chiave", "wifi", "wi-fi",
    "wlan", "vpn", "router", "log", "sign", "admin", "root", "user", "usuario", "utente",
    "utilizador", "benutzer", "entrar", "connect", "conectar", "abre", "ouvre", "unlock",
    "credential", "identifiant", "tried", "prob", "essayé", "testei", "secret", "code", "código",
    "codice", "accès", "acces", "acesso", "accesso", "zugang", "anmeld", "cambi", "chang",
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


def _stems(lower: str, stems: tuple[str, ...]) -> list[int]:
    """Every offset in ``lower`` where one of ``stems`` starts, in order."""
    found = []
    for stem in stems:
        at = lower.find(stem)
        while at != -1:
            found.append(at)
            at = lower.find(stem, at + len(stem))
    return sorted(found)


def _shaped_word(text: str, lower: str, start: int, end: int) -> Span | None:
    while start < end and text[start] in _OPENING:
        start += 1
    while end > start and text[end - 1] in _CLOSING:
        end -= 1
    value = text[start:end]
    if len(value) < 8 or value.isalpha():
        return None  # most words: checked before anything slower
    shape = _password_shaped(value)
    if shape is False or PLACEHOLDER.fullmatch(value) or dummy(value):
        return None
    line_start = lower.rfind("\n", 0, start) + 1
    before = lower[max(line_start, start - 60) : start]
    if shape is None:
        return Span("password", start, end, 0.75) if _PASSWORD_BEFORE.search(before) else None
    if _ABOUT.search(before):
        return None
    line_end = lower.find("\n", end)
    after = lower[end : min(len(lower) if line_end == -1 else line_end, end + 40)]
    if _OPENS.search(before) or _OPENS.search(after):
        return Span("password", start, end, 0.75)
    return None


# A passphrase: several words after the word for a password and a colon, to the end of the
# line ("Master password: orbit velvet cobbler ninety lagoon", "Passwort: Sonnenblume
# Apfelkuchen Enkel"), or in quotes after it ("... password is "correct lantern velvet ocean"").
# Fourth-round authors gave 10 so. Unquoted, none of the words may be one prose is made of:
# "Password: see the vault entry" is an instruction.
_PHRASE_WORD = (
    r"(?:password|passwort|passphrase|pass phrase|phrase de passe|frase[- ]passe|mot de passe"
)
_PHRASE_WORD += r"|contraseña|senha|palavra-passe|kennwort|passcode)"
_PHRASE_LINE = re.compile(
    r"(?m)(?<![\w])" + _PHRASE_WORD + r"(?:[ \t][\w\u00c0-\u024f-]{1,14}){0,2}[ \t]*:[ \t]*"
    r"(?P<value>[^\W\d_]{2,15}(?: [^\W\d_]{2,15}){2,5}(?: \d{1,4})?)[ \t]*$"
)
_PHRASE_QUOTED = re.compile(
    r"(?<![\w])" + _PHRASE_WORD + r"[^\n\"'“«]{0,40}?(?:\b(?:is|es|est|ist|é|è|lautet)\b"
    r"(?: literally| literalmente| wörtlich)?|[:=]>?|['\"]? ?=>)[ \t]*[\"'\u201c\u00ab\u2018]"
    r"(?P<value>[\w\u00c0-\u024f]{2,15}(?: [\w\u00c0-\u024f]{1,15}){2,6})[\"'\u201d\u00bb\u2019]"
)
_PHRASE_STEMS = ("pass", "contraseña", "senha", "kennwort")
#: How far after its word a passphrase may end: the word, two more, six words of fifteen letters.
_PHRASE_REACH = 160
_PROSE_WORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "to",
        "for",
        "in",
        "on",
        "of",
        "see",
        "ask",
        "use",
        "your",
        "my",
        "is",
        "are",
        "be",
        "not",
        "no",
        "and",
        "or",
        "with",
        "from",
        "by",
        "at",
        "it",
        "this",
        "that",
        "via",
        "same",
        "as",
        "above",
        "below",
        "here",
        "there",
        "le",
        "la",
        "les",
        "un",
        "une",
        "du",
        "des",
        "voir",
        "votre",
        "ton",
        "est",
        "et",
        "ou",
        "dans",
        "pour",
        "sur",
        "avec",
        "der",
        "die",
        "das",
        "ein",
        "eine",
        "siehe",
        "ihr",
        "dein",
        "ist",
        "und",
        "oder",
        "im",
        "mit",
        "für",
        "el",
        "los",
        "las",
        "una",
        "ver",
        "tu",
        "su",
        "es",
        "y",
        "en",
        "con",
        "por",
        "para",
        "os",
        "as",
        "um",
        "uma",
        "seu",
        "sua",
        "é",
        "em",
        "com",
        "il",
        "lo",
        "gli",
        "uno",
        "vedi",
        "tuo",
        "è",
        "per",
    ]
)


def passphrases(text: str, lower: str) -> Iterator[Span]:
    if len(lower) != len(text):
        return
    done = 0
    # From each stem, on its line (the patterns start with an alternation the engine would try
    # at every offset: ~60 us per KB).
    for at in _stems(lower, _PHRASE_STEMS):
        if at < done:
            continue
        line_end = lower.find("\n", at, at + _PHRASE_REACH)
        begin = max(lower.rfind("\n", max(0, at - 16), at) + 1, at - 16)
        # A passphrase on its line needs the line to end soon; one in quotes, the quote to
        # close soon (both bounded: a line of "password=" repeated is read once).
        patterns = (_PHRASE_LINE, _PHRASE_QUOTED) if line_end != -1 else (_PHRASE_QUOTED,)
        if line_end == -1:
            line_end = min(len(lower), at + _PHRASE_REACH)
        for pattern in patterns:
            m = pattern.search(lower, begin, line_end)
            if m is None:
                continue
            words = m.group("value").split()
            if pattern is _PHRASE_QUOTED or not any(w in _PROSE_WORDS for w in words):
                yield Span("password", m.start("value"), m.end("value"), 0.8)
                done = m.end()
                break
