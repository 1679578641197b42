"""Topics and terms per tenant: deny and allow lists, competitor names, banned topics.

A tenant's policy lists words and phrases; this detector finds them in a text whole-word and
case- and accent-insensitively (``Crème`` matches ``creme``; ``acme`` does not match inside
``acmeist``), with one pass of a multi-pattern matcher however long the lists are:

- ``deny``: terms that must not appear (kind ``denied_term``);
- ``competitors``: competitor names (kind ``competitor``);
- ``allow``: terms that excuse a deny or competitor match they overlap (deny ``kill``, allow
  ``kill the process``: the sysadmin's sentence passes, the threat does not);
- ``topics``: banned topics as keyword sets; a topic hits (kind ``topic:<name>``) where at least
  ``min_hits`` *different* keywords of the set occur within ``window`` characters, and the hit
  spans from the first to the last of them.

The policy shape (a ``terms:`` section of the policy YAML, parsed by :meth:`TermsConfig.from_dict`)::

    terms:
      deny: [darkweb, "credit card dump"]
      allow: ["kill the process"]
      competitors: [Acme, "Globex Corp"]
      topics:
        - {name: elections, keywords: [ballot, candidate, vote, poll, campaign], min_hits: 2,
           window: 200}

Matching: text and terms are folded by :func:`.folding.fold` (casefold, NFKD without marks,
whitespace runs as one space). The default engine is Aho-Corasick (``pyahocorasick``, a C
extension shipped as a wheel): one scan whatever the number of terms, and it reports
overlapping matches too. ``engine="regex"`` compiles one alternation instead (same results on
non-overlapping terms; ``bench/bench_guardrails_checks.py`` measures both: the automaton is
several times faster on a few hundred terms and its cost barely grows with thousands).

Terms and topic names come from the policy, never from the text, so they may appear in a kind;
the matched text never does. Build one detector per policy version and reuse it: compiling the
automaton is the expensive part.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import ahocorasick  # type: ignore[import-not-found]  # C extension, no stubs

from llmops_guardrails.detectors.base import Hit
from llmops_guardrails.detectors.folding import Folded, fold, fold_term, is_word_char

VERSION = "terms-1"
Engine = Literal["aho", "regex"]
#: A category a folded pattern belongs to: ("deny", ""), ("competitor", ""), ("allow", ""),
#: ("topic", "<topic name>").
_Category = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Topic:
    """A banned topic: a keyword set and how many of them, how close, make the topic.

    Attributes:
        name: the label reported in the hit's kind (``topic:<name>``).
        keywords: words or phrases (folded like the text).
        min_hits: how many *different* keywords must occur together (at least 1).
        window: the most characters from the first to the last of them.
    """

    name: str
    keywords: tuple[str, ...]
    min_hits: int = 2
    window: int = 200

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a topic needs a name")
        if self.min_hits < 1:
            raise ValueError(f"topic {self.name!r}: min_hits must be at least 1")
        if self.window < 1:
            raise ValueError(f"topic {self.name!r}: window must be at least 1 character")
        if len({fold_term(k) for k in self.keywords if fold_term(k)}) < self.min_hits:
            raise ValueError(
                f"topic {self.name!r}: fewer distinct keywords than min_hits ({self.min_hits})"
            )


@dataclass(frozen=True, slots=True)
class TermsConfig:
    """One tenant's lists (see the module docstring for the YAML shape)."""

    deny: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    competitors: tuple[str, ...] = ()
    topics: tuple[Topic, ...] = field(default_factory=tuple)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TermsConfig:
        """Parse a policy's ``terms:`` section; raises ``ValueError`` naming what is wrong."""
        unknown = set(data) - {"deny", "allow", "competitors", "topics"}
        if unknown:
            raise ValueError(f"terms: unknown keys {sorted(unknown)}")
        topics = []
        for i, t in enumerate(data.get("topics") or []):
            if not isinstance(t, Mapping) or "name" not in t or "keywords" not in t:
                raise ValueError(f"terms.topics[{i}]: needs a name and keywords")
            topics.append(
                Topic(
                    name=str(t["name"]),
                    keywords=_strings(t["keywords"], f"terms.topics[{i}].keywords"),
                    min_hits=int(t.get("min_hits", 2)),
                    window=int(t.get("window", 200)),
                )
            )
        return cls(
            deny=_strings(data.get("deny") or [], "terms.deny"),
            allow=_strings(data.get("allow") or [], "terms.allow"),
            competitors=_strings(data.get("competitors") or [], "terms.competitors"),
            topics=tuple(topics),
        )


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValueError(f"{where}: expected a list of strings")
    out = tuple(str(v) for v in value)
    if any(not fold_term(v) for v in out):
        raise ValueError(f"{where}: empty term")
    return out


@dataclass(frozen=True, slots=True)
class _Match:
    start: int  # folded offsets
    end: int
    categories: tuple[_Category, ...]


class TermsDetector:
    """Deny/allow/competitor terms and banned topics for one tenant (a ``Detector``).

    Args:
        config: the tenant's lists (a :class:`TermsConfig` or its dict form).
        engine: ``"aho"`` (Aho-Corasick, the default) or ``"regex"`` (one alternation).
    """

    name = "terms"
    version = VERSION

    def __init__(self, config: TermsConfig | Mapping[str, Any], engine: Engine = "aho") -> None:
        self.config = config if isinstance(config, TermsConfig) else TermsConfig.from_dict(config)
        self.engine = engine
        table: dict[str, set[_Category]] = {}
        for cat, terms in (
            ("deny", self.config.deny),
            ("allow", self.config.allow),
            ("competitor", self.config.competitors),
        ):
            for t in terms:
                table.setdefault(fold_term(t), set()).add((cat, ""))
        for topic in self.config.topics:
            for k in topic.keywords:
                table.setdefault(fold_term(k), set()).add(("topic", topic.name))
        self._table = {k: tuple(sorted(v)) for k, v in table.items()}
        self._topics = {t.name: t for t in self.config.topics}
        self._automaton: Any = None
        self._regex: re.Pattern[str] | None = None
        if not self._table:
            return
        if engine == "aho":
            automaton = ahocorasick.Automaton()
            for term, cats in self._table.items():
                automaton.add_word(term, (len(term), term, cats))
            automaton.make_automaton()
            self._automaton = automaton
        elif engine == "regex":
            # Longest first, so at one position the longest term wins, as with the automaton.
            # Terms that begin and end with a word character share one pair of boundary
            # assertions around the group: per-alternative lookarounds make the engine try
            # every alternative at every position (60x slower on 250 terms).
            ordered = sorted(self._table, key=len, reverse=True)
            words = [re.escape(t) for t in ordered if is_word_char(t[0]) and is_word_char(t[-1])]
            others = [
                _bounded(t) for t in ordered if not (is_word_char(t[0]) and is_word_char(t[-1]))
            ]
            alts = ([rf"(?<!\w)(?:{'|'.join(words)})(?!\w)"] if words else []) + others
            self._regex = re.compile("|".join(alts))
        else:
            raise ValueError(f"unknown engine {engine!r}")

    def detect(self, text: str) -> list[Hit]:
        """Every deny, competitor and topic hit in ``text``, ordered by ``start``."""
        if not self._table or not text:
            return []
        folded = fold(text)
        matches = self._matches(folded.text)
        allowed = [(m.start, m.end) for m in matches if ("allow", "") in m.categories]
        hits: list[Hit] = []
        for cat, kind in (("deny", "denied_term"), ("competitor", "competitor")):
            spans = [(m.start, m.end) for m in matches if (cat, "") in m.categories]
            for s, e in _outermost(spans):
                if not any(s < ae and as_ < e for as_, ae in allowed):
                    hits.append(self._hit(folded, kind, s, e))
        for name, topic in self._topics.items():
            occ = [(m.start, m.end, m) for m in matches if ("topic", name) in m.categories]
            for s, e in _topic_spans(occ, topic, folded.text):
                hits.append(self._hit(folded, f"topic:{name}", s, e))
        hits.sort(key=lambda h: (h.start, h.end, h.kind))
        return hits

    def _hit(self, folded: Folded, kind: str, start: int, end: int) -> Hit:
        s, e = folded.span(start, end)
        return Hit(self.name, kind, s, e, 1.0, self.version)

    def _matches(self, text: str) -> list[_Match]:
        out: list[_Match] = []
        if self._automaton is not None:
            for last, (length, term, cats) in self._automaton.iter(text):
                start, end = last - length + 1, last + 1
                if _whole_word(text, start, end, term):
                    out.append(_Match(start, end, cats))
            out.sort(key=lambda m: (m.start, -m.end))
        elif self._regex is not None:
            for m in self._regex.finditer(text):
                out.append(_Match(m.start(), m.end(), self._table[m.group()]))
        return out


def _bounded(term: str) -> str:
    """A regex for ``term`` with word boundaries on the sides where it starts/ends a word."""
    left = r"(?<!\w)" if is_word_char(term[0]) else ""
    right = r"(?!\w)" if is_word_char(term[-1]) else ""
    return f"{left}{re.escape(term)}{right}"


def _whole_word(text: str, start: int, end: int, term: str) -> bool:
    """No word character glued to the match on a side where the term itself is a word."""
    if is_word_char(term[0]) and start > 0 and is_word_char(text[start - 1]):
        return False
    return not (is_word_char(term[-1]) and end < len(text) and is_word_char(text[end]))


def _outermost(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Drop spans inside a longer one (``acme`` inside ``acme corp``); keep partial overlaps."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(set(spans), key=lambda x: (x[0], -x[1])):
        if out and s >= out[-1][0] and e <= out[-1][1]:
            continue
        out.append((s, e))
    return out


def _topic_spans(
    occ: list[tuple[int, int, _Match]], topic: Topic, text: str
) -> list[tuple[int, int]]:
    """Merged spans where ``min_hits`` distinct keywords of ``topic`` fall within its window."""
    spans: list[tuple[int, int]] = []
    seen: Counter[str] = Counter()
    left = 0
    for right, (_, r_end, _m) in enumerate(occ):
        seen[text[occ[right][0] : r_end]] += 1
        while r_end - occ[left][0] > topic.window:
            key = text[occ[left][0] : occ[left][1]]
            seen[key] -= 1
            if not seen[key]:
                del seen[key]
            left += 1
        if len(seen) >= topic.min_hits:
            s = occ[left][0]
            if spans and s <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], r_end))
            else:
                spans.append((s, r_end))
    return spans
