"""The quality measures, the committed corpus, and the holdout targets of issue 12."""

from __future__ import annotations

import importlib.util
import json
import sys
from itertools import pairwise
from pathlib import Path

from llmops_guardrails.detectors.base import Hit
from llmops_guardrails.detectors.pii import DEFAULT_THRESHOLD, PiiDetector
from llmops_guardrails.detectors.quality import (
    CORPUS_DIR,
    Example,
    GoldSpan,
    evaluate,
    load_corpus,
    parse_example,
)
from llmops_guardrails.detectors.secrets import SecretsDetector

ROOT = Path(__file__).resolve().parents[4]


def _fixed(*hits: tuple[str, int, int, float]) -> object:
    def detect(text: str) -> list[Hit]:
        return [Hit("fake", k, s, e, score, "0") for k, s, e, score in hits]

    return detect


def test_a_span_is_hidden_only_when_every_character_is_covered() -> None:
    example = Example("0123456789", (GoldSpan(2, 8, "card_number"),))
    partly = evaluate(_fixed(("card_number", 2, 7, 0.9)), [example])  # type: ignore[arg-type]
    pieced = evaluate(
        _fixed(("card_number", 2, 5, 0.9), ("phone", 5, 8, 0.9)),  # type: ignore[arg-type]
        [example],
    )
    low = evaluate(_fixed(("card_number", 0, 10, 0.3)), [example])  # type: ignore[arg-type]
    assert partly.overall.hidden == 0
    assert pieced.overall.hidden == 1  # two findings together cover it
    assert low.overall.hidden == 0  # below the threshold


def test_precision_and_look_alikes_flagged() -> None:
    examples = [
        Example("a value here", (GoldSpan(2, 7, "email"),)),
        Example("clean text one", (), lookalike="card_number"),
        Example("clean text two", (), lookalike="card_number"),
    ]
    # One finding on the value and one off it, in every text (so the clean ones are flagged):
    # of the six findings only the one on the gold span is correct.
    report = evaluate(_fixed(("email", 2, 7, 0.9), ("email", 9, 11, 0.9)), examples)  # type: ignore[arg-type]
    assert report.overall.precision == 1 / 6
    assert report.overall.flagged_rate == 1.0
    rows = {k.kind: k for k in report.kinds}
    assert rows["card_number"].lookalikes == 2
    assert rows["card_number"].flagged_rate == 1.0
    assert rows["email"].hidden_rate == 1.0


def test_the_committed_corpus_is_what_the_generator_makes(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "make_pii_corpus", ROOT / "tools" / "make_pii_corpus.py"
    )
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_pii_corpus"] = module
    spec.loader.exec_module(module)
    module.main([str(tmp_path)])
    for name in ("tune.jsonl", "holdout.jsonl"):
        assert (tmp_path / name).read_text() == (CORPUS_DIR / name).read_text(), (
            f"{name} drifted: run `python tools/make_pii_corpus.py`"
        )


def test_the_corpus_is_well_formed() -> None:
    for name in ("tune.jsonl", "holdout.jsonl"):
        examples = load_corpus(CORPUS_DIR / name)
        assert len(examples) >= 300
        clean = [e for e in examples if not e.spans]
        assert len(clean) >= 100
        assert all(e.lookalike for e in clean)
        for e in examples:
            for s in e.spans:
                value = e.text[s.start : s.end]
                assert value, (name, e.note)
                assert value == value.strip(), (name, e.note, value)


def test_holdout_meets_the_issue_targets() -> None:
    """Issue 12 on the split never tuned on: >= 98% of values hidden, <= 10% of look-alikes flagged."""
    pii, secrets = PiiDetector(), SecretsDetector()
    report = evaluate(
        lambda text: [*pii.detect(text), *secrets.detect(text)],
        load_corpus(CORPUS_DIR / "holdout.jsonl"),
        DEFAULT_THRESHOLD,
    )
    assert report.overall.hidden_rate is not None
    assert report.overall.hidden_rate >= 0.98
    assert report.overall.flagged_rate is not None
    assert report.overall.flagged_rate <= 0.10


def _authors(split: str) -> list[Example]:
    lines = (CORPUS_DIR / "authors.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    return [parse_example(json.dumps(r)) for r in rows if r["split"] == split]


def test_the_independent_authors_corpus_is_well_formed() -> None:
    lines = (CORPUS_DIR / "authors.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    assert {r["split"] for r in rows} == {"dev", "holdout"}
    holdout_authors = {r["author"] for r in rows if r["split"] == "holdout"}
    assert holdout_authors == {
        "p5", "p6", "p10", "p11", "p12", "p16", "p17", "p18", "p22", "p23", "p24", "p28", "p29",
        "p30", "p34", "p35", "p36", "p40", "p41", "p42",
    }  # fmt: skip
    assert len({r["text"] for r in rows}) == len(rows)
    for r in rows:
        spans = r["spans"]
        assert bool(spans) != bool(r.get("lookalike")), r["note"]
        for a, b in pairwise(spans):
            assert a["end"] <= b["start"]
        for s in spans:
            value = r["text"][s["start"] : s["end"]]
            assert value, (r["author"], r["note"])
            assert value == value.strip(), (r["author"], r["note"])


def test_independent_authors_holdout_a_known_gap() -> None:
    """Twenty authors who wrote PII rows for the holdout only, never read row by row (p5, p6
    of the first round; p10-p12, p16-p18, p22-p24, p28-p30, p34-p36 and p40-p42, each scored
    before any change made for their round).

    Measured with detectors pii-10 / secrets-10: 0.980 of their values hidden (8,057 of 8,219),
    4.8% of their look-alikes flagged (pii-9 / secrets-9: 0.9798 and 4.8%; pii-8 / secrets-8:
    0.975 and 4.8%; pii-7 / secrets-7: 0.971 and 4.8%; pii-6 / secrets-6: 0.967 and 4.9% on the
    same twenty). At the issue's 0.98 by three values: the floor sits a little below, so that a
    change that loses values shows without one value's noise failing the suite.
    """
    pii, secrets = PiiDetector(), SecretsDetector()
    report = evaluate(
        lambda text: [*pii.detect(text), *secrets.detect(text)],
        _authors("holdout"),
        DEFAULT_THRESHOLD,
    )
    assert report.overall.hidden_rate is not None
    assert report.overall.hidden_rate >= 0.978
    assert report.overall.flagged_rate is not None
    assert report.overall.flagged_rate <= 0.06
