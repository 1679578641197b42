"""Quality of the injection detector on a labelled corpus: precision, recall, false-positive rate.

Pure functions over rows shaped like the corpus (``text``, ``label``, ``family``, ``lang``,
``note``) and a scoring function; the bench prints the tables, the tests assert the targets.
Recall is per attack family (the attacks of that family); the false-positive rate is per
negative category (``benign``, ``hard_negative``); per language both are computed on that
language's rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Counts:
    """Confusion counts at one threshold."""

    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        """tp / (tp + fp); 1.0 when nothing was flagged."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """tp / (tp + fn); 1.0 when there were no attacks."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def fpr(self) -> float:
        """fp / (fp + tn); 0.0 when there were no negatives."""
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0

    def add(self, label: int, flagged: bool) -> Counts:
        """These counts with one more example."""
        return Counts(
            self.tp + (label == 1 and flagged),
            self.fp + (label == 0 and flagged),
            self.tn + (label == 0 and not flagged),
            self.fn + (label == 1 and not flagged),
        )

    def row(self) -> dict[str, Any]:
        """A table row: n, precision, recall, FPR."""
        return {
            "n": self.tp + self.fp + self.tn + self.fn,
            "precision": round(self.precision, 3),
            "recall": round(self.recall, 3),
            "fpr": round(self.fpr, 3),
        }


@dataclass(frozen=True, slots=True)
class Report:
    """Counts overall, by family (attack family or negative category) and by language."""

    overall: Counts
    by_family: Mapping[str, Counts]
    by_lang: Mapping[str, Counts]


def evaluate(
    rows: Iterable[Mapping[str, Any]], score: Callable[[str], float], threshold: float
) -> Report:
    """Count how ``score(text) >= threshold`` agrees with the labels."""
    overall = Counts()
    by_family: dict[str, Counts] = {}
    by_lang: dict[str, Counts] = {}
    for r in rows:
        label = int(r["label"])
        flagged = score(str(r["text"])) >= threshold
        overall = overall.add(label, flagged)
        family, lang = str(r["family"]), str(r["lang"])
        by_family[family] = by_family.get(family, Counts()).add(label, flagged)
        by_lang[lang] = by_lang.get(lang, Counts()).add(label, flagged)
    return Report(overall, dict(sorted(by_family.items())), dict(sorted(by_lang.items())))


def read_corpus(path: Path) -> list[dict[str, Any]]:
    """Rows of a corpus JSONL file."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
