"""Guardrails PII and secrets detectors: quality on the labelled corpus, and time per 1 KB.

Two tables:

- **quality**: per kind, on the holdout split (never used for tuning) and on the independent
  authors' holdout (``authors.jsonl``, twenty authors nobody on the project read), overall on the
  authors' dev rows (read to find gaps) and the tune split:
  values hidden (gold spans fully covered by findings), precision (findings overlapping a gold
  span) and the share of clean look-alike texts flagged, at each detector's default threshold.
  Targets from issue 12, on the holdout: values hidden >= 0.98 with <= 0.10 of look-alikes flagged.
- **latency**: µs per 1 KB text for ``PiiDetector`` and ``SecretsDetector`` (best of several
  runs): prose with no digits; a chat prompt with one email and a few small numbers; a support
  ticket dense with values (an email, a phone, a card and an IBAN every 350 characters, between
  dates, prices and order numbers); and sentences of the holdout corpus back to back (about 25
  values per KB, a worst case). The cost grows with the number of values, not the text: each
  confirmed value pays its validator (stdnum's IBAN check alone is ~30 µs).

Environment: ``LLMOPS_BENCH_GUARD_RUNS`` (default 5) timing repetitions.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence

from bench._harness import best_of, report
from llmops_guardrails.detectors.base import Hit
from llmops_guardrails.detectors.pii import DEFAULT_THRESHOLD, PiiDetector
from llmops_guardrails.detectors.quality import (
    CORPUS_DIR,
    Example,
    KindQuality,
    evaluate,
    load_corpus,
    parse_example,
)
from llmops_guardrails.detectors.secrets import SecretsDetector

RUNS = int(os.environ.get("LLMOPS_BENCH_GUARD_RUNS", "5"))
#: Calls per timing run.
CALLS = 200

PROSE = (
    "Please summarise the quarterly report for the customer support team in plain language. "
    "Explain the main risks, the key points of the new onboarding process and what changed "
    "since the last review, with two short examples for each team. "
)
CHAT = (
    "Hi, I am preparing the agenda for the 3 workshops on 14 May and need help. Could you draft "
    "an email to the 12 participants, list the 5 main topics and suggest a 90-minute schedule? "
    "Replies should go to maria.lopez@example.org. We expect about 40 people in room 2.07. "
)
TICKET = (
    "Ticket 48213 (priority 2): the customer Jane Roe, jane.roe@example.com, tel. +44 20 7946 "
    "0958, says order 7731-2291 from 2024-03-15 was charged twice (EUR 1,299.00). She paid with "
    "card 4111 1111 1111 1111 and asks for a refund to IBAN DE89 3704 0044 0532 0130 00. "
    "App version 3.2.1 on Android 14; request id 123e4567-e89b-12d3-a456-426614174000. "
)


def _kb(text: str) -> str:
    return (text * (1024 // len(text) + 1))[:1024]


def _row(split: str, q: KindQuality) -> dict[str, object]:
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    return {
        "split": split,
        "kind": q.kind,
        "gold": q.gold,
        "hidden": pct(q.hidden_rate),
        "findings": q.predicted,
        "precision": pct(q.precision),
        "look-alikes": q.lookalikes,
        "flagged": pct(q.flagged_rate),
    }


def authors_split(split: str) -> list[Example]:
    """The independent authors' rows of ``split`` (``dev`` or ``holdout``)."""
    lines = (CORPUS_DIR / "authors.jsonl").read_text(encoding="utf-8").splitlines()
    return [parse_example(line) for line in lines if json.loads(line)["split"] == split]


def quality_rows(detect: Callable[[str], Sequence[Hit]]) -> list[dict[str, object]]:
    """Rows per kind and overall: our holdout, the independent authors' holdout (overall and
    per kind), their dev rows and our tune split (overall only)."""
    rows: list[dict[str, object]] = []
    splits = (
        ("holdout", load_corpus(CORPUS_DIR / "holdout.jsonl"), True),
        ("authors-holdout", authors_split("holdout"), True),
        ("authors-dev", authors_split("dev"), False),
        ("tune", load_corpus(CORPUS_DIR / "tune.jsonl"), False),
    )
    for split, examples, per_kind in splits:
        result = evaluate(detect, examples, DEFAULT_THRESHOLD)
        if per_kind:
            rows.extend(_row(split, q) for q in result.kinds)
        rows.append(_row(split, result.overall))
    return rows


def latency_rows(pii: PiiDetector, secrets: SecretsDetector) -> list[dict[str, object]]:
    """µs per 1 KB text for each detector and both together."""
    holdout = load_corpus(CORPUS_DIR / "holdout.jsonl")
    corpus_kb = _kb(" ".join(e.text for e in holdout[::7]))
    rows: list[dict[str, object]] = []
    texts = (
        ("prose", _kb(PROSE)),
        ("chat", _kb(CHAT)),
        ("ticket", _kb(TICKET)),
        ("holdout", corpus_kb),
    )
    for name, text in texts:
        timings = {}
        for label, fn in (("pii", pii.detect), ("secrets", secrets.detect)):
            seconds = best_of(RUNS, lambda fn=fn, text=text: [fn(text) for _ in range(CALLS)])
            timings[label] = seconds / CALLS * 1e6
        rows.append(
            {
                "text (1 KB)": name,
                "pii µs": round(timings["pii"], 1),
                "secrets µs": round(timings["secrets"], 1),
                "both µs": round(timings["pii"] + timings["secrets"], 1),
            }
        )
    return rows


def main() -> None:
    """Print both tables and write bench/results/guardrails_quality.json."""
    pii, secrets = PiiDetector(), SecretsDetector()

    def detect(text: str) -> list[Hit]:
        return [*pii.detect(text), *secrets.detect(text)]

    rows = quality_rows(detect)
    overall = next(r for r in rows if r["split"] == "holdout" and r["kind"] == "overall")
    theirs = next(r for r in rows if r["split"] == "authors-holdout" and r["kind"] == "overall")
    report(
        "guardrails_quality",
        f"PII + secrets detectors at threshold {DEFAULT_THRESHOLD} (holdout never tuned on)",
        rows,
        [
            "hidden = gold spans fully covered by findings; precision = findings overlapping a "
            "gold span; flagged = clean look-alike texts with any finding.",
            f"Holdout overall: hidden {overall['hidden']} (target >= 0.98), look-alikes flagged "
            f"{overall['flagged']} (target <= 0.10).",
            f"Independent authors' holdout (never read row by row): hidden {theirs['hidden']}, "
            f"look-alikes flagged {theirs['flagged']}.",
        ],
    )
    report(
        "guardrails_detector_latency",
        "PII and secrets detectors: µs per 1 KB text (best of runs)",
        latency_rows(pii, secrets),
    )


if __name__ == "__main__":
    main()
