"""Secrets: provider API keys and tokens, private keys, JWTs, and passwords or high-entropy values
assigned to a secret-sounding name.

Why not ``detect-secrets``: its plugins were measured on this machine (detect-secrets 1.5.0,
Python 3.11) and rejected for the hot path. Scanning a 1 KB prompt through ``scan_line`` with
the default plugins took about 6,100 µs (the budget for the whole input policy is under 1,000),
and even its 46 plugin regexes run directly cost about 930 µs per KB; importing it takes about
235 ms and pulls in ``requests`` (for its optional verification calls to providers, which must
never run here). Its findings carry no character offsets, which redaction needs, and several
of its patterns are stale (the OpenAI key pattern requires the legacy ``T3BlbkFJ`` marker, so
``sk-proj-`` keys are missed; no Anthropic, Hugging Face or GitHub fine-grained tokens). The
provider formats below follow the providers' documentation and detect-secrets' and gitleaks'
public rule sets, rewritten compactly.

How it stays fast and linear: every provider pattern starts with a literal prefix, which the
regex engine finds with a fast substring search, and runs only when a plain ``in`` test shows
its prefix in the text at all. Passwords and generic secrets are found from each occurrence of
a keyword (``password``, ``token``, ``secret`` ...) in the lower-cased text with one anchored
match after it, never by a pattern that has to be tried at every position. All repetitions are
bounded.

Scores: 0.99 for formats with a provider prefix and a fixed structure (a ``ghp_`` token, a PEM
block, a JWT whose header decodes), 0.9-0.95 where the prefix is shorter or the shape looser;
assigned values 0.85 (a password: two or more character classes) to 0.9 (high entropy).
Values that are obviously placeholders (``****``, ``<token>``, ``${API_KEY}``, ``changeme``,
``os.environ[...]``) are not reported.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import re
from collections.abc import Callable, Iterator
from typing import NamedTuple

from llmops_guardrails.detectors.base import Hit
from llmops_guardrails.detectors.secrets_credentials import (
    aws_pairs,
    combos,
    command_lines,
    filler,
    pairs,
    table_cells,
    url_passwords,
)
from llmops_guardrails.detectors.secrets_shapes import passphrases, shaped, wifi
from llmops_guardrails.detectors.secrets_tokens import (
    DIRECT_SECRET,
    HASH_WORDS,
    LONG_TOKEN,
    TOLD_SECRET,
    line_tokens,
    random_token,
)
from llmops_guardrails.detectors.secrets_values import (
    PLACEHOLDER,
    Span,
    cased,
    classes,
    dummy,
    entropy,
    high_entropy,
    mixed,
    rule_like,
    same_length_lower,
)

__all__ = ["DEFAULT_THRESHOLD", "NAME", "VERSION", "SecretsDetector", "entropy"]

NAME = "secrets"
VERSION = "secrets-4"
DEFAULT_THRESHOLD = 0.5


#: jwt.io's sample token (header, payload): the example every tutorial pastes.
_JWT_SAMPLE = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
)


def _jwt_header_ok(token: str) -> bool:
    """A header that decodes to JSON with an algorithm, on a token that is signed (an unsigned
    ``alg: none`` token or one with no signature grants nothing) and not jwt.io's sample."""
    if token.endswith(".") or token.startswith(_JWT_SAMPLE):
        return False
    header = token.split(".", 1)[0]
    try:
        decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return isinstance(decoded, dict) and "alg" in decoded and decoded["alg"] != "none"


class _Rule(NamedTuple):
    kind: str
    #: Literal substrings, one of which must be in the text for the pattern to run (none: the
    #: pattern's own literal prefix is as cheap to search for as several ``in`` tests).
    prefixes: tuple[str, ...]
    pattern: re.Pattern[str]
    score: float
    #: Checks the matched text (without raising); None accepts every match.
    check: Callable[[str], bool] | None = None


_TAIL = r"(?![A-Za-z0-9_-])"
# Provider formats. Each pattern starts with a literal so the engine can jump between candidates.
_RULES: tuple[_Rule, ...] = (
    _Rule(
        "anthropic_api_key",
        ("sk-ant-",),
        re.compile(r"sk-ant-[A-Za-z0-9_-]{32,300}" + _TAIL),
        0.99,
    ),
    _Rule(
        "openai_api_key",
        ("sk-",),
        re.compile(r"sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,300}" + _TAIL),
        0.95,
        lambda v: mixed(v.split("-", 1)[1]),
    ),
    _Rule(
        "aws_access_key_id",
        (),
        # Real ids use base32 (A-Z, 2-7); examples and test data written by hand use any digit.
        re.compile(r"A(?:KIA|SIA|BIA|CCA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
        0.95,
    ),
    _Rule(
        "github_token",
        (),
        re.compile(r"gh[pousr]_[A-Za-z0-9]{36,251}" + _TAIL),
        0.99,
    ),
    _Rule(
        "github_token",
        ("github_pat_",),
        re.compile(r"github_pat_[A-Za-z0-9_]{22,244}" + _TAIL),
        0.99,
    ),
    _Rule(
        "gitlab_token",
        ("glpat-",),
        re.compile(r"glpat-[A-Za-z0-9_-]{20,64}" + _TAIL),
        0.99,
    ),
    _Rule(
        "slack_token",
        ("xox",),
        re.compile(r"xox[abeoprs]-(?:[0-9]{6,16}-){1,3}[A-Za-z0-9-]{8,128}" + _TAIL),
        0.99,
    ),
    _Rule(
        "webhook_url",
        ("/api/webhooks/",),
        re.compile(
            r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{5,30}/[\w-]{20,100}"
        ),
        0.99,
    ),
    _Rule(
        "webhook_url",
        ("hooks.zapier.com/",),
        re.compile(r"https://hooks\.zapier\.com/hooks/catch/\d{3,20}/\w{4,20}/?"),
        0.95,
    ),
    _Rule(
        "webhook_url",
        (".webhook.office.com/",),
        re.compile(r"https://[\w-]{1,63}\.webhook\.office\.com/webhookb2/[\w@/-]{40,400}"),
        0.99,
    ),
    _Rule(
        "slack_webhook",
        ("hooks.slack.com/",),
        re.compile(r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9_/]{20,120}"),
        0.99,
    ),
    _Rule(
        "stripe_key",
        ("_live_", "_test_"),
        re.compile(r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,247}" + _TAIL),
        0.99,
    ),
    _Rule(
        "google_api_key",
        ("AIza",),
        re.compile(r"AIza[0-9A-Za-z_-]{35}" + _TAIL),
        0.95,
    ),
    _Rule(
        "twilio_api_key",
        ("SK",),
        re.compile(r"SK[0-9a-f]{32}(?![A-Za-z0-9])"),
        0.9,
    ),
    _Rule(
        "sendgrid_api_key",
        ("SG.",),
        re.compile(r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}" + _TAIL),
        0.99,
    ),
    _Rule(
        "npm_token",
        ("npm_",),
        re.compile(r"npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])"),
        0.99,
        cased,
    ),
    _Rule(
        "pypi_token",
        ("pypi-Ag",),
        re.compile(r"pypi-Ag[A-Za-z0-9_-]{50,300}" + _TAIL),
        0.99,
    ),
    _Rule(
        "huggingface_token",
        ("hf_",),
        re.compile(r"hf_[A-Za-z0-9]{30,40}(?![A-Za-z0-9])"),
        0.95,
        cased,
    ),
    _Rule(
        "telegram_bot_token",
        (":AA",),
        re.compile(r"(?<![\w:])\d{8,10}:AA[A-Za-z0-9_-]{33}" + _TAIL),
        0.95,
    ),
    _Rule(
        "docker_token",
        ("dckr_",),
        re.compile(r"dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,40}" + _TAIL),
        0.99,
    ),
    _Rule(
        "mailgun_api_key",
        ("key-",),
        re.compile(r"(?<![\w-])key-[0-9a-f]{32}" + _TAIL),
        0.9,
    ),
    _Rule(
        "jwt",
        ("eyJ",),
        re.compile(
            r"eyJ[A-Za-z0-9_-]{6,2000}\.[A-Za-z0-9_-]{2,8000}\.[A-Za-z0-9_-]{0,2000}" + _TAIL
        ),
        0.95,
        _jwt_header_ok,
    ),
)

_TOKEN_CHAR = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
#: Every provider format but the two below is a run of 16 or more token characters (a prefix
#: and a random part of 16 to 300), which one translation and one substring search rule out for
#: most prose at once, instead of a dozen prefix searches and two scans. On the UTF-8 bytes:
#: token characters are ASCII, every byte of any other character is not one, and
#: ``bytes.translate`` stays fast where ``str.translate`` of text that is not ASCII is not.
_TOKEN_CLASS = bytes(ord("t") if chr(i) in _TOKEN_CHAR else ord(" ") for i in range(256))
_TOKEN_RUN = b"t" * 16
#: The formats that need no such run: a JWT's parts may be short, a webhook URL has slashes.
_SHORT_RUNS = tuple(r for r in _RULES if r.kind in {"jwt", "slack_webhook", "webhook_url"})


def _long_runs(text: str) -> bool:
    """Whether ``text`` has a run of 16 or more token characters (see ``_TOKEN_CLASS``)."""
    return _TOKEN_RUN in text.encode("utf-8", "surrogatepass").translate(_TOKEN_CLASS)


def _provider_tokens(text: str, long_runs: bool) -> Iterator[Span]:
    rules = _RULES if long_runs else _SHORT_RUNS
    for rule in rules:
        if rule.prefixes and not any(p in text for p in rule.prefixes):
            continue
        for m in rule.pattern.finditer(text):
            start = m.start()
            if start and text[start - 1] in _TOKEN_CHAR:
                continue  # the middle of a longer token, not a key
            if dummy(m.group()):
                continue
            if rule.check is None or rule.check(m.group()):
                yield Span(rule.kind, start, m.end(), rule.score)


# A Discord bot token: the user id in base64 (24-26 characters, "M", "N" or "O" first), a
# timestamp (6) and an HMAC (27-38), dot-separated. Found from its middle part, which starts
# with a literal dot the engine can jump to; a pattern starting at the id's first letter was
# tried at every M, N and O (20 us per KB of ordinary text).
_DISCORD_TAIL = re.compile(r"\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}(?![A-Za-z0-9_-])")
_DISCORD_ID = re.compile(r"[MNO][A-Za-z0-9_-]{23,25}")


def _discord_tokens(text: str) -> Iterator[Span]:
    for m in _DISCORD_TAIL.finditer(text):
        begin = m.start()
        while begin > 0 and text[begin - 1] in _TOKEN_CHAR and m.start() - begin <= 26:
            begin -= 1
        if text[begin - 1 : begin] in _TOKEN_CHAR or text[begin - 1 : begin] == ".":
            continue  # part of a longer token, or a JWT's or a version's dotted parts
        if not _DISCORD_ID.fullmatch(text, begin, m.start()):
            continue
        token = text[begin : m.end()]
        if cased(token[: m.start() - begin]) and mixed(token):
            yield Span("discord_bot_token", begin, m.end(), 0.9)


_PEM_BEGIN = re.compile(r"-----BEGIN ((?:[A-Z0-9]+ ){0,4})PRIVATE KEY( BLOCK)?-----")
# Whole lines of base64 (and the ``Proc-Type:``/``DEK-Info:`` headers of encrypted keys).
_PEM_BODY = re.compile(
    r"(?:\r?\n(?:[A-Za-z0-9+/=]{1,100}|[A-Za-z-]{1,20}: [^\n]{1,100})(?=\r?\n|$))*"
)
# A line of key material: 16 or more base64 characters.
_KEY_LINE = re.compile(r"[A-Za-z0-9+/=]{16}")
#: A PEM block longer than this is not a key (RSA-16384 is about 12 KB).
_PEM_MAX = 16_384


def _private_keys(text: str) -> Iterator[Span]:
    if "-----BEGIN" not in text:
        return
    for m in _PEM_BEGIN.finditer(text):
        end_marker = f"-----END {m.group(1)}PRIVATE KEY{m.group(2) or ''}-----"
        end = text.find(end_marker, m.end(), m.end() + _PEM_MAX)
        if end != -1:
            if not _KEY_LINE.search(text, m.end(), end):
                continue  # "<your key material here>" between the markers: a template
            yield Span("private_key", m.start(), end + len(end_marker), 0.99)
        else:
            # A truncated block (a paste cut short) still leaks the key material it has: hide the
            # header and the base64 body that follows it.
            body = _PEM_BODY.match(text, m.end(), min(len(text), m.end() + _PEM_MAX))
            yield Span("private_key", m.start(), body.end() if body else m.end(), 0.99)


# --- values assigned to secret-sounding names --------------------------------------------------

#: Keyword stems (lower case) naming a password, and those naming another kind of secret. The
#: identifier may go on after the stem (``pass`` covers ``password``, ``passwd``, ``passphrase``,
#: ``Passwort`` and ``mot de passe``; ``key`` covers ``api_key`` and ``access_key``): fewer
#: substring searches over the text, and the value check decides.
_PASSWORD_WORDS: tuple[str, ...] = (
    "pass",
    "pw",
    "mdp",
    "kennwort",
    "contraseña",
    "senha",
    "clave",
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
    # Azure DevOps and GitHub personal access tokens ("AZDO_PAT: ..."), OpenWeatherMap's key.
    "_pat",
    "appid",
)
# After the keyword: the rest of an identifier (``DB_PASSWORD``, ``secret_access_key``), an
# optional closing quote and bracket (``["PASSWORD"] = ...``), an assignment or a copula, an
# optional opening quote, the value. (An argument's comma, for ``define('DB_PASSWORD', ...)``,
# was tried: quoted field lists, ``["password1", "password2"]``, read as passwords.)
_ASSIGNMENT = re.compile(
    # A numbered key ("Unseal Key 1: ..."), a prompt's default ("AWS Secret Access Key [None]:").
    r"[\w.-]{0,32}(?: \d{1,3}| \[[^\]\n]{0,20}\])?[\"']?\]?[ \t]{0,4}"
    r"(?::=|=>|==|=|:|\bis\b|\best\b|\bist\b|\bes\b|\bé\b|\bwas\b|\blautet\b)"
    r"[ \t]{0,4}[\"'`]?(?:(?:bearer|basic)[ \t]{1,4})?[\"'`]?"
    r"(?P<value>[^\s\"'`,;]{6,256})"
)
# A password told in a sentence: "I changed my password yesterday to Hamburg#Hafen77", "mot de
# passe du compte c'est ...", "la contraseña que puse fue ...": the whole word for it, up to four
# words, then a copula, a colon or a preposition, then the value (independent authors' PII
# rows: 12 of 19 passwords were told so and missed). Held to more than an assignment (see
# ``_told_value``): "pass the callback to on_change" and "the password to Outlook" are not.
_TOLD_WORDS = re.compile(
    r"(?<![\w])(?:password|\w{0,12}passwort|passwd|passphrase|passcode|\w{0,12}kennwort"
    r"|mot de passe|contraseña|senha|palavra-passe|pwd?|mdp|requirepass)(?![\w])"
)
_TOLD = re.compile(
    r"(?:[ \t,]{1,4}[\w'\u2019-]{1,20}){0,6}?"
    r"(?:[ \t,]{1,4}(?P<copula>is|was|c'est|c\u2019est|c'était|c\u2019était|est|etait|était|ist"
    r"|war|lautet|es|era|fue|é|foi)|[ \t,]{1,4}(?P<preposition>to|auf|pour|para)|[ \t]{0,2}:)"
    r"[ \t:]{1,4}[\"'`«„“]?(?P<value>[^\s\"'`,;«»“”]{6,64})"
)


# An address in a value ("to jane@example.com"); "ubatuba@2024" is a password.
_EMAIL_LIKE = re.compile(r"@[\w-]+\.[A-Za-z]")


_DIRECT = re.compile(
    r"(?:[ \t]{1,2}(?P<kind>temporal|temporaire|temporary|temporär|temporanea|provisória"
    r"|provisoria|provisoire|new|nueva|nouveau|neue|neues|nova|nuova|actual|current|initial"
    r"|inicial))?"
    r"[ \t]{1,2}[\"'`]?(?P<value>[^\s\"'`,;]{8,64}?)[.)]?(?![^\s\"'`,;])"
)


# Words before the word for a password that make the sentence about passwords, not one:
# "Reset password Link-2024!", "forgot your password".
_ABOUT_PASSWORDS = re.compile(r"reset|forgot|change|update|policy|expired|rules|strong|weak")
_FAR = re.compile(
    r"[^\n]{0,100}?(?<![\w'\u2019])(?:is|es|é|est|ist|c'est|c\u2019est|era|was|war|fue|foi|lautet)"
    r"[ \t:]{1,3}[\"'`«„“]?(?P<value>[^\s\"'`,;«»“”]{8,64}?)[.)!]?(?![^\s\"'`,;«»“”])"
)


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


_BEARER = re.compile(r"[ \t]{1,4}(?P<value>[A-Za-z0-9._~+/-]{16,2048}=*)")


def _assigned(text: str, lower: str, long_runs: bool = True) -> Iterator[Span]:
    if len(lower) != len(text):
        return  # a character whose lower case is longer (U+0130): offsets would not line up
    for words, is_password in ((_PASSWORD_WORDS, True), (_SECRET_WORDS, False)):
        for word in words:
            at = lower.find(word)
            while at != -1:
                if word in _WHOLE_STEMS and (
                    (word[0] != "_" and lower[at - 1 : at].isalpha())
                    or lower[at + len(word) : at + len(word) + 1].isalpha()
                ):
                    at = lower.find(word, at + len(word))
                    continue  # "upward", "PWM", "output_path"
                end = at + len(word)
                if word == "pass" and lower[end : end + 1].isalpha():
                    passe = lower[end : end + 1] == "e" and not lower[end + 1 : end + 2].isalpha()
                    if not passe and not lower.startswith(_PASS_GOES_ON, end):
                        at = lower.find(word, end)
                        continue  # "passport", "passenger", "passage": not a password's name
                for span in _value_after(text, lower, at, word, is_password, long_runs):
                    end = max(end, span.end)
                    yield span
                # On past a value found: a stem inside it ("pw:pw:pw...") is not a new key.
                at = lower.find(word, end)


# Prose going on after a value: a space and a lower-case word.
_PROSE_GOES_ON = re.compile(r" [a-zà-ÿ]")


def _has_digit(value: str) -> bool:
    return any(c.isdigit() for c in value)


#: How the word for a password goes on after "pass" ("password", "passwd", "Passwort", "passwrd",
#: "PASSW0RD"; and "mot de passe", "palavra-passe").
_PASS_GOES_ON = ("w", "0", "phrase", "code", "key")


#: Short stems that name a secret only as a whole word or identifier part: "pw" is in "upward",
#: "_pat" in "output_path".
_WHOLE_STEMS = frozenset({"pw", "_pat", "appid"})


def _value_after(
    text: str, lower: str, at: int, word: str, is_password: bool, long_runs: bool = True
) -> Iterator[Span]:
    after = at + len(word)
    # The structure is matched on the lower-cased text (same offsets; IGNORECASE is slow on the
    # non-ASCII copulas), the value read from the original.
    m = _BEARER.match(text, after) if word == "bearer" else _ASSIGNMENT.match(lower, after)
    told = False
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
                and _strong(found.group("value"))
                and (found.group("kind") or classes(found.group("value")) == 4)
                and not _ABOUT_PASSWORDS.search(lower, max(0, whole.start() - 16), whole.start())
            ):
                yield Span("password", found.start("value"), found.end("value"), 0.85)
                return
            # A plainer one right after the word itself ("wifi pw flatwhite4all", "senha
            # sardinha-farol-612"): letters, a lower-case one, and a digit.
            if (
                found
                and not found.group("kind")
                and _plain(found.group("value"))
                and not _ABOUT_PASSWORDS.search(lower, max(0, whole.start() - 16), whole.start())
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
    value = text[start : m.end("value")].rstrip(".)]}>")
    end = start + len(value)
    if len(value) < 6 or PLACEHOLDER.fullmatch(value) or dummy(value):
        return
    if value.startswith("eyJ") and not _jwt_header_ok(value):
        return  # an unsigned or sample JWT (see ``_jwt_header_ok``)
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
            return
        if value.startswith(("/", "~/", "./", "../")) or "://" in value:
            return  # "pwd = /home/user": a path
        if _PROSE_GOES_ON.match(text, end) and value == value.lower() and not _has_digit(value):
            return  # "mot de passe : rendez-vous sur le portail": a word that prose goes on from
        if classes(value) >= 2:
            yield Span("password", start, end, 0.85)
        return
    if re.fullmatch(r"[A-Za-z0-9/+]{40}", value) and (
        "aws" in lower[max(0, at - 24) : at] or "access" in lower[at:after] + m.group()
    ):
        yield Span("aws_secret_access_key", start, end, 0.95)
    elif high_entropy(value):
        yield Span("generic_secret", start, end, 0.9 if entropy(value) >= 4.0 else 0.8)


# --- the detector -----------------------------------------------------------------------------


def _resolve(spans: list[Span]) -> list[Span]:
    """Keep the best of overlapping findings: a provider key beats a generic value it is in."""
    ordered = sorted(spans, key=lambda s: (-s.score, -(s.end - s.start), s.start))
    # Kept spans never overlap, so sorted by start they are sorted by end too: a new span can
    # only overlap its two neighbours in that order (bisect keeps 1 MB inputs linearithmic).
    starts: list[int] = []
    kept: list[Span] = []
    for span in ordered:
        i = bisect.bisect_left(starts, span.start)
        if i < len(kept) and kept[i].start < span.end:
            continue
        if i > 0 and kept[i - 1].end > span.start:
            continue
        starts.insert(i, span.start)
        kept.insert(i, span)
    return kept


class SecretsDetector:
    """Finds credentials; see the module docstring for formats, scores and why not detect-secrets."""

    name = NAME
    version = VERSION

    def detect(self, text: str) -> list[Hit]:
        """Every secret in ``text``, ordered by start offset."""
        lower = same_length_lower(text)
        long_runs = _long_runs(text)
        spans = [
            *_provider_tokens(text, long_runs),
            *_private_keys(text),
            *_assigned(text, lower, long_runs),
        ]
        if "." in text:
            spans.extend(_discord_tokens(text))
        # Each of these needs a marker most prompts lack, tested here before any work (one
        # character first: a search for one is several times faster than for a string).
        if ":" in text and "://" in text:
            spans.extend(url_passwords(text))
        if "@" in text and ":" in text:
            spans.extend(combos(text))
        spans.extend(pairs(text, lower))
        if ("-" in text and ("-p" in text or "--" in text)) or ("(" in text and "define(" in text):
            spans.extend(command_lines(text))
        if any(s.kind == "aws_access_key_id" for s in spans):
            spans.extend(aws_pairs(text))
        if "\n" in text:
            spans.extend(table_cells(text, lower))
        spans.extend(shaped(text, lower))
        if long_runs:
            spans.extend(line_tokens(text, lower))
        if ":" in text and ("fi" in lower or "wlan" in lower or "wpa" in lower):
            spans.extend(wifi(text))
        if "pass" in lower or "senha" in lower or "contraseña" in lower or "kennwort" in lower:
            spans.extend(passphrases(text, lower))
        return [Hit(NAME, s.kind, s.start, s.end, s.score, VERSION) for s in _resolve(spans)]
