"""Write the independent authors' PII corpus: ``services/guardrails/corpus/pii/authors.jsonl``.

Usage: ``python tools/pii_corpus_authors.py RAW_DIR [--out FILE]``

The other PII splits (``tune``, ``holdout``) were written by the people who wrote the
detectors. These rows were written by sixty-eight separate authors in ten rounds (p1-p6, p7-p12,
p13-p18, p19-p24, p25-p30, p31-p36, p37-p44, p45-p52, p53-p60, p61-p68), each given only a one-page brief
(the row format, the kinds, what a look-alike is) and a focus, and told not to read the detectors or any
corpus; each wrote every text by hand and computed check digits and span offsets with a script
of their own.

``RAW_DIR`` holds one file per author, ``<author>.jsonl``: rows with ``text spans lang note``
and, for a clean text, ``lookalike``. The authors in ``HOLDOUT_AUTHORS`` are ``holdout``:
never read row by row by anyone on the project, scored in aggregate only. The others are
``dev``: their missed values were read to find what the detectors lacked (pii-2 to pii-10). Rows
are checked (spans inside the text, non-empty, not overlapping, of a known kind), deduplicated
by text and written in a fixed order, so the output is byte-identical for the same input.
"""

from __future__ import annotations

import argparse
import json
from itertools import pairwise
from pathlib import Path
from typing import Any

from llmops_guardrails.detectors.pii import KINDS as PII_KINDS

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "services" / "guardrails" / "corpus" / "pii" / "authors.jsonl"
#: The authors who wrote for the holdout (their reports gave counts only): two of the first
#: round, three of each later one.
HOLDOUT_AUTHORS = frozenset(
    {
        *("p5", "p6", "p10", "p11", "p12", "p16", "p17", "p18"),
        *("p22", "p23", "p24", "p28", "p29", "p30", "p34", "p35", "p36"),
        *("p40", "p41", "p42"),
    }
)
LANGS = {"en", "fr", "de", "es", "pt", "it"}
#: The secret kinds of the brief (the corpus README's list).
_SECRET_KINDS = (
    "openai_api_key anthropic_api_key aws_access_key_id aws_secret_access_key github_token "
    "gitlab_token slack_token stripe_key google_api_key twilio_api_key sendgrid_api_key npm_token "
    "pypi_token huggingface_token jwt private_key password generic_secret"
)
SECRET_KINDS = frozenset(_SECRET_KINDS.split())


def _row(author: str, raw: dict[str, Any]) -> dict[str, Any]:
    """One checked output row (raises ``ValueError`` naming what is wrong)."""
    text = raw["text"]
    if not isinstance(text, str) or not text.strip():
        raise ValueError("empty text")
    if raw.get("lang") not in LANGS:
        raise ValueError(f"unknown lang {raw.get('lang')!r}")
    kinds = set(PII_KINDS) | set(SECRET_KINDS)
    spans = sorted(
        ({"start": int(s["start"]), "end": int(s["end"]), "kind": s["kind"]} for s in raw["spans"]),
        key=lambda s: (s["start"], s["end"]),
    )
    for s in spans:
        if s["kind"] not in kinds:
            raise ValueError(f"unknown kind {s['kind']!r}")
        if not 0 <= s["start"] < s["end"] <= len(text):
            raise ValueError(f"span outside the text: {s}")
    for a, b in pairwise(spans):
        if b["start"] < a["end"]:
            raise ValueError(f"overlapping spans: {a}, {b}")
    row: dict[str, Any] = {"text": text, "spans": spans}
    if not spans:
        row["lookalike"] = raw.get("lookalike") or "unspecified"
    row["lang"] = raw["lang"]
    row["note"] = str(raw.get("note", ""))
    row["author"] = author
    row["split"] = "holdout" if author in HOLDOUT_AUTHORS else "dev"
    return row


def build(raw_dir: Path) -> list[dict[str, Any]]:
    """Every author's checked rows, by author then in the author's order, each text once."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for path in sorted(raw_dir.glob("*.jsonl"), key=lambda p: (len(p.stem), p.stem)):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = _row(path.stem, json.loads(line))
            except (ValueError, KeyError, TypeError) as exc:
                raise SystemExit(f"{path.name}:{n}: {exc}") from None
            if row["text"] not in seen:
                seen.add(row["text"])
                rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> None:
    """Check and write the corpus."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw_dir", type=Path)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    rows = build(args.raw_dir)
    with args.out.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n")
    splits = {s: sum(r["split"] == s for r in rows) for s in ("dev", "holdout")}
    print(f"wrote {args.out}: {len(rows)} rows {splits}")


if __name__ == "__main__":
    main()
