"""Passwords and secrets given after a word that names them: assigned (``password = ...``,
``"api_key": "..."``), told in a sentence ("mon mot de passe c'est ..."), or right after the word
("wifi pw flatwhite4all"). Each keyword is found in the lower-cased text and one anchored match
runs after it (see :mod:`.secrets` for why)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

from llmops_guardrails.detectors.secrets_codes import filler
from llmops_guardrails.detectors.secrets_tokens import (
    DIRECT_SECRET,
    HASH_WORDS,
    LONG_TOKEN,
    TOLD_SECRET,
    random_token,
    text_in_hex,
)
from llmops_guardrails.detectors.secrets_values import (
    PLACEHOLDER,
    Span,
    cased,
    classes,
    dummy,
    entropy,
    high_entropy,
    jwt_header_ok,
    mixed,
    rule_like,
)

# --- values assigned to secret-sounding names --------------------------------------------------

#: Keyword stems (lower case) naming a password, and those naming another kind of secret. The
#: identifier may go on after the stem (``pass`` covers ``password``, ``passwd``, ``passphrase``,
#: ``Passwort`` and ``mot de passe``; ``key`` covers ``api_key`` and ``access_key``): fewer
#: substring searches over the text, and the value check decides.
_PASSWORD_WORDS: tuple[str, ...] = (
    "pass",
    "paswo",  # "pasword", "Paswort": typed in a hurry
    "pw",
    "mdp",
    "kennwort",
    "contraseña",
    "senha",
    "clave",
    "contrasena",  # without its tilde, as identifiers are written
    "pwd",  # "MYSQL_PWD=...": "pw" is a stem only when whole
    "psk",  # a Wi-Fi pre-shared key: 'psk="..."' in wpa_supplicant, "psk:" in YAML
)
_SECRET_WORDS: tuple[str, ...] = (
    "secret",
    "token",
    "key",
    "auth",
    "credential",
    "bearer",
    "schlüssel",
    "clé",
    "chiave",
    "llave",
    "session",
    "chave",  # Portuguese: CHAVE_AES
    # Without their accent or umlaut, as identifiers are written ("CLE_CHIFFREMENT",
    # "HMAC_SCHLUESSEL"); French tokens ("JETON_SERVICE").
    "cle_",
    "schluessel",
    "jeton",
    # Azure DevOps and GitHub personal access tokens ("AZDO_PAT: ..."), OpenWeatherMap's key.
    "_pat",
    "appid",
    # A PHP session's cookie ("PHPSESSID=..."), an Italian secret ("segreto ...").
    "sessid",
    "segreto",
)
# After the keyword: the rest of an identifier (``DB_PASSWORD``, ``secret_access_key``), an
# optional closing quote and bracket (``["PASSWORD"] = ...``), an assignment or a copula, an
# optional opening quote, the value. (An argument's comma, for ``define('DB_PASSWORD', ...)``,
# was tried: quoted field lists, ``["password1", "password2"]``, read as passwords.)
_ASSIGNMENT = re.compile(
    # A numbered key ("Unseal Key 1: ..."), a prompt's default ("AWS Secret Access Key [None]:");
    # names aligned in a column ("db_password      = ..."), an XML element's text.
    # An XML attribute's value after its key ('key="SmtpPassword" value="..."'); quotes escaped
    # in a JSON string ('\"password\":\"...\"').
    r"[\w.-]{0,32}(?: \d{1,3}| \[[^\]\n]{0,20}\])?\\?[\"']?\]?(?:[ \t]+value(?=[ \t]*=))?[ \t]{0,32}"
    r"(?::=|=>|==|=|:|\bis\b|\best\b|\bist\b|\bes\b|\bé\b|\bè\b|\bwas\b|\blautet\b"
    r"|>(?=[^\s<]{6,256}</))"
    # A bytes literal, or a key decoded where it is assigned ('b"...", bytes.fromhex("...")').
    r"[ \t]{0,4}(?:b(?=[\"'])|(?:bytes\.fromhex|(?:base64\.)?b(?:64|32)decode|(?:binascii\.)?"
    r"unhexlify|buffer\.from)\()?"
    r"\\?[\"'`]?(?:(?:bearer|basic)[ \t]{1,4})?[\"'`]?"
    r"(?P<value>[^\s\"'`,;]{6,256})"
)
# A password told in a sentence: "I changed my password yesterday to Hamburg#Hafen77", "mot de
# passe du compte c'est ...", "la contraseña que puse fue ...": the whole word for it, up to four
# words, then a copula, a colon or a preposition, then the value (independent authors' PII
# rows: 12 of 19 passwords were told so and missed). Held to more than an assignment (see
# ``_told_value``): "pass the callback to on_change" and "the password to Outlook" are not.
_TOLD_WORDS = re.compile(
    r"(?<![\w])(?:password|pasword|\w{0,12}passwort|paswort|passwd|passphrase|passcode|\w{0,12}kennwort"
    r"|mot de passe|contraseña|senha|palavra-passe|pwd?|mdp|requirepass"
    # A database's keys are no passwords: "la clave primaria es id_cliente2024".
    r"|clave(?! (?:primaria|for[aá]nea|ajena|[uú]nica|compuesta|externa)))(?![\w])"
)
_TOLD = re.compile(
    # (A remark in brackets may stand before the colon: "Mot de passe admin de la box (changé à
    # la demande du client) : Caron_Box_2025".)
    r"(?:[ \t,]{1,4}[\w'\u2019-]{1,20}){0,6}?(?:[ \t]{0,2}\([^()\n]{0,60}\)(?=[ \t]{0,2}:))?"
    r"(?:[ \t,]{1,4}(?P<copula>is|was|c'est|c\u2019est|c'était|c\u2019était|est|etait|était|ist"
    r"|war|lautet|es|era|fue|é|è|foi)|[ \t,]{1,4}(?P<preposition>to|auf|pour|para)|[ \t]{0,2}:)"
    r"[ \t:]{1,4}[\"'`«„“]?(?P<value>[^\s\"'`,;«»“”]{6,64})"
)


# An address in a value ("to jane@example.com"); "ubatuba@2024" is a password.
_EMAIL_LIKE = re.compile(r"@[\w-]+\.[A-Za-z]")


_DIRECT = re.compile(
    r"(?:[ \t]{1,2}(?P<kind>temporal|temporaire|temporary|temporär|temporanea|provisória"
    r"|provisoria|provisoire|provisional|provisorio|new|nueva|nouveau|neue|neues|nova|nuova"
    r"|actual|current|initial|inicial))?"
    r"[ \t]{1,2}[\"'`]?(?P<value>[^\s\"'`,;]{8,64}?)[.)]?(?![^\s\"'`,;])"
)


# Words before the word for a password that make the sentence about passwords, not one:
# "Reset password Link-2024!", "forgot your password".
_ABOUT_PASSWORDS = re.compile(r"reset|forgot|change|update|policy|expired|rules|strong|weak")
_FAR = re.compile(
    r"[^\n]{0,100}?(?<![\w'\u2019])(?:is|es|é|è|est|ist|c'est|c\u2019est|era|was|war|fue|foi|lautet"
    r"|it's|it\u2019s|that's)"
    r"[ \t:]{1,3}[\"'`«„“]?(?P<value>[^\s\"'`,;«»“”]{8,64}?)[.)!]?(?![^\s\"'`,;«»“”])"
)


def _strong_word(value: str) -> bool:
    """Capitals, small letters and a symbol that is not a word's hyphen or an apostrophe."""
    value = value.rstrip(".)")
    symbols = {c for c in value if not c.isalnum()}
    return classes(value) >= 3 and bool(symbols - {"-", "'", "\u2019"}) and _told_value(value, True)


def _about_passwords(lower: str, at: int) -> bool:
    """Whether the words just before the word for a password, in the same sentence, make the
    sentence about passwords ("Reset password Link-2024!"), not "pwd reset. Temp pw Granite#44"."""
    window = max(0, at - 16)
    stop = lower.rfind(". ", window, at)
    begin = max(window, stop + 2 if stop != -1 else 0, lower.rfind("\n", window, at) + 1)
    return _ABOUT_PASSWORDS.search(lower, begin, at) is not None


def _strong(value: str) -> bool:
    """Letters, a digit and a symbol, and not an address, a link or a path: a password however
    it is given."""
    value = value.rstrip(".)")
    return (
        classes(value) >= 3
        and any(c.isdigit() for c in value)
        and any(not c.isalnum() for c in value)
        and _told_value(value, True)
    )


# The words after which digits alone are a password: the word whole, then a copula or a colon.
_DIGITS_NAMED = re.compile(
    r"(?:password|passwort|passwd|passcode|pwd|pw|mdp|kennwort|senha|contraseña|mot de passe"
    r"|palavra-passe)[\"'\]]*(?:[ \t]+[^\W\d_]{1,12}){0,4}[ \t]*(?::|=|\bis\b|\bist\b|\bes\b|\bé\b"
    r"|\best\b|\blautet\b|\bwas\b)[ \t\"']*$"
)
# A date written as eight digits: not a password ("Passwort geändert: 20240315").
_DATE_DIGITS = re.compile(r"(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")


def _digits_password(value: str) -> bool:
    """Six to twelve digits given as a password ("a senha nova do banco é 135969"): not a run
    or one digit repeated, not a date."""
    return (
        value.isdigit()
        and 6 <= len(value) <= 12
        and not filler(value)
        and not _DATE_DIGITS.fullmatch(value)
    )


def _plain(value: str) -> bool:
    """A password of letters and digits (a symbol or not) given right after the word for one."""
    value = value.rstrip(".)")
    digits = sum(c.isdigit() for c in value)
    letters = sum(c.isalpha() for c in value)
    # Capitals and digits mixed ("senha 4FCNG7YP54"), not a model or a code ("SHA256", "V2").
    capitals = value.isupper() and digits >= 2 and letters >= 2 and not _CAPITAL_WORD.search(value)
    if _HASH_NAMES.match(value):
        return False  # "hash the password argon2id", "bcrypt12"
    return (
        len(value) >= 8
        and (any(c.islower() for c in value) or capitals)
        and digits > 0
        and not rule_like(value)
        and _told_value(value, False)
    )


_CAPITAL_WORD = re.compile(r"[A-Z]{5}")
# The word begins an element's tag name: "<password>", "<db.password>" (not an attribute's value:
# '<a href="/forgot-password">Forgotten?</a>').
_TAG_NAME = re.compile(r"<[\w.-]{0,32}$")
_CLOSES_TAG = re.compile(r"(?<![=-])>")  # not PHP's "=>" nor an arrow
# A value that names a setting or refers to one rather than being a secret: Helm's
# "passwordKey: postgres-password", Terraform's "var.sql_admin_password".
_NAMES_ONE = re.compile(
    r"(?:var|local|data|module|each|self|this|vars|values|ctx|props|inputs|secrets|env)\.[a-z_]"
    r"|[a-z0-9]*(?:password|passwd|passwort|secret)[a-z0-9]*(?:[_.-][a-z0-9]+)*"
    r"|[a-z0-9]+(?:[_.-][a-z0-9]+)*[_.-](?:password|passwd|passwort|secret)(?:[_.-][a-z0-9]+)*"
)
_HASH_NAMES = re.compile(r"(?i)argon2|bcrypt|scrypt|pbkdf2|sha-?\d|md5|sha\d|blake2|yescrypt")


def _told_value(value: str, preposition: bool) -> bool:
    """Whether a value told after the word for a password looks like one: letters and digits or
    symbols, not an address, a link, a path or a label; three kinds of character after a
    preposition ("the password to Outlook", "senha alterada para user=joao")."""
    if _EMAIL_LIKE.search(value) or "://" in value or value.startswith("/") or value.endswith(":"):
        return False
    if not any(c.isalpha() for c in value) or value.isalpha():
        return False
    # "mot de passe : rendez-vous sur le portail": a lower-case word and a hyphen is prose;
    # sixteen letters with hardly a vowel are not ("arfofnlhgccvrypf", an app password).
    if not any(c.isdigit() for c in value) and value == value.lower():
        return _unpronounceable(value)
    return classes(value) >= (3 if preposition else 2)


def _unpronounceable(value: str) -> bool:
    """Twelve to twenty-four letters of which under a fifth are vowels: random, not a word."""
    if not 12 <= len(value) <= 24 or not value.isalpha():
        return False
    return sum(c in "aeiouy" for c in value) * 5 < len(value)


# A label on its own line and the value alone on the next one (forms, scans, notes: "Password:\n
# Hunter#2024x", "the master password we set for the vault is:\n\nTrombone-Glacier-42"): the label's
# line ends after at most three words, or eight and a colon or a copula; the value fills its line.
_NEXT_LINE = re.compile(
    r"[\w.-]{0,32}(?:(?:[ \t]+[^\s:=]{1,16}){0,8}?(?:[ \t]*:|[ \t]+(?:is|est|ist|es|é|lautet"
    r"|c'est|c\u2019est))"
    r"|(?:[ \t]+[^\W\d_]{1,12}){0,3})[ \t]*\r?\n(?:[ \t]*\r?\n){0,2}[ \t]*[\"'`\u00ab\u201e\u201c]?"
    r"(?P<value>[^\s\"'`,;\u00ab\u00bb\u201c\u201d]{6,64})[\"'`\u00bb\u201d]?[ \t]*(?=\r?\n|$)"
)


def _next_line(text: str, lower: str, at: int, after: int, is_password: bool) -> Span | None:
    """A value alone on the line after its label (the word for it at ``at:after``): a password
    of three kinds of character, a secret of high entropy. The word is a whole word's end ("pass"
    in "Bypass" or "Boarding pass" names no password), and the label's line is no heading or
    status about passwords ("Password reset", "ERROR invalid password")."""
    word_end = after
    while word_end < len(lower) and lower[word_end].isalpha():
        word_end += 1
    if at and lower[at - 1].isalpha() and not lower.endswith(_GLUED_WORDS, 0, word_end):
        return None
    word = lower[at:word_end]
    if word == "pass" or (word == "passe" and not lower.endswith(("de ", "-"), 0, at)):
        return None  # a pass to ski or board with; not "mot de passe", "palavra-passe"
    line_start = lower.rfind("\n", max(0, at - 80), at) + 1
    m = _NEXT_LINE.match(lower, after)
    if not m or "-----" in lower[after : m.start("value")]:
        return None  # none, or a PEM block's first line ("BEGIN PUBLIC KEY-----")
    if _LABEL_NOT_A_VALUE.search(lower, line_start, m.start("value")):
        return None
    start, end = m.start("value"), m.end("value")
    value = text[start:end].rstrip(".)")
    end = start + len(value)
    if PLACEHOLDER.fullmatch(value) or dummy(value) or rule_like(value) or "=" in value.rstrip("="):
        return None  # or an assignment on the next line: "DB_PASSWORD=tu_contraseña\nKEY=..."
    if "=" in lower[line_start:after]:
        return None  # the word inside a value assigned on its line, not a label
    if is_password:
        strong = _strong(value) or _strong_word(value) or (classes(value) >= 3 and cased(value))
        looks_like_one = _told_value(value, False) and not _DATE_LIKE.match(value)
        if strong and looks_like_one and not _VERSION_OR_TICKET.match(value):
            return Span("password", start, end, 0.8)
        return None
    random = len(value) >= 20 and high_entropy(value) and mixed(value)
    if random and not HASH_WORDS.search(lower, max(0, start - 60), start):
        return Span("generic_secret", start, end, 0.85)
    return None


#: Words a password's name is glued to: "Masterpasswort", "Startkennwort", "TempPassword".
_GLUED_WORDS = ("passwort", "password", "kennwort", "passwd")
# A label's line about passwords, not giving one: a heading, a status, an error.
_LABEL_NOT_A_VALUE = re.compile(
    r"reset|forgot|forgotten|manager|policy|invalid|incorrect|expired|change|wrong|hash|status"
    r"|result|error|fail|oubli|vergessen|olvid|esqueci|richtlinie|politique|política|requirement"
    r"|field|strength|meter|length|rules|format|hint"
)
# A version, a ticket, a reference, a setting or a cipher on the next line: "v2.3.1",
# "INC0012345", "Ticket#4521", "2FA-enabled", "WPA2-PSK".
_VERSION_OR_TICKET = re.compile(
    r"(?i).*\d\.\d|inc\d|ticket|req\d|#\d|.*(?:enabled|disabled|required|optional)|wpa|wep|aes"
)


_DATE_LIKE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")


_BEARER = re.compile(r"[ \t]{1,4}(?P<value>[A-Za-z0-9._~+/-]{16,2048}=*)")


#: Every stem, for :class:`~.secrets_marks.Marks` (one pass finds them all).
STEMS = (*_PASSWORD_WORDS, *_SECRET_WORDS)


def assigned(
    text: str, lower: str, marks: dict[str, list[int]], long_runs: bool = True
) -> Iterator[Span]:
    """Values after a stem of ``STEMS``; ``marks``: where each stem is in ``lower``."""
    if len(lower) != len(text):
        return  # a character whose lower case is longer (U+0130): offsets would not line up
    for words, is_password in ((_PASSWORD_WORDS, True), (_SECRET_WORDS, False)):
        for word in words:
            after = 0  # where the next key may start
            for at in marks.get(word, ()):
                if at < after:
                    continue
                after = at + len(word)
                if word == "chave" and lower.endswith(("palavra-", "palavras-"), 0, at):
                    continue  # "Palavras-chave:", keywords
                if word in _WHOLE_STEMS and (
                    (word[0] != "_" and lower[at - 1 : at].isalpha())
                    or lower[at + len(word) : at + len(word) + 1].isalpha()
                ):
                    continue  # "upward", "PWM", "output_path"
                if word == "pass" and lower[after : after + 1].isalpha():
                    passe = (
                        lower[after : after + 1] == "e"
                        and not lower[after + 1 : after + 2].isalpha()
                    )
                    if not passe and not lower.startswith(_PASS_GOES_ON, after):
                        continue  # "passport", "passenger", "passage": not a password's name
                for span in _value_after(text, lower, at, word, is_password, long_runs):
                    # On past a value found: a stem inside it ("pw:pw:pw...") is not a new key.
                    after = max(after, span.end)
                    yield span


# Prose going on after a value: a space and a lower-case word.
_PROSE_GOES_ON = re.compile(r" [a-zà-ÿ]")


# A value that says where the secret is kept or how it is filled in, not the secret: Ansible
# Vault's tag, a Vault path, an LDAP hash's scheme, Compose's "required" variable
# ("${DB_PASSWORD:?DB_PASSWORD}"), a call ("Column(String(128))"), a secret manager's reference.
# Seventh round: a dev author's devops look-alikes.
# (Exact and case-sensitive: "Vault:Key-2024!", "Love(you)4ever", "?kT9#vLm2Q" and
# "Ref+Table42" are passwords: the review's finding.)
_REFERENCE = re.compile(
    r"!vault\b|vault:(?:secret|kv|[a-z0-9_-]+/)|\{(?:SSHA|SHA|SSHA256|SSHA512|SHA256|SHA512|CRYPT"
    r"|PBKDF2[^}]*|MD5|SMD5|ARGON2[^}]*|BCRYPT)\}|\?[A-Z][A-Z0-9_]+\}?$"
    r"|[A-Za-z_][\w]*\.[\w.]*\(|[A-Za-z_]\w*\([A-Za-z_]\w*\(|arn:aws:secretsmanager"
    r"|projects/[^/\s]+/secrets/|op://|ref\+[a-z]+://|sm://|awssm:|azurekeyvault:|secretRef"
    # A value SOPS has encrypted ("password: ENC[AES256_GCM,data:...]").
    r"|ENC\["
)
_WINDOWS_PATH = re.compile(r"[A-Za-z]:\\|\\")  # a drive's path or a share's, not a password
_NOT_A_KEY_VALUE = re.compile(r"(?i)wpa|wep|psk|tkip|ccmp|\baes\b|-mode|^[a-z]:\\")
_BASE64 = re.compile(r"[A-Za-z0-9+/]{8,}={0,2}")


def _encoded_placeholder(value: str) -> bool:
    """Base64 of a placeholder: a Kubernetes Secret's "Y2hhbmdlbWU=" ("changeme")."""
    if len(value) % 4 or not _BASE64.fullmatch(value):
        return False
    try:
        decoded = base64.b64decode(value, validate=True).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return False
    return PLACEHOLDER.fullmatch(decoded) is not None or dummy(decoded)


def _has_digit(value: str) -> bool:
    return any(c.isdigit() for c in value)


#: How the word for a password goes on after "pass" ("password", "passwd", "Passwort", "passwrd",
#: "PASSW0RD"; and "mot de passe", "palavra-passe").
_PASS_GOES_ON = ("w", "0", "phrase", "code", "key")


#: Short stems that name a secret only as a whole word or identifier part: "pw" is in "upward",
#: "_pat" in "output_path".
_WHOLE_STEMS = frozenset({"pw", "pwd", "psk", "_pat", "appid"})


_HYPHENED = re.compile(r"[a-zà-ÿ]{3,}(?:-[a-zà-ÿ0-9]{2,}){1,4}")
#: Hyphenated words a sentence about a password ends with ("the password is self-explanatory").
_HYPHENED_WORDS = frozenset(
    (
        *("self-explanatory", "out-of-the-box", "single-sign-on", "case-sensitive"),
        *("user-defined", "auto-generated", "system-generated", "machine-generated"),
        *("password-protected", "end-to-end", "state-of-the-art", "nicht-öffentlich"),
    )
)
_CLAUSE_END = re.compile(r"[ \t]*(?:$|\r?\n|[.,;!)\u2014\u2013] ?)")


def _field_of_its_own(text: str, lower: str, at: int, start: int, end: int, value: str) -> bool:
    """Whether a value in one class of character is a form's field: the word for a password
    starts its line (after a list's mark), a colon follows it, the value ends the line."""
    line_start = lower.rfind("\n", max(0, at - 40), at) + 1
    if line_start == 0 and at > 40:
        return False  # no line starts within reach: no form's field
    label = lower[line_start:start]
    return (
        len(value) >= 5
        and _LABEL_LINE.fullmatch(label) is not None
        and _LINE_END.match(text, end) is not None
        and value.lower() not in _STATUS_WORDS
        and value.isalpha()  # not a mask ("••••••••"), digits are read apart
        and not value.isupper()  # where it is kept ("Password: KEEPASSXC"), a status ("NONE")
    )


_LABEL_LINE = re.compile(r"[ \t]*(?:[-*\u2022][ \t]*)?[\w -]{0,20}:[ \t]*")
_LINE_END = re.compile(r"[ \t]*(?:\r?\n|$)")
#: What a form says in a password's field instead of one.
_STATUS_WORDS = frozenset(
    (
        *("required", "optional", "hidden", "unchanged", "same", "empty", "expired", "reset"),
        *("changed", "string", "secret", "password", "masked", "redacted", "protected"),
        *("encrypted", "default", "blank", "missing", "invalid", "incorrect", "wrong"),
        *("forgotten", "locked", "disabled", "enabled", "pending", "unknown", "unset"),
        *("requis", "obligatoire", "identique", "inchangé", "inchange", "masqué", "caché"),
        *("erforderlich", "pflicht", "pflichtfeld", "gleich", "geändert", "versteckt"),
        *("requerido", "obligatorio", "igual", "oculto", "obrigatório", "obrigatorio"),
        *("obbligatorio", "uguale", "nascosto", "sconosciuto", "desconocido", "desconhecido"),
        *("vide", "leer", "vacío", "vazio", "vuoto", "expiré", "abgelaufen", "caducado"),
        *("expirado", "scaduto", "temporary", "temporaire", "provisoire", "temporal"),
        *("keepass", "keepassxc", "bitwarden", "lastpass", "vault", "dashlane", "enpass"),
        *("vergessen", "oublié", "oublie", "olvidada", "olvidado", "esquecida", "dimenticata"),
        *("expires", "expiring", "resetting", "tomorrow", "today", "soon", "later", "none"),
        *("demain", "morgen", "heute", "mañana", "amanhã", "domani", "changed", "updated"),
    )
)


def _value_after(
    text: str, lower: str, at: int, word: str, is_password: bool, long_runs: bool = True
) -> Iterator[Span]:
    after = at + len(word)
    # The structure is matched on the lower-cased text (same offsets; IGNORECASE is slow on the
    # non-ASCII copulas), the value read from the original.
    m = _BEARER.match(text, after) if word == "bearer" else _ASSIGNMENT.match(lower, after)
    if (
        m
        and _CLOSES_TAG.search(lower, after, m.start("value"))
        and not _TAG_NAME.search(lower, 0, at)
    ):
        m = None  # an element's text is its value only when the word names the element
    told = False
    if not m and "\n" in text[after : after + 80]:
        below = _next_line(text, lower, at, after, is_password)
        if below:
            yield below
            return
    if not m and not is_password:
        # A key or token told in a sentence ("la clé c'est f40v__...", "o token da API da loja
        # é ...", "API token for the release job: ..."): the word whole (not "keyboard",
        # "monkey", "author"), and a long random value that is not a hash named as one.
        if not long_runs or lower[at - 1 : at].isalpha() or lower[after : after + 1].isalpha():
            return  # no run of 16 token characters anywhere: no random token to tell
        if not LONG_TOKEN.search(text, after, after + 90):
            return  # no value long enough near: the two patterns below cost ~10 us each
        found = TOLD_SECRET.match(text, after) or DIRECT_SECRET.match(text, after)
        if found and random_token(found.group("value")):
            if HASH_WORDS.search(lower, max(0, found.start("value") - 40), found.start("value")):
                return
            yield Span("generic_secret", found.start("value"), found.end("value"), 0.85)
        return
    if not m and is_password:
        # The whole word around the stem ("palavra-passe", "mot de passe"), not "passport".
        whole = next(
            (w for w in _TOLD_WORDS.finditer(lower, max(0, at - 12), at + 16) if w.start() <= at),
            None,
        )
        if whole is None or whole.end() < after:
            return
        if text[whole.start() : whole.end()] == "MDP":
            return  # a Markov decision process ("We solve the MDP FrozenLake-v1")
        m, told = _TOLD.match(lower, whole.end()), True
        if not m:
            # Given right after the word, or after one word for it ("la contraseña temporal
            # Temp-4821-Xv"): only a value with letters, digits and symbols.
            found = _DIRECT.match(text, whole.end())
            if (
                found
                and (
                    _strong(found.group("value"))
                    # "mot de passe provisoire Bulletin#Mars": after a word that says it is one,
                    # capitals, small letters and a symbol are enough.
                    or (found.group("kind") and _strong_word(found.group("value")))
                )
                and (found.group("kind") or classes(found.group("value")) == 4)
                and not _about_passwords(lower, whole.start())
            ):
                yield Span("password", found.start("value"), found.end("value"), 0.85)
                return
            # A plainer one right after the word itself ("wifi pw flatwhite4all", "senha
            # sardinha-farol-612"): letters, a lower-case one, and a digit.
            if (
                found
                and not found.group("kind")
                and _plain(found.group("value"))
                and not _about_passwords(lower, whole.start())
            ):
                yield Span("password", found.start("value"), found.end("value"), 0.75)
                return
            # Or told further on, past the end of a sentence ("la contraseña como me dijiste.
            # Ahora es ..."): after a copula, a value with all four kinds of character.
            found = _FAR.match(lower, whole.end())
            value = text[found.start("value") : found.end("value")] if found else ""
            if found and _strong(value) and classes(value) == 4:
                yield Span("password", found.start("value"), found.end("value"), 0.85)
            return
    if not m:
        return
    start = m.start("value")
    value = text[start : m.end("value")].split("</", 1)[0]  # an element's end
    if value.endswith("\\") and text[m.end("value") : m.end("value") + 1] in ('"', "'"):
        value = value[:-1]  # a quote escaped in a JSON string: '\\"password\\":\\"...\\"'

    # A full stop ends a sentence, not a quoted value ("smtp_password='Orchard1989.'").
    quoted = text[m.end("value") : m.end("value") + 1] in ("'", '"', "`")
    kept = quoted and value.endswith(".") and value[-2:-1].isalnum()
    value = value if kept else value.rstrip(".)]}>")
    end = start + len(value)
    if len(value) < 6 or PLACEHOLDER.fullmatch(value) or dummy(value):
        return
    if "idempot" in lower[max(0, at - 12) : m.start("value")]:
        return  # an idempotency key names a request, not a secret ("idempotency_key=<uuid>")
    if "hint" in lower[after : m.start("value")]:
        return  # "wifi_psk_hint: ...": a hint, not the key
    if _WINDOWS_PATH.match(value) or (word in ("psk", "pwd") and _NOT_A_KEY_VALUE.search(value)):
        return  # a path ("C:\\Users\\bob\\pw.txt"), "wpa-psk: WPA2-PSK", "psk-mode: aggressive"
    if _REFERENCE.match(value) or _encoded_placeholder(value):
        return  # where the secret is kept, or a placeholder in base64 ("Y2hhbmdlbWU=")
    if value.startswith("eyJ") and not jwt_header_ok(value):
        return  # an unsigned or sample JWT (see ``jwt_header_ok``)
    if _NAMES_ONE.fullmatch(value) or _HASH_NAMES.match(value) or "hash" in lower[after:start]:
        return  # another setting's name ("passwordKey: postgres-password", "var.db_password")
        # or a hash stored under the name ("clave_hash = 'pbkdf2_sha256$600000$...'")
    if is_password:
        preposition = m.group("preposition") is not None if told else False
        if _digits_password(value):
            # Digits only after the word itself, told or assigned ("Passwort: 135969"), not
            # after a setting named with it ("PASSWORD_RESET_TIMEOUT = 259200"), a pass
            # ("Boarding pass: 58213467") or a preposition.
            name = lower[max(0, at - 12) : m.start("value")]
            if not preposition and _DIGITS_NAMED.search(name):
                yield Span("password", start, end, 0.8)
            return
        if told and not _told_value(value, preposition):
            # Words joined by hyphens, ending the clause ("Kennwort Fritzbox: dachboden-muehle",
            # ninth round); "mot de passe : rendez-vous sur le portail" goes on as prose.
            hyphened = (
                len(value) >= 12
                and _HYPHENED.fullmatch(value) is not None
                and value.lower() not in _HYPHENED_WORDS
            )
            if preposition or not (hyphened and _CLAUSE_END.match(text, end)):
                return
        if value.startswith(("/", "~/", "./", "../")) or "://" in value:
            return  # "pwd = /home/user": a path
        if len(value) > 128:
            return  # an encrypted blob (a sealed secret's "encryptedData"), no one's password
        if _PROSE_GOES_ON.match(text, end) and value == value.lower() and not _has_digit(value):
            return  # "mot de passe : rendez-vous sur le portail": a word that prose goes on from
        if classes(value) >= 2:
            yield Span("password", start, end, 0.85)
        elif _field_of_its_own(text, lower, at, start, end, value):
            # One word after a line's "Password:" label, alone to its line's end: "Username:
            # oakhill4\nPassword: tadpoles" (ninth round), not a status ("Password: required").
            yield Span("password", start, end, 0.75)
        return
    if re.fullmatch(r"[A-Za-z0-9/+]{40}", value) and (
        "aws" in lower[max(0, at - 24) : at] or "access" in lower[at:after] + m.group()
    ):
        yield Span("aws_secret_access_key", start, end, 0.95)
    elif high_entropy(value) and not text_in_hex(value):
        yield Span("generic_secret", start, end, 0.9 if entropy(value) >= 4.0 else 0.8)
    elif (
        word == "secret"
        and not lower[after : after + 1].isalpha()  # "secret" itself, not "secretName"
        and len(value) >= 12
        and cased(value)
        and classes(value) >= 3
        and _has_digit(value)
    ):
        # Shorter after "secret" itself ("enable secret: W_OxHX0tYFATmS"): what follows the
        # word and its colon is the secret, when it has the classes of a chosen one.
        yield Span("generic_secret", start, end, 0.8)
