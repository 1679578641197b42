"""Random tokens: what a machine writes and a person pastes as a key, a token or a signing
secret. Used by :mod:`.secrets` after a word for a key, and on its own for a token on a line
that names one."""

from __future__ import annotations

import base64
import binascii
import bisect
import re
from collections.abc import Iterator
from itertools import pairwise

from llmops_guardrails.detectors.secrets_values import HEX, Span, entropy, mixed

LONG_TOKEN = re.compile(r"[A-Za-z0-9_+/=:-]{20}")
# A hash or a commit named near a hex value: not a secret.
HASH_WORDS = re.compile(
    r"commit|sha|hash|checksum|md5|digest|fingerprint|etag|revision|argon2|bcrypt|scrypt|pbkdf2"
)
TOLD_SECRET = re.compile(
    r"[^\n]{0,60}?(?:[:=]|\b(?:is|es|é|est|ist|c'est|lautet|sind|here|hier|aquí|aqui|ici|qui)\b:?"
    r"|\b(?:den|der|die|el|la|le|il|o|a|the|new|nouvelle|nueva|nova|neue|nuova)\b)"
    r"[ \t]{1,3}[\"'`]?(?P<value>[A-Za-z0-9_+/=:-]{20,200}?)[\"'`.,;)]?(?![^\s\"'`,;])"
)


# Or right after the word: "über den Schlüssel RreTDX...", "nouvelle clé 24d2bd...".
DIRECT_SECRET = re.compile(r"[ \t]{1,2}[\"'`]?(?P<value>[A-Za-z0-9_+/=-]{20,200})(?![^\s\"'`,;.])")


LETTER_RUN = re.compile(r"[A-Za-z]{13,}")


def word_run(value: str) -> bool:
    """Whether ``value`` has a run of 13 letters that reads as words: one case, or capitals at
    the words' starts ("TransformerEncoderLayer"). A random token's letters change case at
    every other one ("epWgPoikNmzcedQgk", "DwRnEgmPYrezHXP"): a third of the letters or more
    start a change of case."""
    for m in LETTER_RUN.finditer(value):
        run = m.group()
        changes = sum(a.isupper() != b.isupper() for a, b in pairwise(run))
        if changes and changes * 3 < len(run):
            return True
        # Random letters have few vowels, a fifth ("KBXHFDEOOYMPV": 3 of 13, "DwRnEgmPYrezHXP":
        # 2 of 15), and split where their case changes into pieces of a letter or two; words
        # have a third or more, in pieces of three letters or more, even short ones run together
        # whose case changes as often ("validateAndDecodeJwtV3": 8 of 21, in "validate", "And",
        # "Decode", "Jwt", "V"; "CONFIGURATION": 6 of 13).
        vowels = sum(c in "aeiouAEIOU" for c in run)
        pieces = len(CAMEL_PIECE.findall(run))
        if vowels * 100 >= 26 * len(run) and len(run) >= 3 * pieces:
            return True
    return False


#: The pieces a camel-case name splits into where its case changes ("validate", "And", "Jwt").
CAMEL_PIECE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


def random_token(value: str) -> bool:
    """A long token that only a machine writes: 20+ characters, letters of both cases and
    digits, or 32+ hex digits; high entropy either way. Not a fingerprint ("SHA256:5rrWf...",
    a host key's public hash)."""
    if value.upper().startswith(("SHA256:", "SHA1:", "MD5:", "SHA512:")):
        return False
    if value.startswith("/") or "//" in value or re.search(r":(?![a-z]{1,3}$)", value):
        return False  # a path or a URL ("dpl_...:fx", DeepL's suffix, is a key)
    if word_run(value) or _words(value):
        return False  # an identifier made of words ("TransformerEncoderLayer2D_withAttention")
    if LETTER_RUN.search(value) and _text_in_base64(value.rstrip("=")):
        return False  # base64 of prose: its letters change case as a random token's do
    if len(value) >= 32 and all(c in HEX for c in value):
        return entropy(value) >= 3.0
    return len(value) >= 20 and mixed(value) and entropy(value) >= 3.8


# A token on a line that names a key, a token or a signature, not right after the word: "Clé API
# interne « catalogue » trouvée dans le dépôt public : cat_epWg...", "applicationKey K005zb...",
# "Authorization: SSWS 00ksBAvb...", "PSK: P5soz...", a recovery code. Fourth-round authors: 18
# of their generic secrets were missed so. The token is random by its shape (see ``_random``),
# the line (or the line before, for a token on its own line) has a word for a secret, and no
# word for a hash.
# A run of token characters; what is around it is checked apart (a look-behind made the
# pattern twice as slow).
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")
_TOKEN_REST = re.compile(r"(?:\.[A-Za-z0-9_-]{6,128}){1,2}(?![\w.])|:fx(?![\w])")
_NOT_BEFORE = frozenset("/+.@:$")  # "$": a shell variable's name, a crypt hash's field
_NOT_AFTER = frozenset("/+=@")
_SECRET_LINE = re.compile(
    r"key|token|secret|auth|api|credential|signature|signing|hmac|psk|pass|clé|clave|chiave"
    r"|schlüssel|chave|cookie|session|bearer|ssws|private|firma|assinatura|signatur|recovery"
    r"|récupération|recuperação|recuperación|wiederherstellung|2fa|totp|otp|mfa|backup code"
    r"|webhook|shared|partagé|compartid|geheim"
)
# The words that name a key itself, for a token in hex.
_KEY_LINE = re.compile(
    r"key|secret|signing|signature|hmac|clé|clave|chiave|schlüssel|chave|firma|assinatura|signatur"
)
# An identifier's prefix: "cat_", "ce_prod_", "lo_".
_PREFIX = re.compile(r"(?:[a-z]{2,8}_){1,2}")


def _random(token: str) -> bool:
    """Random by shape: letters of both cases and digits (entropy 3.8 and more), or after a
    prefix lower-case letters and digits or hex (a quarter digits at least), or a 16-to-40
    character run of capitals and digits (a TOTP seed, a SASL key); never a run of 13 letters,
    a UUID, words joined ("node-cache-Linux-npm-8f1c"), a public key's or a wallet's start
    ("AAAAC3Nz", "0x7a3F", a PDF's "JVBERi"), or base64 of text ("eyJvcmRlcl9pZCI6..." is JSON).
    The cheap tests first: most long runs in a prompt are ids and words."""
    if _UUID.fullmatch(token) or token.startswith(("AAAA", "0x", "JVBER")):
        return False
    prefix = _PREFIX.match(token)
    body = token[prefix.end() :] if prefix else token
    digits = len(body) - len(body.translate(_NO_DIGITS))
    if not digits or word_run(token) or _words(token):
        return False
    if len(body) >= 20 and not body.islower() and not body.isupper():
        random = mixed(body) and entropy(body) >= 3.8
    elif len(token) >= 48 and all(c in HEX for c in token):
        # A signing or webhook key in hex (48, 64 digits and more: not a trace or request id's
        # 32, nor a commit's 40) on a line that names one (the caller checks the word).
        random = entropy(token) >= 3.0 and not text_in_hex(token)
    elif prefix and len(body) >= 24 and body.islower() and digits * 4 >= len(body):
        random = entropy(body) >= 3.5
    else:
        plain = body.replace("-", "")
        upper = plain.isupper() and plain.isalnum() and 16 <= len(plain) <= 40
        random = upper and 2 <= digits <= len(plain) - 6 and entropy(plain) >= 3.5
    return random and not _text_in_base64(token)


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_NO_DIGITS = str.maketrans("", "", "0123456789")


def _words(token: str) -> bool:
    """Whether ``token`` is words joined by "_" or "-" with short parts between."""
    parts = re.split(r"[_-]", token)
    words = [p for p in parts if len(p) >= 2 and p.isalpha()]
    return len(words) >= 2 and max((len(p) for p in parts if p not in words), default=0) < 12


def text_in_hex(token: str) -> bool:
    """Whether ``token`` is hex of printable text ("6d7565737472612074..."): a payload, not a key."""
    if len(token) < 16 or any(c not in HEX for c in token):
        return False
    raw = bytes.fromhex(token[: len(token) // 2 * 2])
    return sum(32 <= b < 127 for b in raw) >= 0.9 * len(raw)


def _text_in_base64(token: str) -> bool:
    """Whether ``token`` decodes from base64 to printable text (an encoded payload, not a key)."""
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return False
    if len(raw) < 8:
        return False
    try:  # text in any language: "VHJhZHV6YSBwYXJh..." is Portuguese, accents and all
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    printable = sum(c.isprintable() or c in "\t\n\r" for c in decoded)
    return printable >= 0.9 * len(decoded)


# A chat line's speaker before a token given in reply, a word of giving after it or not:
# "Julien: ", "[10:16] Paolo: nuova: ", "Chiara: eccola ", "- Anna: here you go: ".
_SPEAKER = re.compile(
    r"[ \t>*-]*(?:\[[^\]\n]{1,24}\][ \t]*)?[^\W\d_][^\W\d_ .'-]*(?:[ .'-]{1,2}[^\W\d_]+){0,3}"
    r"[ \t]*:[ \t]*(?:[^\W\d_]+(?: [^\W\d_]+){0,2}[ \t]*[:,!\u2014-]?[ \t]*)?"
)


# A field's label before a token, the secret's name on a line above ("stripe:\n  live:\n
# value: ..."); a label for an identifier is none ("client_id:", "ACCOUNT_SID=", "request-id").
_LABEL = re.compile(r"[ \t\"'-]*[\w .-]{1,30}[\"']?[ \t]*[:=][ \t]*[\"']?")
_ID_LABEL = re.compile(
    r"id\b|_id|sid|org|account|user|request|trace|hash|digest|fingerprint|uuid|name|host|url"
    r"|domain|region|bucket|project|tenant|public|publishable|\bpk\b|commit|sha|checksum|etag"
)


def _given_here(context: str) -> bool:
    """Whether the words before a token on its line only give it: a chat's speaker, or a field's
    label that names no identifier."""
    if _SPEAKER.fullmatch(context):
        return True
    return _LABEL.fullmatch(context) is not None and not _ID_LABEL.search(context)


def _pem_blocks(lower: str) -> list[tuple[int, int]]:
    """Where each PEM block ("-----BEGIN ..." to the next "-----END") starts and ends, sorted;
    one pass for the begins and one for the ends (a search from each begin was quadratic in a
    text of begins with no end)."""
    if "-----begin" not in lower:
        return []
    ends = [m.start() for m in _PEM_END.finditer(lower)]
    blocks = []
    for m in _PEM_BEGIN.finditer(lower):
        i = bisect.bisect_left(ends, m.start())
        blocks.append((m.start(), ends[i] if i < len(ends) else len(lower)))
    return blocks


_PEM_BEGIN = re.compile(r"-----begin")
_PEM_END = re.compile(r"-----end")


def _in_block(blocks: list[tuple[int, int]], at: int) -> bool:
    i = bisect.bisect_right(blocks, (at, 1 << 62)) - 1
    return i >= 0 and blocks[i][0] <= at < blocks[i][1]


def _unnamed_secret(token: str, context: str, blocks: list[tuple[int, int]], at: int) -> bool:
    """A random token of 24 characters or more with no word for a secret near it: as
    detect-secrets' high-entropy plugins report one, without a keyword. Not hex (hashes, ids),
    not an identifier under its label ("client_id=", "sid=", "ID:", "id ="), not a publishable
    key ("pk_live_"), not a line of a PEM block (certificates and public keys are public), not
    a piece of base64 of text."""
    if len(token) < 24 or all(c in HEX for c in token) or token.startswith(_PUBLIC_PREFIXES):
        return False
    if (token.startswith("Qm") and len(token) == 46) or (
        token.startswith("PL") and len(token) == 34
    ):
        return False  # an IPFS content id, a YouTube playlist
    if _ID_BEFORE.search(context[-40:]):
        return False
    if _in_block(blocks, at):
        return False
    # A piece cut anywhere from base64 of text decodes to text from one of four offsets.
    pieces = (token[k:][: (len(token) - k) // 4 * 4] for k in range(4))
    return not any(_text_in_base64(piece) for piece in pieces)


#: Publishable keys and payment objects' ids (Stripe's charges, customers, intents, events...).
_PUBLIC_PREFIXES = (
    *("pk_", "ch_", "cus_", "pi_", "pm_", "in_", "evt_", "sub_", "prod_", "price_", "txn_"),
    *("po_", "re_", "acct_", "seti_", "cs_", "tok_", "src_", "card_", "ba_", "py_"),
)
# A label for an identifier right before a token: "client_id: ", "sid=", "ID: ", 'id = "'.
_ID_BEFORE = re.compile(
    r"(?:\bid|_id|-id|\bsid|(?:\b|_)org|account|invoice|verification|transa[cç][aã]o|transaction"
    r"|reference|ref|order|tracking|session_?id|request|trace|wallet|destin\w*|address|adresse"
    r"|span|playlist|video|showcase|cid|ipfs|hash|charge|customer|event"
    r"|endereço|direcci[oó]n)[\w ]{0,12}[\"']?[ \t]*[:=]?[ \t]*[\"']?$"
)


def line_tokens(text: str, lower: str) -> Iterator[Span]:
    """Random tokens on a line that names a secret (see ``_TOKEN``); the caller checks that the
    text has a run of 16 token characters at all."""
    if len(lower) != len(text):
        return
    blocks: list[tuple[int, int]] | None = None  # the PEM blocks, found when first needed
    for m in _TOKEN.finditer(text):
        token = m.group()
        before = text[m.start() - 1 : m.start()] if m.start() else ""
        after = text[m.end() : m.end() + 1]
        if before in _NOT_BEFORE or after in _NOT_AFTER or after.isalnum() or before.isalnum():
            continue  # part of a path, an address, base64 or a longer run
        if not token[0].isalnum() or not _random(token):
            continue
        line_start = lower.rfind("\n", 0, m.start()) + 1
        context = lower[line_start : m.start()]
        if not context.strip():
            # A token on its own line: the words before it, over blank lines.
            context = lower[max(0, m.start() - 160) : m.start()].rstrip()
            context = context[context.rfind("\n") + 1 :]
        context = context[-160:]
        if not _SECRET_LINE.search(context) and line_start and _given_here(context):
            # A token given in reply, the key named by the lines above it ("Camille: tu peux me
            # passer la clé API ?\nJulien: QZmFPeD2jJn2..."): two lines up (ninth round).
            above = lower.rfind("\n", 0, max(0, lower.rfind("\n", 0, line_start - 1)))
            context = lower[max(above + 1, line_start - 240) : m.start()]
        if HASH_WORDS.search(context[-60:]):
            continue
        if not _SECRET_LINE.search(context):
            if blocks is None:
                blocks = _pem_blocks(lower)
            if _unnamed_secret(token, context, blocks, m.start()):
                yield Span("generic_secret", m.start(), m.end(), 0.6)
            continue
        if all(c in HEX for c in token) and not _KEY_LINE.search(context):
            continue  # hex on a line about an API or a login: an id, an image, not a key
        if "pgp signature" in context or "-----begin pgp" in context:
            continue  # an armoured signature or public key: public, and random by nature
        # The rest of a token of dotted parts (a Discord bot's "MTE...xMKU.t0APVH.jeUV...") or
        # DeepL's ":fx" suffix is the token too.
        rest = _TOKEN_REST.match(text, m.end())
        yield Span("generic_secret", m.start(), rest.end() if rest else m.end(), 0.7)
