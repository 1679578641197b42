"""Choose the sparse retrieval defaults on the tune split, in process (no services, no NATS).

Simulates what ingestion + retrieval do: cut each pydoc topic into chunks, encode each chunk with
:class:`llmops_shared.sparse.SparseEncoder` (BM25 document vectors), weigh terms with the IDF the
index keeps over the chunk collection (Qdrant's ``Modifier.IDF``: ``ln(1 + (N - n + 0.5) /
(n + 0.5))``), score each query (weight 1 per distinct term) by dot product, keep the best
``top_k`` chunks as the RPC does, collapse them to documents and score recall@10, MRR, nDCG@10.

``python -m bench.retrieval_tune`` prints the grid on the tune split; ``--holdout`` runs the
chosen defaults (:data:`CHOSEN`) once on the holdout split. Never tune on holdout numbers.
"""

from __future__ import annotations

import argparse
import math
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bench.pydoc_corpus import LabelledQuery, load_queries, pydoc_topics
from bench.retrieval_metrics import Quality, evaluate, rank_documents
from llmops_shared.sparse import SparseEncoder

TOP_K = 10
_SPACE = re.compile(r"\S+")


@dataclass(frozen=True)
class Config:
    """One point of the grid."""

    chunker: str = "words"  # "words": windows of words; "service": ingestion's chunker on main
    size: int = 200  # words per window (characters for "service")
    overlap: int = 50
    k1: float = 1.2
    b: float = 0.75
    avg_len: float = 120.0
    title: bool = False  # prefix each chunk with its document's title line
    top_k: int = TOP_K  # chunks asked of the index
    fillers: bool = False  # drop question filler words (:data:`FILLERS`) from queries

    def label(self) -> str:
        """A short name for the table."""
        title = "+title" if self.title else ""
        fillers = " -fillers" if self.fillers else ""
        return (
            f"{self.chunker} {self.size}/{self.overlap}{title}{fillers} "
            f"k1={self.k1} b={self.b} avg={self.avg_len:g}"
        )


#: Words of how developers phrase questions ("how does X work", "what does X mean") that never
#: name a topic, yet are rare in reference text, so IDF weighs them up: a proposed addition to
#: ``llmops_shared.sparse.STOP_WORDS``, simulated here on the query side only.
FILLERS = frozenset(
    [
        "work",
        "works",
        "working",
        "use",
        "using",
        "used",
        "get",
        "make",
        "want",
        "need",
        "way",
        "mean",
        "means",
        "happen",
        "happens",
        "python",
    ]
)

#: The defaults this harness chose on the tune split (see docs/decisions.md).
CHOSEN = Config()
#: The same with the proposed filler words dropped from queries.
PROPOSED = replace(CHOSEN, fillers=True)


def word_windows(text: str, size: int, overlap: int) -> list[str]:
    """Windows of ``size`` whitespace-separated words, each repeating ``overlap`` of the last."""
    words = _SPACE.findall(text)
    if not words:
        return []
    step = max(1, size - overlap)
    chunks = []
    for start in range(0, len(words), step):
        chunks.append(" ".join(words[start : start + size]))
        if start + size >= len(words):
            break
    return chunks


def title_of(text: str) -> str:
    """A pydoc topic's first line: its heading."""
    return text.split("\n", 1)[0].strip()


def chunk(config: Config, text: str) -> list[str]:
    """A topic's chunk texts under ``config`` (identical texts collapse, as chunk ids do)."""
    if config.chunker == "words":
        pieces = word_windows(text, config.size, config.overlap)
    else:
        from llmops_ingestion.service import chunk_text  # what main's ingestion does today

        pieces = chunk_text(text, config.size, config.overlap)
    if config.title:
        heading = title_of(text)
        pieces = [p if p.startswith(heading) else f"{heading}\n{p}" for p in pieces]
    return list(dict.fromkeys(pieces))


class SparseIndex:
    """Chunks as BM25 vectors with collection IDF: the index the retrieval service keeps."""

    def __init__(self, encoder: SparseEncoder) -> None:
        self.encoder = encoder
        self.documents: list[str] = []
        self.postings: dict[int, list[tuple[int, float]]] = defaultdict(list)

    def add(self, document_id: str, texts: Sequence[str]) -> None:
        """Index the chunks of one document."""
        for text in texts:
            row = len(self.documents)
            self.documents.append(document_id)
            for term, value in zip(*self.encoder.document(text), strict=True):
                self.postings[term].append((row, value))

    def search(self, query: str, top_k: int) -> list[str]:
        """Document ids of the best ``top_k`` chunks, best first."""
        n = len(self.documents)
        scores: dict[int, float] = defaultdict(float)
        for term in self.encoder.query(query)[0]:
            posting = self.postings.get(term, [])
            if not posting:
                continue
            idf = math.log(1 + (n - len(posting) + 0.5) / (len(posting) + 0.5))
            for row, value in posting:
                scores[row] += idf * value
        best = sorted(scores.items(), key=lambda rv: (-rv[1], rv[0]))[:top_k]
        return [self.documents[row] for row, _ in best]


def build(config: Config, topics: dict[str, str]) -> SparseIndex:
    """The index of every topic under ``config``."""
    index = SparseIndex(SparseEncoder(k1=config.k1, b=config.b, avg_len=config.avg_len))
    for name, text in sorted(topics.items()):
        index.add(name, chunk(config, text))
    return index


def score(
    config: Config, queries: Sequence[LabelledQuery], topics: dict[str, str]
) -> tuple[Quality, list[tuple[LabelledQuery, list[str]]]]:
    """Quality of ``config`` on ``queries``, and each query's document ranking."""
    index = build(config, topics)
    ranked = [
        (q, rank_documents(index.search(_asked(config, q.query), config.top_k))) for q in queries
    ]
    return evaluate((r, q.relevant) for q, r in ranked), ranked


def _asked(config: Config, query: str) -> str:
    """The query text as the index sees it under ``config``."""
    if not config.fillers:
        return query
    return " ".join(w for w in query.split() if w.lower().strip("?,.") not in FILLERS)


def grid() -> list[Config]:
    """The configurations compared on the tune split."""
    base = Config()
    configs = [replace(base, chunker="service", size=1000, overlap=150)]
    for size, overlap in ((100, 20), (150, 30), (200, 50), (300, 50), (500, 100)):
        for title in (False, True):
            configs.append(replace(base, size=size, overlap=overlap, title=title))
        configs.append(replace(base, size=size, overlap=overlap, fillers=True))
    for k1, b in ((0.9, 0.4), (1.2, 0.5), (1.5, 0.75), (2.0, 0.75), (1.2, 0.9)):
        configs.append(replace(base, k1=k1, b=b))
    for avg in (60.0, 200.0):
        configs.append(replace(base, avg_len=avg))
    configs.append(replace(base, title=True, fillers=True))
    configs.append(replace(base, k1=2.0, fillers=True))
    return configs


def _row(config: Config, quality: Quality) -> dict[str, Any]:
    return {
        "config": config.label(),
        "queries": quality.queries,
        "recall@10": round(quality.recall, 3),
        "MRR": round(quality.mrr, 3),
        "nDCG@10": round(quality.ndcg, 3),
    }


def main(argv: Sequence[str] | None = None, out: Callable[[str], None] = print) -> None:
    """Print the tune grid, or (``--holdout``) the chosen defaults on holdout."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--holdout", action="store_true", help="score CHOSEN on holdout, once")
    parser.add_argument("--failures", action="store_true", help="list tune misses of PROPOSED")
    args = parser.parse_args(argv)
    topics = pydoc_topics()
    if args.holdout:
        held = load_queries("holdout", set(topics))
        for config in (CHOSEN, PROPOSED):
            quality, _ = score(config, held.queries, topics)
            out(f"holdout ({held.skipped} skipped): {_row(config, quality)}")
        return
    tune = load_queries("tune", set(topics))
    if args.failures:
        _, ranked = score(PROPOSED, tune.queries, topics)
        for q, ranking in ranked:
            missing = sorted(q.relevant - set(ranking[:TOP_K]))
            if missing:
                out(f"{q.query!r}: missing {missing}; got {ranking[:TOP_K]}")
        return
    out(f"tune: {len(tune.queries)} queries ({tune.skipped} skipped)")
    for config in grid():
        quality, _ = score(config, tune.queries, topics)
        out(str(_row(config, quality)))


if __name__ == "__main__":
    main()
