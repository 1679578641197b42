"""Quality on the committed corpus: the tune split and the untuned holdout, at the shipped threshold.

The holdout was written before the rules and never tuned on; these numbers are what
``bench/bench_guardrails_injection.py`` reports. Target (issue 12): recall >= 0.90 at a
false-positive rate <= 0.02 on the untuned split.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from llmops_guardrails.detectors.injection import InjectionDetector
from llmops_guardrails.detectors.injection_quality import Report, evaluate, read_corpus

CORPUS = Path(__file__).resolve().parents[4] / "services" / "guardrails" / "corpus" / "injection"


@pytest.fixture(scope="module")
def reports() -> dict[str, Report]:
    d = InjectionDetector()
    out = {}
    for split in ("tune", "holdout"):
        out[split] = evaluate(
            read_corpus(CORPUS / f"{split}.jsonl"), lambda t: d.analyse(t).score, d.threshold
        )
    return out


def test_corpus_sizes() -> None:
    for split, least in (("train", 1000), ("tune", 300), ("holdout", 500)):
        rows = read_corpus(CORPUS / f"{split}.jsonl")
        assert len(rows) >= least
        assert {r["lang"] for r in rows} == {"en", "fr", "de", "es", "pt"}


def test_tune_split_meets_the_target(reports: dict[str, Report]) -> None:
    tune = reports["tune"].overall
    assert tune.fpr <= 0.02
    assert tune.recall >= 0.90


@pytest.mark.xfail(
    strict=True,
    reason="Known miss, reported honestly: on the untuned holdout the shipped threshold catches "
    "88.0% of attacks (tool hijack 0.794, German 0.837) at 1.8% false positives. Before the "
    "model and calibration learned from third-party rows it caught 90.3% at 2.5% (and flagged "
    "9.0% of the third-party negatives: shared role-play and system prompts). The 0.90 "
    "target is not met.",
)
def test_holdout_recall_meets_the_target(reports: dict[str, Report]) -> None:
    assert reports["holdout"].overall.recall >= 0.90


def test_holdout_false_positive_rate_meets_the_target(reports: dict[str, Report]) -> None:
    assert reports["holdout"].overall.fpr <= 0.02


def _external(half: str) -> list[dict[str, object]]:
    return [r for r in read_corpus(CORPUS / "external.jsonl") if r["split"] == half]


def test_external_rows_are_split_by_their_group_hash() -> None:
    import sys

    sys.path.insert(0, str(CORPUS.parents[3] / "tools"))
    from injection_corpus_external import split_of

    rows = read_corpus(CORPUS / "external.jsonl")
    assert len(rows) >= 1000
    assert all(r["split"] == split_of(str(r["group"])) for r in rows)
    for half in ("train", "tune", "holdout"):
        assert {int(r["label"]) for r in rows if r["split"] == half} == {0, 1}
    seen = {r["group"] for r in rows if r["split"] != "holdout"}
    assert seen.isdisjoint(r["group"] for r in rows if r["split"] == "holdout")


def test_third_party_holdout_half() -> None:
    # Phrasings nobody on the project wrote, never trained or tuned on. Measured: recall
    # 0.760 and false positives 1.8% (shared prompts 2.8%); rules r2 and the model trained on
    # our rows only: 0.681 and 9.0%. A floor, so that a change that loses them shows.
    d = InjectionDetector()
    rep = evaluate(_external("holdout"), lambda t: d.analyse(t).score, d.threshold)
    assert rep.overall.recall >= 0.74
    assert rep.overall.fpr <= 0.02
