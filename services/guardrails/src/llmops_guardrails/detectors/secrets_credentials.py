"""Credentials given the ways people give them, beside the assignments of :mod:`.secrets`: in a
URL, a combo list, a "user / password" pair, a command line, a PHP ``define``, a Postman
key/value pair, a table column, beside an AWS key id, or as a door code."""

from __future__ import annotations

import re
from collections.abc import Iterator

from llmops_guardrails.detectors.pii_context import table_headers
from llmops_guardrails.detectors.secrets_values import (
    PLACEHOLDER,
    Span,
    cased,
    classes,
    dummy,
    high_entropy,
    mixed,
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
    r"|for|für|para|pour|per|the|le|la|el|o|a|aparelho|telefone|téléphone|Wi-Fi|WLAN|SIM"
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
                or FILE_LIKE.search(value)
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
            if len(digits) == 6 and m.group().startswith(("PIN Code", "PIN code")):
                continue  # India's postal code ("PIN Code: 560034")
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
FILE_LIKE = re.compile(r"\.[A-Za-z]{1,5}$|\d\.\d")


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
    if row.count('"') % 2:
        return []  # a quote inside a field ('27" Monitor'): the columns cannot be told apart
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
