"""Prompt-injection and jailbreak detector: canonicalise, decode, match families, score, calibrate.

The pipeline for one text (the same for user input and for retrieved documents):

1. :func:`.canonical.canonicalise` undoes disguises and keeps an offset map;
2. the rule families of :mod:`.injection_rules` run on the canonical text, on its ROT13 and
   reversed views when those views hold at least two trigger words, and on the joined quoted
   fragments of a split payload (``a = 'ign'; b = 'ore ...'``);
3. base64 and hex substrings that decode to words (:mod:`.decoders`) are analysed as texts of
   their own, to depth 2; a hit inside one spans the encoded substring;
4. the statistical model (:mod:`.injection_model`) scores the best window;
5. the signals (model logit, strongest family score, number of families, obfuscation seen,
   hidden tag text, words that frame the text as *discussing* injection) are combined by a
   logistic calibration fitted on the tune split (``tools/train_injection.py``): the score is
   a probability, and the shipped threshold keeps the tune split's false-positive rate at or
   below 2%.

Each hit names its family (``instruction_override`` ... or ``model`` when only the model
spoke), its span in the original text and the text's calibrated score; never the text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from llmops_guardrails.detectors import injection_rules as rules
from llmops_guardrails.detectors.base import Hit
from llmops_guardrails.detectors.canonical import Canonical, canonicalise
from llmops_guardrails.detectors.decoders import encoded_payloads, reverse, rot13
from llmops_guardrails.detectors.injection_model import Model, load, words

RULES_VERSION = "r1"
MAX_DEPTH = 2
#: Hits below this calibrated score are not reported (the evidence is kept in ``analyse``).
REPORT_FLOOR = 0.05
#: Disguises that, undone, say someone tried to hide words.
_DISGUISES = frozenset({"tags", "zero_width", "bidi", "confusable", "leet", "spacing"})
#: Trigger stems strong enough to look into a ROT13 or reversed view for.
_VIEW_TRIGGERS = frozenset(
    {"ign", "dis", "for", "ove", "byp", "ins", "rul", "sys", "pro", "rev", "pri", "oub", "ver",
     "anw", "olv", "esq", "reg", "dan", "dev", "jai", "del", "sen", "con", "cal", "exe", "you"}
)  # fmt: skip
_QUOTED = re.compile(r"(['\"`])([^'\"`\n]{1,48})\1")
SIGNALS = ("model", "rules", "families", "obfuscated", "hidden", "discussion")
#: Characters of context around a rule match that the model judges on its own (long texts).
_NEAR = 400
_MAX_NEAR = 8
#: Maps a canonical span of the text being scanned to a span of the caller's original text.
_Place = Callable[[int, int], tuple[int, int]]


@dataclass(slots=True)
class Analysis:
    """Everything the detector found in one text.

    Attributes:
        score: the calibrated probability that the text is an injection.
        flagged: ``score >= threshold``.
        threshold: the threshold in force.
        signals: the calibration's inputs (see ``SIGNALS``).
        families: family -> strongest rule score seen for it.
        hits: spans in the original text (see the module docstring).
    """

    score: float
    flagged: bool
    threshold: float
    signals: dict[str, float]
    families: dict[str, float]
    hits: list[Hit] = field(default_factory=list)


@dataclass(slots=True)
class _Evidence:
    """Raw evidence gathered over a text and its decoded payloads, before calibration."""

    matches: list[tuple[str, float, int, int]] = field(default_factory=list)
    families: dict[str, float] = field(default_factory=dict)
    model: float = -math.inf
    model_span: tuple[int, int] = (0, 0)
    obfuscated: bool = False
    hidden: bool = False
    discussion: int = 0


class InjectionDetector:
    """The prompt-injection detector (implements the ``Detector`` port).

    Args:
        model_path: weights to use instead of the shipped ``injection_model.json``.
        threshold: overrides the shipped threshold (``flagged`` in :meth:`analyse`).
    """

    name = "injection"

    def __init__(self, model_path: Path | None = None, threshold: float | None = None) -> None:
        self._model_path = model_path
        self._threshold = threshold
        self._model: Model | None = None

    @property
    def model(self) -> Model:
        """The weights, loaded on first use."""
        if self._model is None:
            self._model = load(self._model_path)
        return self._model

    @property
    def version(self) -> str:
        """Rules version and model version together."""
        return f"injection-{RULES_VERSION}+{self.model.version}"

    @property
    def threshold(self) -> float:
        """The calibrated score at or above which a text counts as an injection."""
        return self.model.threshold if self._threshold is None else self._threshold

    def detect(self, text: str) -> list[Hit]:
        """Hits in ``text`` whose calibrated score reaches ``REPORT_FLOOR``, by start."""
        return self.analyse(text).hits

    def signals(self, text: str) -> dict[str, float]:
        """The calibration's inputs for ``text`` (used by training to fit the calibration)."""
        return _signals(self._gather(text))

    def analyse(self, text: str) -> Analysis:
        """The full analysis of ``text``."""
        ev = self._gather(text)
        sig = _signals(ev)
        cal = self.model.calibration
        z = cal.get("intercept", 0.0) + math.fsum(cal.get(k, 0.0) * v for k, v in sig.items())
        score = _sigmoid(z)
        hits: list[Hit] = []
        if score >= REPORT_FLOOR:
            version = self.version
            seen: set[tuple[str, int, int]] = set()
            for family, _weight, start, end in ev.matches:
                if (family, start, end) not in seen:
                    seen.add((family, start, end))
                    hits.append(Hit(self.name, family, start, end, score, version))
            if not hits:
                start, end = ev.model_span
                hits.append(Hit(self.name, "model", start, end, score, version))
            hits.sort(key=lambda h: (h.start, h.end, h.kind))
        return Analysis(
            score, score >= self.threshold, self.threshold, sig, dict(ev.families), hits
        )

    def _gather(self, text: str) -> _Evidence:
        ev = _Evidence()
        self._scan(text, ev, depth=0, span=None)
        return ev

    def _scan(self, text: str, ev: _Evidence, depth: int, span: tuple[int, int] | None) -> None:
        """Add the evidence of ``text``; ``span`` (when decoding) is where it sits originally."""
        c = canonicalise(text)
        tokens = words(c.text)
        stems = {t[:3] for t in tokens}
        if c.tricks & _DISGUISES:
            ev.obfuscated = True
        if "tags" in c.tricks:
            ev.hidden = True
        if depth == 0:
            ev.discussion = rules.discussion(c.text)

        def place(cs: int, ce: int) -> tuple[int, int]:
            return span if span is not None else c.span(cs, ce)

        found = rules.match(c.text, stems)
        for m in found:
            ev.matches.append((m.family, m.weight, *place(m.start, m.end)))
        scores = rules.family_scores(found)
        if not found or max(scores.values()) < rules.S:
            scores = self._views(c, tokens, ev, place, scores)
        scores = self._split_payload(c, ev, place, scores)
        for family, s in scores.items():
            ev.families[family] = max(ev.families.get(family, 0.0), s)

        logit, ws, we = self.model.best_window(c.text)
        # In a long text, also judge the neighbourhood of each rule match on its own: an
        # injected sentence inside a page of benign text is what retrieved context looks like.
        if len(c.text) > _NEAR:
            for m in found[:_MAX_NEAR]:
                a, b = max(m.start - _NEAR // 2, 0), min(m.end + _NEAR // 2, len(c.text))
                near = self.model.logit(words(c.text[a:b]))
                if near > logit:
                    logit, ws, we = near, a, b
        if logit > ev.model:
            ev.model = logit
            ev.model_span = place(ws, max(we, ws + 1)) if c.text else (0, 0)

        if depth < MAX_DEPTH:
            for p in encoded_payloads(text):
                inner = (p.start, p.end) if span is None else span
                before = len(ev.matches)
                self._scan(p.text, ev, depth + 1, inner)
                if len(ev.matches) > before:
                    ev.obfuscated = True

    def _views(
        self,
        c: Canonical,
        tokens: list[str],
        ev: _Evidence,
        place: _Place,
        scores: dict[str, float],
    ) -> dict[str, float]:
        """Rules on the ROT13 and reversed views, when they hold two or more trigger words."""
        joined = " ".join(tokens)
        n = len(c.text)

        def same(s: int, e: int) -> tuple[int, int]:
            return s, e

        def mirrored(s: int, e: int) -> tuple[int, int]:
            return n - e, n - s

        for view, unmap in ((rot13, same), (reverse, mirrored)):
            if len({w[:3] for w in view(joined).split()} & _VIEW_TRIGGERS) < 2:
                continue
            found = rules.match(view(c.text))
            if not found:
                continue
            ev.obfuscated = True
            for m in found:
                ev.matches.append((m.family, m.weight, *place(*unmap(m.start, m.end))))
            for family, s in rules.family_scores(found).items():
                scores[family] = max(scores.get(family, 0.0), s)
        return scores

    def _split_payload(
        self, c: Canonical, ev: _Evidence, place: _Place, scores: dict[str, float]
    ) -> dict[str, float]:
        """Join short quoted fragments; if the join is an attack, so is the text."""
        if "payload_splitting" not in scores:
            return scores
        fragments = list(_QUOTED.finditer(c.text))
        if len(fragments) < 2:
            return scores
        joined = "".join(f.group(2) for f in fragments)
        found = [m for m in rules.match(joined) if m.family != "payload_splitting"]
        if found:
            strongest = max(rules.family_scores(found).values())
            start, end = fragments[0].start(), fragments[-1].end()
            ev.matches.append(("payload_splitting", strongest, *place(start, end)))
            scores["payload_splitting"] = max(scores["payload_splitting"], strongest)
        return scores


def _signals(ev: _Evidence) -> dict[str, float]:
    strongest = max(ev.families.values(), default=0.0)
    return {
        "model": max(min(ev.model, 20.0), -20.0) if ev.model > -math.inf else 0.0,
        "rules": strongest,
        "families": float(sum(s >= 0.5 for s in ev.families.values())),
        "obfuscated": 1.0 if ev.obfuscated and strongest > 0 else 0.0,
        "hidden": 1.0 if ev.hidden else 0.0,
        "discussion": float(ev.discussion),
    }


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
