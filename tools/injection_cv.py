"""Leave-authors-out cross-validation of the injection detector: ``make cv-guardrails``.

Usage: ``python tools/injection_cv.py [--folds K] [--authors F] [--always-train A,B,...]
[TRAIN_ARGS...]``

The tune rows of ``authors.jsonl`` share their authors with the train rows (the split is by
idea), so the tune numbers say how the detector does on new ideas of authors it has read, not
on a new author. This estimates the latter without touching the holdout: the training
authors are dealt into ``K`` folds (sorted, in turn); for each fold, the model weights,
calibration and threshold are trained by ``tools/train_injection.py`` (with ``TRAIN_ARGS``)
without that fold's authors' rows, then that fold's rows (train and tune) are scored. Recall
and false-positive rate are pooled over the folds, overall and per language. The holdout
authors' rows are never read, and neither they nor the test authors' rows train or are
scored. Measure a change to the rules, features or training here before looking at any
holdout.

An upper estimate: the rules (r4's addressed-to-an-AI patterns, the discussion words) were
written while reading the first 19 authors' train rows (r5's few phrasings while reading
a109's), and a fold's authors are left out of the weights and calibration, not out of the
rules. ``--always-train`` names authors that always
train and are never scored (a learning curve: how recall on the same folds moves as authors
are added).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from llmops_guardrails.detectors.injection_quality import Counts, evaluate

sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_injection  # the sibling tool, found through the path above
from injection_corpus_authors import HELD  # the splits nothing trains or tunes on

CORPUS = train_injection.CORPUS


def folds(
    rows: list[dict[str, Any]], k: int, always: frozenset[str] = frozenset()
) -> list[set[str]]:
    """The training authors (not holdout or test, not ``always``) dealt into ``k`` folds,
    sorted."""
    authors = sorted({str(r["author"]) for r in rows if r["split"] not in HELD} - always)
    return [set(authors[i::k]) for i in range(k)]


def _rate(c: Counts) -> str:
    attacks, negatives = c.tp + c.fn, c.fp + c.tn
    return f"recall {c.recall:.3f}  fpr {c.fpr:.3f}  ({attacks} attacks, {negatives} negatives)"


def main(argv: list[str] | None = None) -> None:
    """Train once per fold, score the fold, print pooled recall and false-positive rate."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--authors", type=Path, default=CORPUS / "authors.jsonl")
    parser.add_argument("--always-train", default="", help="comma-separated authors")
    args, train_args = parser.parse_known_args(argv)
    if any(a == "--out" or a.startswith("--out=") for a in train_args):
        parser.error("--out: each fold's model goes to a temporary file")
    always = frozenset(filter(None, args.always_train.split(",")))

    from llmops_guardrails.detectors.injection import InjectionDetector

    rows = train_injection.read(args.authors)
    flagged: dict[str, float] = {}  # text -> 1.0 when its fold's detector flagged it
    scored: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="injection-cv-") as tmp:
        for k, fold in enumerate(folds(rows, args.folds, always)):
            corpus, model = Path(tmp) / f"authors-{k}.jsonl", Path(tmp) / f"model-{k}.json"
            with corpus.open("w", encoding="utf-8") as f:
                for r in rows:  # the fold's authors, holdout and test: none trains or tunes
                    if r["split"] not in HELD and r["author"] not in fold:
                        f.write(json.dumps(r, ensure_ascii=False) + "\n")
            train_injection.main(["--authors", str(corpus), "--out", str(model), *train_args])
            detector = InjectionDetector(model_path=model)
            part = [r for r in rows if r["author"] in fold]
            for r in part:  # texts are unique in the corpus (the corpus tool deduplicates)
                flagged[r["text"]] = float(detector.analyse(r["text"]).flagged)
            scored += part
            fold_report = evaluate(part, flagged.__getitem__, 0.5)
            print(f"fold {k} ({', '.join(sorted(fold))}): {_rate(fold_report.overall)}", flush=True)
    report = evaluate(scored, flagged.__getitem__, 0.5)
    print(f"leave-authors-out, {args.folds} folds: {_rate(report.overall)}")
    for lang, c in report.by_lang.items():
        print(f"  {lang}: {_rate(c)}")


if __name__ == "__main__":
    main()
