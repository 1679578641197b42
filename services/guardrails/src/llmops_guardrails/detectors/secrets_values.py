"""Checks on a candidate secret's value, shared by :mod:`.secrets` and
:mod:`.secrets_credentials`: its kinds of character, its entropy, and whether it is a
placeholder or a documentation example."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections import Counter
from typing import NamedTuple


class Span(NamedTuple):
    kind: str
    start: int
    end: int
    score: float


def mixed(value: str) -> bool:
    """Letters of both cases and a digit: what a random token of 20+ characters always has."""
    return (
        any(c.isdigit() for c in value)
        and any(c.islower() for c in value)
        and any(c.isupper() for c in value)
    )


def cased(value: str) -> bool:
    return any(c.islower() for c in value) and any(c.isupper() for c in value)


_FILL_CHARS = frozenset("xX0*-_")


#: A provider prefix (``ghp_``, ``sk_test_``, ``xoxb-``, ``glpat-``): up to two lettered parts.
_PREFIX = re.compile(r"(?:[A-Za-z]{2,8}[_-]){1,2}|A[KS]IA")


# Two runs of eight filler characters: "hooks.slack.com/services/XXXXXXXXX/XXXXXXXXX/XXXX...".
# (One run alone may sit in a real value; two in one token never do by chance.)
_FILLER_RUNS = re.compile(r"([xX*0])\1{7}.*([xX*0])\2{7}")


def dummy(token: str) -> bool:
    """Whether a token or assigned value is a documentation example or a placeholder: the
    providers' own examples say so (AWS's ``AKIAIOSFODNN7EXAMPLE``), placeholders fill the whole
    random part with filler (``ghp_xxxx...``, ``xoxb-000000000000-...-XXXX``). Independent
    authors' look-alikes: 12 such tokens in .env templates, docs and test fixtures, all flagged
    before."""
    if "EXAMPLE" in token or _FILLER_RUNS.search(token):
        return True
    prefix = _PREFIX.match(token)
    rest = token[prefix.end() :] if prefix else token
    return len(rest) >= 8 and set(rest) <= _FILL_CHARS


PLACEHOLDER = re.compile(
    # A variable: "${DB_PASS}", "$(cat f)", "$DB_PASSWORD2", "$userPass1", "$HOME/.pgpass",
    # "$ENV{DB_PASS}", "$cfg['pw']"; not "$Sardinha39" or "$15gR6!1NJy=", passwords that start
    # with a dollar (a capital, small letters, digits; or a digit).
    # And a hash in crypt's format: "$2a$10$...", "$6$salt$...", "$argon2id$v=19$...".
    r"(?:\$(?:(?:\d[a-z]?|[a-z][a-z0-9-]{1,14})\$.*|[{($.].*|(?-i:[a-z_]\w*|[A-Z_][A-Z0-9_]*"
    r"|[A-Z](?!\w*\d)\w*)(?:(?:->|[.\[:/{]).*)?)"
    r"|\*+|x{3,}|\.{3,}|<[^>]*>?|\{\{.*|\{[\w.]*\}?|%\(.*|\[.*|your[_-].*|change[_-]?me|change[_-]?it|replace[_-]?me|example.*|none"
    r"|null|nil|true|false|undefined|redacted|required|optional|string|secret|password|token"
    r"|pass|passwd|pwd|pw|user"
    r"|motdepasse|mot_de_passe|contrase[ñn]a|senha|passwort|kennwort"
    # "tu_contraseña_aqui", "votre_mot_de_passe_ici", "dein-passwort-hier": a template's blank.
    # Words in small letters or numbers: "TU_GP9C7eq9mrJYq" is a random value that starts like one.
    r"|(?:tu|su|votre|ton|dein|ihr|seu|sua|il_tuo|la_tua|my|the)(?-i:(?:[_-][a-zà-ÿ\d]+)+)"
    r"|.*[_-](?:here|aqui|aquí|ici|hier|qui|aqui)"
    # "CAMBIAR_ESTO", "a_changer", "bitte_aendern", "alterar-isto": change this, in words.
    r"|(?:[a-z]+[_-])?(?:cambiar|changer|aendern|ändern|alterar|mudar|cambiare|remplacer|ersetzen"
    r"|reemplazar|substituir|sostituire)(?:[_-][a-z]+)*"
    r"|(?:os|process|env|config|settings|self|sys|getenv|environ)[.\[(].*|[A-Za-z_][\w.]*\([\w.'\", \[\]]*\)?)",
    re.IGNORECASE,
)


def entropy(value: str) -> float:
    """Shannon entropy of ``value`` in bits per character."""
    if not value:
        return 0.0
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


HEX = frozenset("0123456789abcdefABCDEF")


def high_entropy(value: str) -> bool:
    # Thresholds below detect-secrets' context-free ones (hex 3.0, base64 4.5): a keyword has
    # already said this is a secret, so only ordinary words and repetitive strings are excluded.
    if len(value) < 16:
        return False
    if all(c in HEX for c in value):
        return entropy(value) >= 2.8
    if not any(c.isdigit() for c in value):
        # Letters alone: random ones have few vowels ("XRhKcTQZDKmKIuvM", an Erlang cookie
        # "KMNBEFWRVJCEQTQBDKNN"); words, even run together, have many ("ThisIsMySecretValue").
        letters = [c for c in value if c.isalpha()]
        vowels = sum(c in "aeiouyAEIOUY" for c in letters)
        return len(letters) >= 16 and vowels * 5 < len(letters) and entropy(value) >= 3.3
    return entropy(value) >= 3.5


def classes(value: str) -> int:
    return (
        any(c.islower() for c in value)
        + any(c.isupper() for c in value)
        + any(c.isdigit() for c in value)
        + any(not c.isalnum() for c in value)
    )


# A value that is a rule about passwords, not one: "must-be-8chars+", "at-least-12".
_RULE_START = re.compile(
    r"(?i)(?:must|should|needs?|at|min|minimum|max|maximum|be|has|requires?)\W"
)


def rule_like(value: str) -> bool:
    """Whether ``value`` starts like a rule about passwords."""
    return _RULE_START.match(value) is not None


def same_length_lower(text: str) -> str:
    """``text.lower()`` with the same length, offsets shared: a character whose lower case is
    longer ("İ" -> "i̇") stays as it is (one such character used to turn every rule that needs the
    lower-cased copy off for the whole text)."""
    lower = text.lower()
    if len(lower) == len(text):
        return lower
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


#: jwt.io's sample token (header, payload): the example every tutorial pastes.
_JWT_SAMPLE = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
)


def jwt_header_ok(token: str) -> bool:
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
