"""Phrase families of prompt injection, per language, matched on canonical text.

Six families: instruction override, role-play/persona, system-prompt exfiltration, delimiter
and fake-role injection, tool/function hijack, payload splitting; each in English, French,
German, Spanish and Portuguese, written per language (the way people phrase it there, not
translations of one sentence). Patterns see :mod:`.canonical` text: lower case, accents
stripped (``précédentes`` -> ``precedentes``, ``über`` -> ``uber``), disguises undone.

Pattern notation (expanded by :func:`_expand`): a space stands for a short run of
non-letters (possibly none: spaced-out letters are joined back into one word, so
``ignoreallpreviousinstructions`` must match as well as ``ignore all previous instructions``);
``{W}`` for up to three filler words, ``{WW}`` for up to six. Every pattern starts at a word
start. All repetitions are bounded, which keeps matching linear on adversarial input.

Weights: ``S`` (0.9) a phrase that is an attack on its own; ``M`` (0.6) usually one; ``W`` (0.3)
a hint that counts only with other evidence. A family's score is the noisy-or of its distinct
matches; the detector calibrates it together with the statistical model.

The phrase tables live in one module per family (:mod:`.injection_override`,
:mod:`.injection_roleplay`, :mod:`.injection_exfiltration`, :mod:`.injection_delimiter`,
:mod:`.injection_tools`, :mod:`.injection_splitting`; weights in :mod:`.injection_weights`);
this module assembles and matches them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter

from llmops_guardrails.detectors.injection_delimiter import DELIMITER
from llmops_guardrails.detectors.injection_exfiltration import EXFILTRATION
from llmops_guardrails.detectors.injection_override import OVERRIDE
from llmops_guardrails.detectors.injection_roleplay import ROLEPLAY
from llmops_guardrails.detectors.injection_splitting import SPLIT
from llmops_guardrails.detectors.injection_tools import TOOL

# The weights are re-exported: callers read them from here, as before the tables moved out.
from llmops_guardrails.detectors.injection_weights import CUE as CUE
from llmops_guardrails.detectors.injection_weights import M as M
from llmops_guardrails.detectors.injection_weights import S as S
from llmops_guardrails.detectors.injection_weights import W as W

_SEP = r"[^a-z0-9]{1,4}"
# Possessive: a filler word is taken whole or not at all, so a failed match backtracks over
# at most the number of fillers, not over every way of cutting them into pieces.
_FILL = r"(?:[a-z0-9]{1,20}+[^a-z0-9]{1,4}+){0,%d}"

FAMILIES = (
    "instruction_override",
    "roleplay",
    "exfiltration",
    "delimiter",
    "tool_hijack",
    "payload_splitting",
)

_TABLES: dict[str, dict[str, list[tuple[str, float]]]] = {
    "instruction_override": OVERRIDE,
    "roleplay": ROLEPLAY,
    "exfiltration": EXFILTRATION,
    "delimiter": DELIMITER,
    "tool_hijack": TOOL,
    "payload_splitting": SPLIT,
}

#: Words that frame a text as *about* injection (articles, papers, policies), per language;
#: counted over the words of the canonical text (a set lookup each, no scan of the text).
_DISCUSSION = frozenset(
    {"injection", "injections", "inyeccion", "injecao", "injecoes", "attacker", "attackers",
     "attack", "attacks", "attaque", "attaques", "angriff", "angriffe", "angriffen", "angriffs",
     "ataque", "ataques", "researcher", "researchers", "chercheurs", "forscher",
     "investigadores", "pesquisadores", "mitigation", "mitigations", "defence", "defences",
     "defense", "defenses", "gegenmassnahmen", "defensas", "defesas", "guide", "leitfaden",
     "guia", "paper", "study", "studie", "estudio", "estudo", "redteam", "redteaming", "owasp",
     "jailbreaking", "vulnerable", "vulnerability", "designe", "bezeichnet", "refers",
     "vulneravel", "verwundbar", "angreifbar", "vulnerabilite", "vulnerabilidad",
     "vulnerabilidade", "schwachstelle"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """One pattern matched on canonical text.

    Attributes:
        family: the family of the pattern.
        lang: the language of the pattern (``any`` for markup).
        start: canonical offset of the match.
        end: one past its end.
        weight: how much the pattern alone says (``S``/``M``/``W``).
    """

    family: str
    lang: str
    start: int
    end: int
    weight: float


def _expand(pattern: str) -> str:
    out: list[str] = []
    in_set = escaped = False
    for c in pattern:  # a space outside a [set] is a separator; inside one it is a space
        if c == " " and not in_set:
            out.append(_SEP)
        else:
            out.append(c)
            if not escaped:
                in_set = (in_set or c == "[") and not (in_set and c == "]")
            escaped = c == "\\" and not escaped
    return "".join(out).replace("{WW}", _FILL % 6).replace("{W}", _FILL % 3)


def _is_markup(pattern: str) -> bool:
    # Word patterns start with a word or a group of words; markup starts with anything else.
    return not (pattern[0].isalpha() or (pattern.startswith("(?:") and pattern[3].isalpha()))


def _first_alternatives(pattern: str) -> tuple[list[str], str]:
    """(alternatives of the leading group, the rest of the pattern); one alternative if none."""
    if not pattern.startswith("(?:"):
        return [pattern], ""
    depth, i = 0, 0
    for i, c in enumerate(pattern):  # noqa: B007 (i is the closing parenthesis after)
        depth += c == "("
        depth -= c == ")"
        if depth == 0:
            break
    if pattern[i + 1 : i + 2] in {"?", "*", "{", "+"}:
        raise ValueError(f"optional first group in {pattern!r}")
    body = pattern[3:i]
    alts, depth, cur = [], 0, ""
    for c in body:
        depth += c == "("
        depth -= c == ")"
        if c == "|" and depth == 0:
            alts.append(cur)
            cur = ""
        else:
            cur += c
    alts.append(cur)
    return alts, pattern[i + 1 :]


#: Longest trigger key: the first letters of a pattern's first literal word, up to this many.
KEY = 5


def _stem_of(alternative: str, pattern: str) -> str:
    word = re.match(r"[a-z']*", alternative)
    if alternative.startswith("(") or not word or not word.group():
        raise ValueError(f"no literal first word in {pattern!r}")
    literal = word.group()
    if alternative[len(literal) : len(literal) + 1] in {"?", "*", "{"}:
        literal = literal[:-1]  # "https?", "halte?": the last letter may be absent
    stem = re.split(r"[^a-z0-9]", literal)[0][:KEY]
    if not stem:
        raise ValueError(f"no literal first letter in {pattern!r}")
    return stem


def first_stems(pattern: str) -> set[str]:
    """The trigger keys of a word pattern: how the words it can start with begin.

    A key is the first letters of an alternative's first literal word, up to ``KEY`` of them
    (``ignor`` for ``ignore[sz]?``, ``you`` for ``you are``, ``ia`` for ``ia``): a match
    starts where a word starts, so that word begins with the key. A text's candidate keys are
    the first three, four and five letters of its words (:func:`stems_of`); a key shorter
    than three letters is a whole word.
    """
    alts, _ = _first_alternatives(pattern)
    return {_stem_of(alt, pattern) for alt in alts}


def after_stem(pattern: str, stem: str) -> str:
    """What of ``pattern`` must follow ``stem`` when a match starts with that trigger stem.

    The leading group keeps only its alternatives that begin with ``stem``, each without those
    letters: ``(?:ignore|disregard) x`` after ``ign`` is ``(?:ore) x``.
    """
    alts, rest = _first_alternatives(pattern)
    kept = [alt[len(stem) :] for alt in alts if _stem_of(alt, pattern) == stem]
    if not kept:
        raise ValueError(f"{stem!r} does not start {pattern!r}")
    return f"(?:{'|'.join(kept)}){rest}"


_WORD = re.compile(r"[a-z0-9]{1,64}")


@dataclass(frozen=True, slots=True)
class _Compiled:
    #: trigger stem -> the word patterns that can start with it: (source after the stem,
    #: family, lang, weight)
    index: dict[str, list[tuple[str, str, str, float]]]
    markup: re.Pattern[str]
    markup_meta: list[tuple[str, str, float]]
    triggers: frozenset[str]


@lru_cache(maxsize=1)
def compiled() -> _Compiled:
    """The dispatch index of word patterns by trigger stem, and one scan for all markup.

    Why not one big alternation: the regular-expression engine would try every pattern at
    every word start (milliseconds per kilobyte). Instead each word pattern is filed under the
    three-letter stems it can start with, and each stem gets one expression that *begins with
    the stem's letters* (then a look-behind for the word start, then the alternation of what
    may follow): the engine then jumps from one occurrence of the literal to the next in C and
    tries the stem's patterns only there. :func:`match` runs it only for the stems that start
    a word of the text. Markup patterns all start with a rare literal character (``<``, ``[``,
    ``#``, ``"``, ``!``, ``+``, ``=``, newline), which lets the engine skip ahead over prose.
    """
    index: dict[str, list[tuple[str, str, str, float]]] = {}
    markup: list[str] = []
    markup_meta: list[tuple[str, str, float]] = []
    for family, table in _TABLES.items():
        for lang, patterns in table.items():
            for pattern, weight in patterns:
                if _is_markup(pattern):
                    # The first literal character outside the group: then every alternative
                    # starts with a literal and the engine skips ahead to those characters.
                    first = 2 if pattern[0] == "\\" else 1
                    markup.append(f"{pattern[:first]}({_expand(pattern[first:])})")
                    markup_meta.append((family, lang, weight))
                else:
                    for stem in sorted(first_stems(pattern)):
                        source = _expand(after_stem(pattern, stem))
                        index.setdefault(stem, []).append((source, family, lang, weight))
    return _Compiled(index, re.compile("|".join(markup)), markup_meta, frozenset(index))


@lru_cache(maxsize=1024)
def _stem_pattern(stem: str) -> tuple[re.Pattern[str], list[tuple[str, str, float]]]:
    entries = compiled().index[stem]
    alternation = "|".join(f"({source})" for source, _, _, _ in entries)
    # A key shorter than three letters is a whole word; a longer one starts a word.
    whole = "" if len(stem) >= 3 else "(?![a-z0-9])"
    head = f"{re.escape(stem)}(?<![a-z0-9]{re.escape(stem)}){whole}"
    return re.compile(f"{head}(?:{alternation})"), [(f, lang, w) for _, f, lang, w in entries]


def all_triggers() -> frozenset[str]:
    """Every trigger stem of every family."""
    return compiled().triggers


def stems_of(text: str) -> set[str]:
    """The candidate trigger keys of ``text``: its words' first three, four and five letters."""
    return keys_of(set(_WORD.findall(text)))


_HEADS = tuple(itemgetter(slice(0, n)) for n in range(3, KEY + 1))


def keys_of(words: set[str]) -> set[str]:
    """The candidate trigger keys of a set of words (see :func:`first_stems`)."""
    out: set[str] = set()
    for head in _HEADS:
        out.update(map(head, words))
    return out


def match(text: str, stems: set[str] | None = None) -> list[RuleMatch]:
    """Every pattern match in canonical ``text``, by start.

    Args:
        text: canonical text.
        stems: :func:`stems_of` the text (a superset will do), if the caller has it already.
    """
    c = compiled()
    if stems is None:
        stems = stems_of(text)
    found: list[RuleMatch] = []
    for stem in c.triggers.intersection(stems):
        pattern, meta = _stem_pattern(stem)
        for m in pattern.finditer(text):
            family, lang, weight = meta[(m.lastindex or 1) - 1]
            found.append(RuleMatch(family, lang, m.start(), m.end(), weight))
    # A role line at the very start of the text has no newline before it: give it one.
    scans = [(text, 0)]
    if text[:1] not in {"\n", ""}:
        scans.append(("\n" + text[:64], -1))
    for subject, shift in scans:
        for m in c.markup.finditer(subject):
            if shift and m.start() != 0:  # only the role line at the start
                continue
            family, lang, weight = c.markup_meta[(m.lastindex or 1) - 1]
            start = m.start(m.lastindex or 1) - 1 + shift  # the group starts after the literal
            found.append(RuleMatch(family, lang, max(start, 0), m.end() + shift, weight))
    # A total order: the stems come from a set, and noisy-or sums must not depend on its order.
    found.sort(key=lambda r: (r.start, r.end, r.family, r.lang, r.weight))
    return found


def family_scores(matches: list[RuleMatch]) -> dict[str, float]:
    """Noisy-or of the weights of each family's distinct patterns (one pattern counts once)."""
    scores: dict[str, float] = {}
    seen: set[tuple[str, str, float, int]] = set()
    for r in matches:
        key = (r.family, r.lang, r.weight, r.end - r.start)
        if key in seen:
            continue
        seen.add(key)
        scores[r.family] = 1.0 - (1.0 - scores.get(r.family, 0.0)) * (1.0 - r.weight)
    return scores


def discussion(tokens: list[str]) -> int:
    """How many words frame a text as discussing injection rather than doing it (capped).

    Args:
        tokens: the words of the canonical text (``injection_model.words``).
    """
    return min(sum(map(_DISCUSSION.__contains__, tokens)), 5)


@lru_cache(maxsize=1)
def view_triggers() -> frozenset[str]:
    """Five-letter beginnings of the first words of the patterns that say something alone.

    A ROT13 or reversed view of the text is only worth a scan when two or more of its words
    begin like these (``ignor``, ``revea``, ``previ``, ``instr``, ``syste`` ...). Five letters,
    not three: reversed English words begin with reversed suffixes (``det`` from -ted, ``met``
    from system), which three-letter stems of real trigger words match all the time.
    """
    out: set[str] = set()
    for table in _TABLES.values():
        for patterns in table.values():
            for pattern, weight in patterns:
                if weight < M or _is_markup(pattern):
                    continue
                alts, _ = _first_alternatives(pattern)
                for alt in alts:
                    word = re.match(r"[a-z]*", alt)
                    if word and len(word.group()) >= 5:
                        out.add(word.group()[:5])
    return frozenset(out)
