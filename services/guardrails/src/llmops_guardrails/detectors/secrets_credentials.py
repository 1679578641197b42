"""Credentials given the ways people give them, beside the assignments of :mod:`.secrets`: in a
URL, a combo list, a "user / password" pair, a Postman key/value pair, a table column, beside an
AWS key id, or in a tool's own syntax (Samba, lftp, HAProxy, .pgpass). Those in command lines,
code, SQL and device configurations are in :mod:`.secrets_in_code`; codes that open doors and
devices in :mod:`.secrets_codes`."""

from __future__ import annotations

import re
from collections.abc import Iterator

from llmops_guardrails.detectors.pii_context import table_headers
from llmops_guardrails.detectors.secrets_codes import filler
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
# The user may be quoted ("compte « reseau » / ..."), and an arrow or a dash may stand for the slash
# ("usuario «gestoria» → 54Z.MeG-HcoeAx91", "familia@gmail.com \u2013 Paella&Domingo5").
_PAIR = re.compile(
    r"(?<![\w/.-])[\u00ab\"\u201c'`]?[ \u00a0]?(?P<user>[\w.@+-]{2,64})[ \u00a0]?[\u00bb\"\u201d'`]?"
    r" (?:/|\u2192|->|\u2013|\u00b7) `?(?P<value>[^\s/\"'`,;|()]{6,64})`?(?=[\s,;|)]|$)"
)
_PAIR_SEPARATORS = (" / ", " \u2192 ", " -> ", " \u2013 ", " \u00b7 ")
# A word after the value: prose goes on.
_PROSE_AFTER = re.compile(r" [^\W\d]")
# A Wi-Fi network in quotes, then its password: 'Wifi is "Brambles" / hedgehog77garden'.
_NETWORK = re.compile(r"wi-?fi|wlan|ssid|réseau|rede|netz")
_NETWORK_NAME = re.compile(r"[^\W\d_][\w-]{2,40}")
_SPACES = " \u00a0"
_OPENING_QUOTES = "\u00ab\"\u201c'`"
_CLOSING_QUOTES = "\u00bb\"\u201d'`"
# Users who log in with digits alone ("Faxserver: admin / 89461403").
_ADMIN_USERS = frozenset({"admin", "administrator", "administrateur", "root", "supervisor", "user"})
_PASSWORD_ASKED = frozenset(
    {
        "password",
        "passwort",
        "contraseña",
        "senha",
        "kennwort",
        "palavra-passe",
        "mdp",
        "mot de passe",
    }
)
_BROAD_LOGINS = frozenset({"vpn", "access", "zugänge", "accessi", "accesos", "acessos", "creds"})
_LINE_ENDS = re.compile(r"[.!]?[ \t]*(?:\r?\n|$)")
_LOGIN_WORDS = re.compile(
    r"\b(?:login|log in|sign in|users?|username|usuario|utilisateur|benutzer|utente|utilizador"
    r"|accounts?|cuentas?|comptes?|konto|admin|root|credentials?|acceso|accès|acesso|accesso"
    r"|zugang|anmeldung|session|identifiant|identifier|kennung|benutzername|login id"
    # A VPN's or an onboarding letter's accesses ("Access for your contract: VPN: jdoe / ...").
    r"|vpn|access|zugänge|accessi|accesos|acessos|creds"
    # A service or a device one logs in to ("supplier portal: HOLLINSRFC / Kit4Hollins!", "Core
    # switch \u2013 10.1.1.2 \u2013 manager / Ar!ba-Sw1ndon"): ninth round.
    r"|portal|portail|dashboard|console|backoffice|intranet|webmail|router|switch|firewall|nas"
    r"|ipmi|idrac)\b"
    # Or a question about a password a line before ("Qual é a password do Instagram?\n... loja
    # / Bacalhau*55").
    r"|password|passwort|contraseña|senha|mot de passe|kennwort|palavra-passe|\bmdp\b"
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


def pairs(text: str, lower: str) -> Iterator[Span]:
    """User and password pairs, curl credentials, Postman key-value secrets, tools' own syntax."""
    if len(lower) != len(text):
        return  # a character whose lower case is longer (U+0130): offsets would not line up
    if any(separator in text for separator in _PAIR_SEPARATORS):
        for m in _pair_matches(text):
            value, user = m.group("value").rstrip(".)"), m.group("user")
            if user.isdigit() or user[-1:] == "." or FILE_LIKE.search(value) or value[-1:] == ":":
                continue  # (a label after the slash: "WLAN: FeWo / Passwort: Moewe2024")
            slash = " / " in text[m.end("user") : m.start("value")]
            login = _LOGIN_WORDS.search(lower, max(0, m.start() - 80), m.start("value"))
            email = "@" in user and _EMAIL_USER.fullmatch(user) is not None
            quoted = text[m.start() : m.start() + 1] in _OPENING_QUOTES
            if not slash:
                # An arrow, a dash or a dot is prose's too ("Login flow: user -> AuthService ->
                # TokenStore2", "user@x.com \u2013 Premium2024 plan"): only after a quoted user or an
                # e-mail, the value ending its line or clause.
                if not (quoted or email) or _PROSE_AFTER.match(text, m.end("value")):
                    continue
                if not quoted and classes(value.rstrip(".)")) < 4:
                    continue  # "owner: bob@corp.com · Admin-Tier3", a role or a plan's name
            elif (quoted or _NETWORK_NAME.fullmatch(user)) and _NETWORK.search(
                lower, max(0, m.start() - 40), m.start()
            ):
                # A network's name and its key ("Guest wifi: HomeGuest / sunnyday22"); a name,
                # not a band ("Wi-Fi bands: 2.4GHz / 5GHz-Ultra").
                login = login or _NETWORK.search(lower, max(0, m.start() - 40), m.start())
            if not (login or email):
                continue
            broad = login is not None and login.group() in _BROAD_LOGINS and not email
            if broad and not (cased(value) and any(c.isdigit() for c in value) and user.islower()):
                # A VPN or an access names settings and products as often ("VPN: split tunnel /
                # full-tunnel2 modes", "Access for Q3: Marketing / FY24-Budget"): a user in
                # lower case, a generated password (both cases and a digit).
                continue
            asked = login is not None and login.group() in _PASSWORD_ASKED
            if asked and not email and not _LINE_ENDS.match(text, m.end("value")):
                continue  # a word for a password only: the pair ends its line, as a reply does
            if strong_enough(value) and (len(value) >= 8 or classes(value) >= 3):
                pass
            elif not (
                slash
                and (login or email)
                and (_plain_pair(user, value) or (email and _word_and_digit(value)))
            ):
                continue
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
    if "%" in text or "lftp" in text or "stats auth" in text:
        for m in _TOOL_CREDENTIALS.finditer(text):
            if classes(m.group("value")) >= 2 and not PLACEHOLDER.fullmatch(m.group("value")):
                yield Span("password", m.start("value"), m.end("value"), 0.85)
    if text.count(":") >= 4:
        for m in _PGPASS.finditer(text):
            value = m.group("value")
            if classes(value) >= 2 and not PLACEHOLDER.fullmatch(value) and not dummy(value):
                yield Span("password", m.start("value"), m.end("value"), 0.85)


_EIGHT_DIGIT_DATE = re.compile(r"(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")
_EMAIL_USER = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _plain_pair(user: str, value: str) -> bool:
    """A plainer password after a login word and a slash: digits after an administrator's name
    ("admin / 748341"), or letters and two digits ("kiosk / kiosk2024")."""
    if value.isdigit():
        year = len(value) == 4 and value[:2] in ("19", "20")
        date = _EIGHT_DIGIT_DATE.fullmatch(value) is not None
        ok = user.lower() in _ADMIN_USERS and 4 <= len(value) <= 12 and not filler(value)
        return ok and not year and not date
    digits = sum(c.isdigit() for c in value)
    letters = sum(c.isalpha() for c in value)
    if len(value) >= 8 and classes(value) >= 3 and letters >= 6 and not value[:1].isdigit():
        return True  # "gast-schneider / Kekse&Milch", "casa-invitados / Bocadillo_Jamon"
    return len(value) >= 8 and digits >= 2 and letters >= 3 and value.isalnum()


def _word_and_digit(value: str) -> bool:
    """After an e-mail and a slash, letters and a digit are a password ("thelatebuses@gmail.com
    / lastbus2am"): an account is given with its password so."""
    return value.isalnum() and sum(c.isalpha() for c in value) >= 4 and not value.isalpha()


def _pair_matches(text: str) -> Iterator[re.Match[str]]:
    """``_PAIR`` matched from each separator (the pattern has no literal start to jump to)."""
    for separator in _PAIR_SEPARATORS:
        at = text.find(separator)
        while at != -1:
            # Back over a closing quote, the user, an opening quote (each with a space inside).
            begin = at - 1
            if begin >= 0 and text[begin] in _CLOSING_QUOTES:
                begin -= 1 + (begin >= 1 and text[begin - 1] in _SPACES)
            while (
                begin >= 0
                and at - begin <= 68
                and (text[begin].isalnum() or text[begin] in "._@+-")
            ):
                begin -= 1
            if begin >= 1 and text[begin] in _SPACES and text[begin - 1] in _OPENING_QUOTES:
                begin -= 1
            if begin >= 0 and text[begin] in _OPENING_QUOTES:
                begin -= 1
            m = _PAIR.match(text, begin + 1)
            if m and m.start("value") == at + len(separator):
                yield m
            at = text.find(separator, at + len(separator))


# A file name or a version at the end of a value: "Helper3.py", "Django4.2".
FILE_LIKE = re.compile(r"\.[A-Za-z]{1,5}$|\d\.\d")


def strong_enough(value: str) -> bool:
    """A password in a pair: letters, a digit, and a symbol or both cases; not a path, a date, a
    fraction or a version ("2024/25", "v1.2/v2.0")."""
    if value[:1] == "." or "://" in value:
        return False
    if classes(value) == 4:
        return True
    shaped = any(c.isalpha() for c in value) and any(c.isdigit() for c in value)
    mixed = any(not c.isalnum() for c in value) or cased(value)
    return shaped and mixed and not value.startswith(("v", "V"))


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


# Credentials in other tools' own syntax: Samba's "-U user%password", lftp's "-u user,password",
# HAProxy's "stats auth user:password", a .pgpass line "host:port:database:user:password".
_TOOL_CREDENTIALS = re.compile(
    r"(?:\s-U[ \t]{0,4}[\"']?[\w.@\\-]{1,64}%|\blftp\b[^\n]{0,120}?\s-u[ \t]{1,4}[\w.@-]{1,64},"
    r"|\bstats auth[ \t]{1,4}[\w.@-]{1,64}:)(?P<value>[^\s\"']{6,128})"
)
_PGPASS = re.compile(
    # (A host of one label starts with a letter and its port has four or five digits:
    # "2024-05-01T12:00:00:WARN:...", "ERROR:42:parser:..." are log lines.)
    r"(?m)^(?:(?:localhost|\*|[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}):(?:\d{2,5}|\*)"
    r"|[a-z][\w-]{0,62}:(?:\d{4,5}|\*)):[\w*.-]{1,64}:[\w*.@-]{1,64}:(?P<value>[^\s:/]{6,128})[ \t]*$"
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
    r"pass|pwd|kennwort|contraseña|senha|mot de passe|mdp|clave|chiave|secret|token|key|pin|code"
)
# A column of codes that open something: "Door code", "initial_pin", "Código portal" (ninth
# round: a sheet of sites' door codes, a portal's accounts with their PINs).
_CODE_HEADER = re.compile(
    r"(?:(?:initial|default|temp|card|sim|phone|user)[ _-]?)?pin(?:[ _-]code)?"
    r"|(?:door|gate|alarm|access|entry|keypad|safe|lock|lockbox|key ?safe|front door|building)"
    r"[ _-]?code"
    r"|passcode|digicode|türcode|torcode|alarmcode|zugangscode"
    r"|(?:code|código|codigo|codice)[ _-](?:porte|portail|alarme|d'accès|puerta|portal|alarma"
    r"|acceso|porta|portone|allarme|accesso|acesso|alarme)"
)
# A prefix and a suffix around the word: "TempPassword", "Startkennwort", "mdp_initial",
# "clave_inicial", "senha inicial".
_SECRET_HEADER = re.compile(
    # A prefix glued only when it is a word for whose password it is ("bypass", "compass" are
    # no passwords).
    r"(?:(?:temp|start|initial|master|new|old|default|admin|root|user|db|app|kunden|neues)[ _-]?"
    r"|(?:[a-z]+[ _-]){1,2})?(?:pass|password|passwort|passwd|pwd|kennwort|contraseña|senha"
    r"|mot[ _-]de[ _-]passe"
    r"|palavra-passe"
    r"|mdp|clave|chiave"
    r"|secret|token|key|api[ _-]?key|secret[ _-]access[ _-]key|access[ _-]token|client[ _-]secret)"
    r"(?:[ _-](?:initial|inicial|iniziale|initiale|temp|temporary|temporal|provisoire|provisional"
    r"|provisória|new|neu|nouveau|nuevo|nova|nuova|1|2"
    # The network's: "Clave wifi", "Senha do Wi-Fi", "Mot de passe WiFi" (eighth round).
    r"|(?:del |do |du |de la |della )?(?:wifi|wi-fi|wlan|red|rede|réseau)))?"
)
_PASSWORD_HEADER = re.compile(r"pass|pwd|kennwort|contraseña|senha|mot de passe|mdp|clave|chiave")
_PIN_COLUMN = re.compile(
    r"password|passwort|passwd|pwd|\bpin\b|kennwort|contraseña|senha|mot[ _-]de[ _-]passe|\bmdp\b"
    r"|clave|chiave|palavra-passe"
)
_DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}.*|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}.*")


def _codes_table(fields: list[str]) -> bool:
    """Whether a table's codes are codes: a door's or a keypad's column, or a PIN beside a person
    or an account; not India's postal PIN beside a city, nor a connector's pin or a product's
    (the review's finding)."""
    header = " ".join(f.strip().lower() for f in fields)
    if _PLACE_COLUMN.search(header):
        return False
    locked = any(
        not _CODE_HEADER_PIN.fullmatch(f.strip().lower())
        for f in fields
        if _CODE_HEADER.fullmatch(f.strip().lower())
    )
    return locked or _PERSON_COLUMN.search(header) is not None


_PLACE_COLUMN = re.compile(
    r"city|address|state|postcode|zip|ort\b|ville|ciudad|cidade|città|district"
)
_PERSON_COLUMN = re.compile(
    r"user|name|nom\b|nombre|nome|email|e-mail|account|konto|compte|cuenta|conta|card|karte|tarjeta"
    r"|sim|phone|login|member|employee|staff|client|customer|kunde|usuario|utilisateur|id\b"
)
_CODE_HEADER_PIN = re.compile(
    r"(?:(?:initial|default|temp|card|sim|phone|user)[ _-]?)?pin(?:[ _-]code)?"
)
# A code's cell: three to eight digits, a letter or a key after them ("4471B", "1845#").
_CODE_CELL = re.compile(r"\d{3,8}[A-Da-d#*]?")


def table_cells(text: str, lower: str) -> Iterator[Span]:
    if "\n" not in text or not _SECRET_COLUMN.search(lower):
        return
    tables = table_headers(text)  # built here, once per call
    for line, header in zip(tables.line_starts, tables.headers, strict=True):
        if header is None:
            continue
        delimiter, fields = header
        named = [i for i, f in enumerate(fields) if _SECRET_HEADER.fullmatch(f)]
        coded = [i for i, f in enumerate(fields) if _CODE_HEADER.fullmatch(f.strip().lower())]
        if coded and not _codes_table(fields):
            coded = []
        if not named and not coded:
            continue
        end = text.find("\n", line)
        row = text[line : len(text) if end == -1 else end].rstrip("\r")
        cells = _fields(row, delimiter)
        for i in coded:
            if i < len(cells) and i not in named:
                value = cells[i][1].strip(" \t'")
                if _CODE_CELL.fullmatch(value) and not filler(value.rstrip("ABCDabcd#*")):
                    start = text.index(value, line + cells[i][0])
                    yield Span("password", start, start + len(value), 0.8)
        for i in named:
            if i >= len(cells):
                continue
            offset = line + cells[i][0]
            value = cells[i][1].strip(" \t'")
            # A PIN in a password column: the column's word a password's ("pass" alone counts
            # tests, "first pass" passes).
            pin = value.isdigit() and len(value) >= 4 and _PIN_COLUMN.search(fields[i]) is not None
            if (len(value) < 6 and not pin) or PLACEHOLDER.fullmatch(value) or dummy(value):
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
                # A column of passwords holds PINs too: a bank's "576512" in a password
                # manager's export is no number of anything else.
                if (classes(value) >= 2 or value.isdigit()) and " " not in value:
                    yield Span("password", start, start + len(value), 0.85)
            elif high_entropy(value):
                yield Span("generic_secret", start, start + len(value), 0.9)
            elif (
                strong_enough(value)
                and classes(value) >= 3
                and " " not in value
                and not any(c in "\u2022\u25cf*" for c in value)  # a masked key: "sk_live_••••3fA9"
            ):
                # A chosen password in a "secret" column ("vpn-gateway,svc_vpn,Winter2023!"):
                # letters, a digit, a symbol or both cases (ninth round).
                yield Span("password", start, start + len(value), 0.8)


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
