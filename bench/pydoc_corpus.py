"""The retrieval quality corpus: every topic of the standard library's ``pydoc_data.topics``.

Each topic is written to ``<topic>.txt``; a document's id is its file name without the
extension, so the right answer to a labelled query is a topic name. The topics differ between
Python versions: the labelled queries under ``bench/retrieval_queries`` only use topics that
Python 3.11, 3.12 and 3.13 all have, and :func:`load_queries` skips (and counts) the ones naming
a topic this interpreter lacks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

QUERIES = Path(__file__).parent / "retrieval_queries"
#: The labelled query sets: ``tune`` chooses defaults, ``holdout`` only checks them.
SPLITS = ("tune", "holdout")


def pydoc_topics() -> dict[str, str]:
    """The topics of this interpreter: topic name to its help text."""
    from pydoc_data.topics import topics  # imported late: 700 kB of text

    return dict(topics)


def write_pydoc_topics(directory: Path | str) -> list[Path]:
    """Write every pydoc topic to ``<directory>/<topic>.txt``; returns the files, sorted by name."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for name, text in sorted(pydoc_topics().items()):
        path = out / f"{name}.txt"
        path.write_text(text, encoding="utf-8")
        files.append(path)
    return files


@dataclass(frozen=True)
class LabelledQuery:
    """A question and the topics (document ids) that answer it."""

    query: str
    relevant: frozenset[str]


@dataclass(frozen=True)
class QuerySet:
    """The queries of one split that this interpreter's corpus can answer, and how many not."""

    split: str
    queries: list[LabelledQuery]
    skipped: int


def load_queries(split: str, available: set[str] | None = None) -> QuerySet:
    """The labelled queries of ``split``; a query naming a topic not in ``available`` is skipped.

    ``available`` defaults to this interpreter's topics.
    """
    topics = set(pydoc_topics()) if available is None else available
    kept, skipped = [], 0
    for line in (QUERIES / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        relevant = frozenset(row["relevant"])
        if not relevant or not relevant <= topics:
            skipped += 1
            continue
        kept.append(LabelledQuery(row["query"], relevant))
    return QuerySet(split, kept, skipped)
