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
authors' rows are never read. Measure a change to the rules, features or training here before
looking at any holdout.

An upper estimate: the rules (r4's addressed-to-an-AI patterns, the discussion words) were
written while reading the first 19 authors' train rows, and a fold's authors are left out of
the weights and calibration, not out of the rules. ``--always-train`` names authors that always
train and are never scored (a learning curve: how recall on the same folds moves as authors
are added).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_injection  # the sibling tool, found through the path above

CORPUS = train_injection.CORPUS


def folds(
    rows: list[dict[str, Any]], k: int, always: frozenset[str] = frozenset()
) -> list[set[str]]:
    """The training authors (not holdout, not ``always``) dealt into ``k`` folds, sorted."""
    authors = sorted({str(r["author"]) for r in rows if r["split"] != "holdout"} - always)
    return [set(authors[i::k]) for i in range(k)]


def _rate(c: Counter[str]) -> str:
    recall = c["tp"] / max(c["tp"] + c["fn"], 1)
    fpr = c["fp"] / max(c["fp"] + c["tn"], 1)
    return f"recall {recall:.3f}  fpr {fpr:.3f}  ({c['tp'] + c['fn']} attacks, {c['fp'] + c['tn']} negatives)"


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
    total: Counter[str] = Counter()
    by_lang: dict[str, Counter[str]] = {}
    with tempfile.TemporaryDirectory(prefix="injection-cv-") as tmp:
        for k, fold in enumerate(folds(rows, args.folds, always)):
            corpus, model = Path(tmp) / f"authors-{k}.jsonl", Path(tmp) / f"model-{k}.json"
            with corpus.open("w", encoding="utf-8") as f:
                for r in rows:  # the fold's authors and the holdout: neither trains nor tunes
                    if r["split"] != "holdout" and r["author"] not in fold:
                        f.write(json.dumps(r, ensure_ascii=False) + "\n")
            train_injection.main(["--authors", str(corpus), "--out", str(model), *train_args])
            detector = InjectionDetector(model_path=model)
            counts: Counter[str] = Counter()
            for r in rows:
                if r["author"] in fold:
                    flagged = detector.analyse(r["text"]).flagged
                    key = ("tp" if flagged else "fn") if r["label"] else ("fp" if flagged else "tn")
                    counts[key] += 1
                    by_lang.setdefault(r["lang"], Counter())[key] += 1
            total.update(counts)
            print(f"fold {k} ({', '.join(sorted(fold))}): {_rate(counts)}", flush=True)
    print(f"leave-authors-out, {args.folds} folds: {_rate(total)}")
    for lang, c in sorted(by_lang.items()):
        print(f"  {lang}: {_rate(c)}")


if __name__ == "__main__":
    main()
