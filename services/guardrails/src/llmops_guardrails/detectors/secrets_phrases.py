"""Passwords of several words or of a service's own making: passphrases after the word for one
("Master password: orbit velvet cobbler ninety lagoon"), app passwords as Google and Apple show
them, and authenticator setup keys. Beside :mod:`.secrets_shapes` (single words shaped like a
password)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from llmops_guardrails.detectors.secrets_shapes import stems
from llmops_guardrails.detectors.secrets_values import Span

# A passphrase: several words after the word for a password and a colon, to the end of the
# line ("Master password: orbit velvet cobbler ninety lagoon", "Passwort: Sonnenblume
# Apfelkuchen Enkel"), or in quotes after it ("... password is "correct lantern velvet ocean"").
# Fourth-round authors gave 10 so. Unquoted, none of the words may be one prose is made of:
# "Password: see the vault entry" is an instruction.
# Glued to a prefix in German ("Masterpasswort"); a "master phrase" in Spanish and Portuguese.
_PHRASE_WORD = (
    r"(?:(?:master|haupt|start)?(?:password|passwort|kennwort)|passphrase|pass phrase"
    r"|phrase de passe|frase[- ]passe|mot de passe|frase maestra|frase secreta|frase mestra"
    r"|frase de paso|frase de acceso"
)
_PHRASE_WORD += r"|contraseña|senha|palavra-passe|passcode)"
# The words that may stand between the word for a password and its colon ("Master password:",
# "Phrase de passe maîtresse :"); "Password Policy:", "Password reset link:" are headings.
_PHRASE_QUALIFIER = (
    r"(?:master|maître|maîtresse|mestra|mestre|maestra|principal|new|nouveau|nouvelle|nueva|nova"
    r"|neues|neue|initial|inicial|temporary|temporaire|temporal|provisória|wi-?fi|wlan|vault"
    r"|backup|de|du|la|le|da|do|des|del|cifrado|encryption)"
)
_PHRASE_LINE = re.compile(
    r"(?m)(?<![\w])" + _PHRASE_WORD + r"(?:[ \t]" + _PHRASE_QUALIFIER + r"){0,2}"
    r"(?:[ \t](?:is|est|es|é|ist))?[ \t]*:[ \t]*"
    # To the end of the line, or to a remark after it ("... harbour (five words, spaces").
    r"(?P<value>[^\W\d_]{2,15}(?: [^\W\d_]{2,15}){2,5}(?: \d{1,4})?)[ \t]*\r?(?:$|(?= \())"
)
_PHRASE_QUOTED = re.compile(
    # The end of an identifier too ("'cifrado_passphrase' => '...'").
    r"(?<![^\W_])" + _PHRASE_WORD + r"[^\n\"'“«]{0,80}?(?:\b(?:is|es|est|ist|é|è|lautet)\b"
    r"(?: literally| literalmente| wörtlich)?|c'est|c\u2019est|[:=]>?|['\"]? ?=>)[ \t]*"
    r"[\"'\u201c\u00ab\u2018][ \u00a0]?"
    r"(?P<value>[\w\u00c0-\u024f]{1,15}(?: [\w\u00c0-\u024f]{1,15}){2,8})[ \u00a0]?[\"'\u201d\u00bb\u2019]"
)
_ABOUT_A_PASSWORD = re.compile(
    r"pass|kennwort|contraseña|senha|\b(?:enter|type|your|votre|tu|su|seu|sua|ihr|dein)\b"
)
_PHRASE_STEMS = ("pass", "contraseña", "senha", "kennwort", "frase")  # "frase de paso" too
#: How far after its word a passphrase may end: the word, two more, six words of fifteen letters.
_PHRASE_REACH = 160
_PROSE = (
    "the a an to for in on of see ask use your my is are be not no and or with from by at it this "
    "that via same as above below here there le la les un une du des voir votre ton est et ou dans "
    "pour sur avec der die das ein eine siehe ihr dein ist und oder im mit für el los las una ver "
    "tu su es y en con por para os as um uma seu sua é em com il lo gli uno vedi tuo è per will "
    "send sent later since last week unchanged please contact check follow sms email mail phone "
    "request wird separat zugeschickt envoyé séparément par pide acceso al enviada enviado "
    "minimum maximum characters caracteres zeichen expires expired update change reset"
)
_PROSE_WORDS = frozenset(_PROSE.split())


def passphrases(text: str, lower: str) -> Iterator[Span]:
    if len(lower) != len(text):
        return
    done = 0
    # From each stem, on its line (the patterns start with an alternation the engine would try
    # at every offset: ~60 us per KB), and a stem within 40 characters of the last one read is
    # skipped ("senha " repeated over a megabyte took 28 s: the review's finding).
    for at in stems(lower, _PHRASE_STEMS):
        if at < done:
            continue
        done = at + 40
        line_end = lower.find("\n", at, at + _PHRASE_REACH)
        if line_end == -1 and len(lower) - at <= _PHRASE_REACH:
            line_end = len(lower)  # the last line: it ends with the text
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
            if _ABOUT_A_PASSWORD.search(m.group("value")):
                continue  # a form's hint in quotes: "Enter your password here"
            prose = any(w in _PROSE_WORDS for w in words)
            # After an identifier's name a quoted sentence is a hint ("DB_PASSWORD='see the
            # docs'"), as on a line; after the word in prose, quotes set a passphrase apart.
            in_code = m.start() > 0 and lower[m.start() - 1] == "_"
            if (pattern is _PHRASE_QUOTED and not (in_code and prose)) or not prose:
                # Above a told password's 0.85, which would keep only the first word.
                yield Span("password", m.start("value"), m.end("value"), 0.86)
                done = m.end()
                break


# An app password as Google and Apple show one, four groups of four lower-case letters ("app
# password xkvd mplq trzo bnwa", "server.login(user, \"qzvt nkwe lrpa hmxd\")"): on a line that
# names a password or a login (the caller checks for one first), with a group without a vowel,
# which four words of prose hardly have. Only those lines are read (the pattern has no literal
# start: ~20 us per KB over a whole prompt).
_APP_PASSWORD = re.compile(r"(?<![\w-])[a-z]{4} [a-z]{4} [a-z]{4} [a-z]{4}(?![\w-])")
_APP_CONTEXT = ("pass", "login", "smtp", "mdp", "kennwort", "contraseña", "senha")
_VOWELS = frozenset("aeiouy")
# Words without a vowel that prose has: "we send mail over smtp", "your html form".
_TECH_WORDS = frozenset(
    [
        "smtp",
        "html",
        "http",
        "imap",
        "pptx",
        "xlsx",
        "docx",
        "json",
        "dkim",
        "ldap",
        "ssh",
        "xml",
        "mrkt",
    ]
)


# Written in one piece after its name: "Palavra-passe de aplicação: arfofnlhgccvrypf".
_APP_PASSWORD_NAMED = re.compile(
    r"(?:app(?:lication)?[ -]?pass\w{0,6}|app-passwort|pass\w{0,6} (?:de |d'|da |für )?"
    r"(?:aplicação|aplicación|application|aplicacion|app))[ \t]{0,4}[:=]?[ \t]{0,4}"
    r"(?P<value>[a-z]{16})(?![\w])"
)


def app_passwords(text: str, lower: str) -> Iterator[Span]:
    # The stretch of its line around each word (120 characters each way), merged: a megabyte on
    # one line is read once, not once per word.
    stretches: list[tuple[int, int]] = []
    for at in stems(lower, _APP_CONTEXT):
        start = max(at - 120, lower.rfind("\n", max(0, at - 120), at) + 1)
        end = lower.find("\n", at, at + 120)
        end = min(len(lower), at + 120) if end == -1 else end
        if stretches and start <= stretches[-1][1]:
            stretches[-1] = (stretches[-1][0], max(end, stretches[-1][1]))
        else:
            stretches.append((start, end))
    for start, end in stretches:
        for m in _APP_PASSWORD.finditer(text, start, end):
            groups = m.group().split()
            vowels = sum(c in _VOWELS for c in m.group())
            random = [g for g in groups if not set(g) & _VOWELS and g not in _TECH_WORDS]
            if vowels <= 6 and random:
                yield Span("password", m.start(), m.end(), 0.8)
        for m in _APP_PASSWORD_NAMED.finditer(lower, start, end):
            if sum(c in _VOWELS for c in m.group("value")) <= 6:
                yield Span("password", m.start("value"), m.end("value"), 0.8)


# An authenticator's setup key typed in by hand (TOTP secrets, base32 shown in groups of four:
# "JBSW Y3DP EHPK 3PXP ..."): six to eight groups, letters and digits, in one case, after words
# for one on the line before or the same line.
_SETUP_WORDS = re.compile(
    r"authenticator|authentificator|\btotp\b|\b2fa\b|\bmfa\b|setup key|secret key|"
    r"clave de configuración|clé de configuration|chave de configuração|einrichtungsschlüssel"
    r"|chiave di configurazione|configuration key|clave secreta|clé secrète"
)
_SETUP_KEY = re.compile(
    r"(?<![\w])(?<!\w )(?:[A-Z2-9]{4}(?: [A-Z2-9]{4}){5,7}|[a-z2-9]{4}(?: [a-z2-9]{4}){5,7})(?![\w]| \w)"
)


#: What a text needs for ``_SETUP_WORDS`` to be searched at all ("configura" for "clave de
#: configuración", "configuration key"): substring tests in C, ~3 us per KB against ~70 us for
#: the pattern over a whole prompt.
_SETUP_STEMS = ("authen", "configura", "2fa", "totp", "mfa", "setup key")


def setup_keys(text: str, lower: str) -> Iterator[Span]:
    if not any(map(lower.__contains__, _SETUP_STEMS)):
        return
    done = 0  # words inside the last stretch read are not read again (a megabyte of "totp")
    for word in _SETUP_WORDS.finditer(lower):
        if word.start() < done:
            continue
        reach = word.end() + 200
        line = lower.rfind("\n", max(0, word.start() - 100), word.start()) + 1
        end = lower.find("\n", word.end(), reach)
        end = lower.find("\n", end + 1, reach) if end != -1 else -1  # and the next line
        end = min(len(lower), reach) if end == -1 else end
        done = end
        for m in _SETUP_KEY.finditer(text, max(line, word.start() - 100), end):
            key = m.group().replace(" ", "")
            if any(c.isdigit() for c in key) and sum(c.isalpha() for c in key) >= len(key) // 2:
                yield Span("generic_secret", m.start(), m.end(), 0.9)
