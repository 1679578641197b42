"""Codes and passwords given in reply to a question about one: "> what's the pin for the shared
card reader?\n5093. same as the old one", a chat's answer a few lines below its question. Beside
:mod:`.secrets_codes`, whose code shapes and words for what is no lock these share."""

from __future__ import annotations

import re
from collections.abc import Iterator

from llmops_guardrails.detectors.secrets_codes import NOT_LOCKS, code_value
from llmops_guardrails.detectors.secrets_values import PLACEHOLDER, Span, classes, dummy

# A code asked for on one line and given at the start of the next: "> what's the pin for the
# shared card reader in finance?\n5093. same as the old one", "Q: did you change the safe
# combination after Gary left?\nA: yes — 24-08-61.", "Lena: hast du das Kennwort für den
# Laminator-Schrank??\nTobi: Schrank-42". Seventh round: a dev author wrote such exchanges in
# every language; nothing on the answer's line says what it is.
_ASKS_FOR = re.compile(
    r"\bpin\b|combina|kombination|\bcombo\b|passcode|password|passwort|kennwort|mot de passe|\bpwd?\b"
    r"|\bmdp\b|contraseña|senha|\bclave\b|\bchiave\b|digicode"
    # A code, only of something that locks: "Why does this code crash?" asks about a program.
    r"|(?:\bcode\b|\bcódigo\b|\bcodice\b|\bcodigo\b|code\b)(?=.{0,50}(?:\b(?:door|gate|alarm|garage"
    r"|safe|locker|wifi|wi-fi|porte|portail|alarme|garaje|garagem|puerta|portão|portal|portone"
    r"|cancello|alarma|allarme|keller|tor|tür|tresor|coffre|cofre|cassaforte|shed|storage"
    r"|building|immeuble|prédio|edificio|armoire|casier|cacifo|taquilla|armadietto|spind)\w*"
    r"|\w+(?:keller|tür|schloss|raum|tresor|garage)\b))"
    r"|(?:door|gate|alarm|garage|safe|locker|porte|portail|tür|tor|keller|garaje|portão)\w*"
    r".{0,30}\bcode"
)
# What a number given in reply is when a unit follows: bytes, a port's, a time.
_ANSWER_UNITS = re.compile(
    r"[ \t]*(?:bytes?|octets?|bits?|kb|mb|gb|ms|s|sec|seconds?|min|minutes?"
    r"|hours?|h|%|px|rpm|mhz|ghz|€|\$|eur|usd)\b",
    re.IGNORECASE,
)
# Where the answer starts: a quote mark or a dash, "A:", a speaker's name and a colon.
# A chat export's timestamp first: "[03/05/24, 19:05] Pai: 1974 e depois o botão verde".
_ANSWER_START = re.compile(
    r"[ \t>*\u2014\u2013-]*(?:\[[^\]\n]{1,30}\][ \t]*)?"
    r"(?:(?:[ar]|antwort|respuesta|resposta|risposta|réponse)[ \t]*:[ \t]*"
    r"|[A-ZÀ-Þ][\w.-]{0,15}(?: [A-Z]\.)?[ \t]?:[ \t]+)?"
)
_ANSWER_TOKEN = re.compile(r"[^\s,;:?()\[\]\u2014\u2013]+")
# What may follow a password given as an answer: the line's end, a stop, a dash, a smiley.
_ANSWER_ENDS = re.compile(r"[\"'\u00bb\u201d]?[ \t]*(?:$|[,.;)\u2014\u2013-]|[^\w\s]|\r)")


def answers(text: str, lower: str) -> Iterator[Span]:
    at = text.find("?")
    while at != -1:
        line_start = text.rfind("\n", 0, at) + 1
        line_end = text.find("\n", at)
        next_at = text.find("?", line_end) if line_end != -1 else -1
        question = lower[line_start:at]
        asked = text[at + 1 : at + 2] in ("", " ", "\n", "\r", "\t", ")", '"', "'", "*", "?")
        if (
            asked
            and line_end != -1
            and _ASKS_FOR.search(question)
            and not NOT_LOCKS.search(question)
            and "set to" not in question  # "what time is the alarm set to?"
        ):
            # The answer's line, or one of the next three in a chat ("[10:32] Max: klar\n[10:32]
            # Max: Brezel.Liebe.2024": eighth round).
            end = line_end
            for _ in range(_ANSWER_LINES):
                start = end + 1
                if start >= len(text):
                    break
                end = text.find("\n", start)
                end = len(text) if end == -1 else end
                if "?" in text[start:end]:
                    break  # another question
                span = _answer(text, lower, start, end, strict=start > line_end + 1)
                if span is not None:
                    yield span
                    break
                # On past a chat's line that says something else ("[10:32] Max: klar") or a
                # rule ("---"); not past a line of prose.
                line = text[start:end]
                if not line.strip() or (
                    _SPEAKER.match(line) is None and any(map(str.isalnum, line))
                ):
                    break  # a paragraph's end, or a line of prose
        at = next_at


# A chat line's speaker: "[10:32] Max:", "Thomas :", "Sophie M. :".
_SPEAKER = re.compile(r"[ \t]*(?:\[[^\]\n]{1,30}\][ \t]*)?[A-ZÀ-Þ][\w.-]{0,15}(?: [A-Z]\.)?[ \t]?:")
#: How many lines after a question its answer may be.
_ANSWER_LINES = 3
#: Words an answer may start with before the password itself: "it's Ledger$2024q3", "C'est
#: Achats-Bureau-2024", "sure its BlueHeron-Guest-88", "sì, Birba2015".
_LEAD_WORDS = (
    "it's its it\u2019s sure yes yeah yep ok okay oui si sí sim ja klar c'est c\u2019est es é è ist"
    " is the le la el o a der die das"
)
_ANSWER_LEADS = frozenset(_LEAD_WORDS.split())


def _answer(text: str, lower: str, start: int, end: int, strict: bool = False) -> Span | None:
    """The code or password that answers a question, among the first words of the line at
    ``start:end``; ``strict``, on a line below the first, only as its first word ("Alice: call
    me at 5551 later" two lines down answers nothing)."""
    head = _ANSWER_START.match(text, start, end)
    begin = head.end() if head else start
    first = True
    # The first token that is a code, among the answer's first words ("yes \u2014 24-08-61",
    # "Sí, ahora es 33-07-54").
    for token in _ANSWER_TOKEN.finditer(text, begin, end):
        if token.start() > begin + 40:
            break
        value = token.group().strip("\"'\u00ab\u00bb\u201c\u201d").rstrip(".")
        if value.startswith("#"):
            return None  # a ticket's or an issue's number ("abierto el #7734")
        offset = token.start() + token.group().index(value[:1]) if value else token.start()
        # A code among the answer's first words, not a number of something ("4096 bytes"); a
        # password only as the whole answer after its leading words ("it's in 1Password" names a
        # product, "Windows11 keeps asking" a system).
        after = offset + len(value)
        code = code_value(value.rstrip("!")) and not _ANSWER_UNITS.match(text, after)
        alone = _ANSWER_ENDS.match(text, after, end) is not None
        if strict and not first:
            return None
        if code or (first and alone and _told_password(value)):
            # Not a network's name before its key: "Livebox-7A2C, clé : NJX4V...".
            if _KEY_LATER.search(lower, token.end(), min(end, token.end() + 16)):
                return None
            span_end = offset + len(value.rstrip("!")) if code else after
            return Span("password", offset, span_end, 0.8)
        first = first and value.lower() in _ANSWER_LEADS
    return None


_KEY_LATER = re.compile(
    r"cl[ée]\b|clave|chave|chiave|\bkey\b|schlüssel|senha|passw|contraseña|kennwort|\bpin\b"
)
_MARKUP = re.compile(r"[<>'\"=/\\]")


def _told_password(value: str) -> bool:
    """A password given as an answer: letters and digits, a symbol or both cases among them."""
    return (
        6 <= len(value) <= 32
        and not _MARKUP.search(value)
        and classes(value) >= 3
        and any(c.isdigit() for c in value)
        and any(c.isalpha() for c in value)
        and not PLACEHOLDER.fullmatch(value)
        and not dummy(value)
    )
