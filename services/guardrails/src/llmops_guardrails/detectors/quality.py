"""Quality of a detector on a labelled corpus: values hidden, precision, look-alikes flagged.

Pure functions over examples; :func:`load_corpus` is the only one that reads a file, and only
when called. The measures, per kind and overall, at one score threshold:

- **hidden** (recall over gold spans): a gold span counts as hidden when the findings at or
  above the threshold cover every one of its characters — what redaction would replace. A
  finding of another kind still hides it (a NIF found as a phone number is hidden all the same).
- **precision**: the share of findings at or above the threshold that overlap some gold span;
  per kind, of the findings the detector labelled with that kind.
- **look-alikes flagged** (false-positive rate): the share of clean texts (no gold span) with at
  least one finding at or above the threshold; per kind, of the clean texts made to imitate that
  kind (their ``lookalike`` field).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from llmops_guardrails.detectors.base import Hit

#: Where the corpus files live in a source checkout.
CORPUS_DIR = Path(__file__).resolve().parents[3] / "corpus" / "pii"


@dataclass(frozen=True, slots=True)
class GoldSpan:
    """A labelled sensitive value: offsets into the example's text and its kind."""

    start: int
    end: int
    kind: str


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled text."""

    text: str
    spans: tuple[GoldSpan, ...]
    note: str = ""
    #: For a clean text (no spans), the kind it imitates.
    lookalike: str | None = None


@dataclass(frozen=True, slots=True)
class KindQuality:
    """The measures for one kind (or ``overall``)."""

    kind: str
    gold: int
    hidden: int
    predicted: int
    correct: int
    lookalikes: int
    lookalikes_flagged: int

    @property
    def hidden_rate(self) -> float | None:
        """Share of gold spans fully covered by findings; None without gold spans."""
        return self.hidden / self.gold if self.gold else None

    @property
    def precision(self) -> float | None:
        """Share of findings overlapping a gold span; None without findings."""
        return self.correct / self.predicted if self.predicted else None

    @property
    def flagged_rate(self) -> float | None:
        """Share of clean look-alike texts with a finding; None without look-alikes."""
        return self.lookalikes_flagged / self.lookalikes if self.lookalikes else None


@dataclass(frozen=True, slots=True)
class QualityReport:
    """Per-kind measures (sorted by kind) and the overall ones."""

    threshold: float
    kinds: tuple[KindQuality, ...]
    overall: KindQuality


def parse_example(line: str) -> Example:
    """One JSONL line of the corpus as an :class:`Example`."""
    raw = json.loads(line)
    spans = tuple(GoldSpan(int(s["start"]), int(s["end"]), str(s["kind"])) for s in raw["spans"])
    return Example(str(raw["text"]), spans, str(raw.get("note", "")), raw.get("lookalike"))


def load_corpus(path: Path) -> list[Example]:
    """Read a JSONL corpus file."""
    with path.open(encoding="utf-8") as f:
        return [parse_example(line) for line in f if line.strip()]


def _covered(span: GoldSpan, hits: Sequence[Hit]) -> bool:
    """Whether the union of ``hits`` (sorted by start) covers every character of ``span``."""
    reach = span.start
    for hit in hits:
        if hit.start > reach:
            break
        reach = max(reach, hit.end)
        if reach >= span.end:
            return True
    return reach >= span.end


def _overlaps(hit: Hit, spans: Iterable[GoldSpan]) -> bool:
    return any(hit.start < s.end and s.start < hit.end for s in spans)


def evaluate(
    detect: Callable[[str], Sequence[Hit]], examples: Iterable[Example], threshold: float = 0.5
) -> QualityReport:
    """Run ``detect`` on every example and measure it at ``threshold``."""
    gold: dict[str, int] = defaultdict(int)
    hidden: dict[str, int] = defaultdict(int)
    predicted: dict[str, int] = defaultdict(int)
    correct: dict[str, int] = defaultdict(int)
    lookalikes: dict[str, int] = defaultdict(int)
    flagged: dict[str, int] = defaultdict(int)
    clean = clean_flagged = 0
    for example in examples:
        hits = sorted((h for h in detect(example.text) if h.score >= threshold), key=_start)
        for span in example.spans:
            gold[span.kind] += 1
            hidden[span.kind] += _covered(span, hits)
        for hit in hits:
            predicted[hit.kind] += 1
            correct[hit.kind] += _overlaps(hit, example.spans)
        if not example.spans:
            clean += 1
            clean_flagged += bool(hits)
            kind = example.lookalike or "unspecified"
            lookalikes[kind] += 1
            flagged[kind] += bool(hits)
    kinds = sorted(set(gold) | set(predicted) | set(lookalikes))
    rows = tuple(
        KindQuality(k, gold[k], hidden[k], predicted[k], correct[k], lookalikes[k], flagged[k])
        for k in kinds
    )
    overall = KindQuality(
        "overall",
        sum(gold.values()),
        sum(hidden.values()),
        sum(predicted.values()),
        sum(correct.values()),
        clean,
        clean_flagged,
    )
    return QualityReport(threshold, rows, overall)


def _start(hit: Hit) -> int:
    return hit.start
