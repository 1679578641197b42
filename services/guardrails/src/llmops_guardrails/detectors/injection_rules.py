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

import importlib
import re
import string
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from typing import Any

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
from llmops_guardrails.detectors.memo import WordMemo

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
     "vulnerabilidade", "schwachstelle",
     # Exercises, test cases, audits and detections that quote an attack (independent
     # authors' hard negatives: "Übung 3: welche Nachricht enthält...", "Testfall 14",
     # "exemple observé en audit"), in the five languages.
     "ubung", "uebung", "exercise", "exercice", "ejercicio", "exercicio", "testfall",
     "testcase", "testcases", "audit", "auditoria", "auditorias", "prufung", "detected",
     "erkannt", "detecte", "detectee", "detectado", "detectada", "flagged", "blocked",
     "blockiert", "bloque", "bloqueado", "bloqueada", "suspicious", "verdachtig",
     "suspect", "suspecte", "sospechoso", "sospechosa", "suspeito", "suspeita", "phishing",
     "technique", "technik", "tecnica", "recommandation", "empfehlung", "recomendacion",
     "recomendacao", "recommendation", "awareness", "sensibilisation", "schulung",
     "formacion", "formacao", "training"}
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


@dataclass(frozen=True, slots=True)
class _Stem:
    #: the stem's letters, then the alternation of its patterns (one group each)
    pattern: re.Pattern[str]
    #: (family, lang, weight) of each group
    meta: list[tuple[str, str, float]]
    #: keys one of which a text needs for any of the patterns to match (:func:`needs`);
    #: ``None``: some pattern needs no word beyond the stem
    needs: frozenset[str] | None


@lru_cache(maxsize=1024)
def _stem(stem: str) -> _Stem:
    # One search per stem finds one match per place, the first alternative that matches: the
    # strongest patterns go first, or "developer mode" (weak) would hide "developer mode
    # enabled" (strong) wherever both match.
    entries = sorted(compiled().index[stem], key=lambda e: -e[3])
    alternation = "|".join(f"({source})" for source, _, _, _ in entries)
    # A key shorter than three letters is a whole word; a longer one starts a word.
    whole = "" if len(stem) >= 3 else "(?![a-z0-9])"
    head = f"{re.escape(stem)}(?<![a-z0-9]{re.escape(stem)}){whole}"
    return _Stem(
        re.compile(f"{head}(?:{alternation})"),
        [(f, lang, w) for _, f, lang, w in entries],
        _one_of([needs(source) for source, _, _, _ in entries]),
    )


def all_triggers() -> frozenset[str]:
    """Every trigger stem of every family."""
    return compiled().triggers


def stems_of(text: str) -> set[str]:
    """The candidate trigger keys of ``text``: its words' first three, four and five letters."""
    return keys_of(set(_WORD.findall(text)))


def _keys(word: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(word[:n] for n in range(3, KEY + 1)))


#: A word's keys, remembered (a dictionary lookup costs less than three slices and hashes).
_KEYS = WordMemo(_keys)


def keys_of(words: set[str]) -> set[str]:
    """The candidate trigger keys of a set of words (see :func:`first_stems`)."""
    return set(chain.from_iterable(map(_KEYS.__getitem__, words)))


def match(text: str, stems: set[str] | None = None, *, prefilter: bool = True) -> list[RuleMatch]:
    """Every pattern match in canonical ``text``, by start.

    Args:
        text: canonical text.
        stems: :func:`stems_of` the text (a superset will do), if the caller has it already.
        prefilter: skip a trigger stem when the text lacks every word its patterns need
            (:func:`needs`); ``False`` scans every trigger stem (the reference for tests).
    """
    c = compiled()
    if stems is None:
        stems = stems_of(text)
    found: list[RuleMatch] = []
    for key in c.triggers.intersection(stems):
        stem = _stem(key)
        # Most texts with a trigger word ("you", "previous", "the") have none of the words
        # that must follow it: a few set lookups instead of a scan of the text.
        if prefilter and stem.needs is not None and stems.isdisjoint(stem.needs):
            continue
        meta = stem.meta
        for m in stem.pattern.finditer(text):
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
    found.sort(key=order)
    return found


def order(m: RuleMatch) -> tuple[int, int, str, str, float]:
    """The order :func:`match` returns its matches in: by start, then end."""
    return m.start, m.end, m.family, m.lang, m.weight


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


def discussion(tokens: list[str], distinct: set[str] | None = None) -> int:
    """How many words frame a text as discussing injection rather than doing it (capped).

    Args:
        tokens: the words of the canonical text (``injection_model.words``).
        distinct: ``set(tokens)``, if the caller has it: then only the few framing words the
            text has are counted, not every word looked up.
    """
    if distinct is None:
        distinct = set(tokens)
    return min(sum(map(tokens.count, _DISCUSSION.intersection(distinct))), 5)


#: The standard library's own regular-expression parser (``re._parser``, which has no public
#: name or type stubs): :func:`needs` reads a pattern's structure from it instead of from a
#: parser of our own. Whatever it does not recognise is taken to need nothing, so a change in
#: Python can only make the prefilter skip less, never skip a stem that could match.
_sre: Any = importlib.import_module("re._parser")
#: The characters of a word of canonical text (:func:`.injection_model.words`: runs of
#: ``[a-z0-9]``); any other character separates words.
_WORD_CHARS = frozenset(string.ascii_lowercase + string.digits)


def needs(source: str) -> frozenset[str] | None:
    """Keys (:func:`keys_of`) one of which a text must have for ``source`` to match after a stem.

    A literal word of the pattern that follows a separator (a class without letters or digits,
    such as ``[^a-z0-9]``, or punctuation) starts a word of any text the pattern matches, so
    that text's keys hold the word's first five letters (a word of one or two letters counts
    only when a separator also ends it). Of the sets of such keys the pattern cannot match
    without (a word it always has; one per alternative of a group), the best is kept: longest
    shortest key, then fewest keys. ``None`` when there is none, or the pattern sets flags.

    Args:
        source: an expanded pattern (:func:`_expand`), read as it follows a trigger stem.
    """
    tree = _sre.parse(source)
    if tree.state.flags & (re.IGNORECASE | re.LOCALE):
        return None
    found, _ = _walk(list(tree), False, False)
    return _best(found)


def _one_of(alternatives: list[frozenset[str] | None]) -> frozenset[str] | None:
    """What a match of one of several alternatives needs: one key of any of them (``None``
    when an alternative needs nothing)."""
    out: frozenset[str] = frozenset()
    for keys in alternatives:
        if keys is None:
            return None
        out |= keys
    return out


def _best(sets: list[frozenset[str]]) -> frozenset[str] | None:
    return max(sets, key=lambda s: (min(map(len, s)), -len(s)), default=None)


def _walk(items: list[Any], left: bool, follow: bool) -> tuple[list[frozenset[str]], bool]:
    """(key sets ``items`` need, whether they end on a separator).

    Args:
        items: parsed pattern items (``re._parser``).
        left: whether a separator (or nothing) comes before ``items``.
        follow: whether a separator comes after them.
    """
    found: list[frozenset[str]] = []
    run, run_left = "", False
    for i, (op, av) in enumerate(items):
        if op is _sre.LITERAL and chr(av) in _WORD_CHARS:
            if not run:
                run_left = left
            run, left = run + chr(av), False
            continue
        if run:
            _keep(found, run, run_left, _leads(items[i:], follow))
            run = ""
        if op is _sre.LITERAL:
            left = True  # not a word character (those continue the run above)
        elif op is _sre.IN:
            left = _separates(tuple(av))
        elif (op is _sre.SUBPATTERN and not (av[1] or av[2])) or op is _sre.ATOMIC_GROUP:
            body = av[3] if op is _sre.SUBPATTERN else av
            inner, left = _walk(list(body), left, _leads(items[i + 1 :], follow))
            found += inner
        elif op is _sre.BRANCH:
            after = _leads(items[i + 1 :], follow)
            walked = [_walk(list(alt), left, after) for alt in av[1]]
            needed = _one_of([_best(sets) for sets, _ in walked])
            if needed is not None:
                found.append(needed)
            left = all(end for _, end in walked)
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
            low, high, body = av
            after = _leads(items[i + 1 :], follow)
            # After one pass comes the rest, or another pass.
            inner_follow = after and (high == 1 or _leads(list(body), after))
            inner, end = _walk(list(body), left, inner_follow)
            if low >= 1:
                found += inner
            # Where a later pass ends does not depend on a separator before it.
            once = end if high == 1 else _walk(list(body), False, inner_follow)[1]
            left = once if low >= 1 else left and once
        elif op not in (_sre.ASSERT, _sre.ASSERT_NOT, _sre.AT):  # those consume nothing
            left = False
    if run:
        _keep(found, run, run_left, follow)
    return found, left


def _keep(found: list[frozenset[str]], word: str, left: bool, right: bool) -> None:
    """Keep the key of a literal word of a pattern, if a text it matches must have it."""
    if left and (len(word) >= 3 or right):
        found.append(frozenset({word[:KEY]}))


def _leads(items: list[Any], follow: bool) -> bool:
    """Whether the first character ``items`` (then what follows them) match is a separator."""
    for i, (op, av) in enumerate(items):
        if op is _sre.LITERAL:
            return chr(av) not in _WORD_CHARS
        if op is _sre.IN:
            return _separates(tuple(av))
        if op in (_sre.ASSERT, _sre.ASSERT_NOT, _sre.AT):
            continue
        rest = items[i + 1 :]
        if (op is _sre.SUBPATTERN and not (av[1] or av[2])) or op is _sre.ATOMIC_GROUP:
            return _leads([*(av[3] if op is _sre.SUBPATTERN else av), *rest], follow)
        if op is _sre.BRANCH:
            return all(_leads([*alt, *rest], follow) for alt in av[1])
        if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
            low, _, body = av
            first = _leads([*body, *rest], follow)
            return first if low >= 1 else first and _leads(rest, follow)
        return False
    return follow


@lru_cache(maxsize=256)
def _separates(members: tuple[Any, ...]) -> bool:
    """Whether a character class (``re._parser`` items) holds no word character."""
    negate = bool(members) and members[0][0] is _sre.NEGATE
    chars: list[int] = []
    ranges: list[tuple[int, int]] = []
    for op, av in members[1:] if negate else members:
        if op is _sre.LITERAL:
            chars.append(av)
        elif op is _sre.RANGE:
            ranges.append(av)
        else:  # a category (\w, \d ...): do not guess
            return False
    inside = [ord(c) in chars or any(a <= ord(c) <= b for a, b in ranges) for c in _WORD_CHARS]
    return all(inside) if negate else not any(inside)


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
