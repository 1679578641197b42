"""Retrieval quality tooling: document-level metrics checked by hand, the corpus, the labels, the bench."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.pydoc_corpus import LabelledQuery, load_queries, pydoc_topics, write_pydoc_topics
from bench.retrieval_metrics import (
    evaluate,
    ndcg_at,
    rank_documents,
    recall_at,
    reciprocal_rank,
)
from bench.retrieval_tune import CHOSEN, score, word_windows

ROOT = Path(__file__).resolve().parents[2]


def test_chunks_collapse_to_documents_at_their_first_chunk() -> None:
    assert rank_documents(["with", "compound", "with", "try", "compound"]) == [
        "with",
        "compound",
        "try",
    ]


def test_recall_counts_relevant_documents_within_k() -> None:
    ranking = ["a", "b", "c", "d"]
    assert recall_at(ranking, {"b", "d"}, 4) == 1.0
    assert recall_at(ranking, {"b", "d"}, 3) == 0.5  # d is 4th
    assert recall_at(ranking, {"x"}, 4) == 0.0
    assert recall_at(ranking, {"a", "x", "y", "z"}, 10) == 0.25


def test_reciprocal_rank_is_one_over_the_first_relevant_rank() -> None:
    assert reciprocal_rank(["a", "b", "c"], {"c", "b"}) == 0.5
    assert reciprocal_rank(["a", "b", "c"], {"a"}) == 1.0
    assert reciprocal_rank(["a", "b", "c"], {"z"}) == 0.0
    assert reciprocal_rank(["a", "b", "c"], {"c"}, k=2) == 0.0


def test_ndcg_by_hand() -> None:
    # Relevant at ranks 2 and 3 of two: DCG = 1/log2(3) + 1/log2(4) = 0.6309 + 0.5;
    # ideal = 1/log2(2) + 1/log2(3) = 1 + 0.6309.
    expected = (1 / math.log2(3) + 0.5) / (1 + 1 / math.log2(3))
    assert ndcg_at(["x", "a", "b"], {"a", "b"}, 10) == pytest.approx(expected)
    assert ndcg_at(["x", "a", "b"], {"a", "b"}, 10) == pytest.approx(0.6934, abs=1e-4)
    assert ndcg_at(["a", "b", "x"], {"a", "b"}, 10) == pytest.approx(1.0)
    # Beyond k nothing counts; the ideal is capped at k relevant documents.
    assert ndcg_at(["x", "y", "a"], {"a"}, 2) == 0.0
    assert ndcg_at(["a"], {"a", "b", "c"}, 1) == pytest.approx(1.0)


def test_a_query_without_relevant_documents_is_refused() -> None:
    with pytest.raises(ValueError, match="relevant"):
        recall_at(["a"], set(), 10)
    with pytest.raises(ValueError, match="relevant"):
        ndcg_at(["a"], set(), 10)


def test_evaluate_averages_over_queries() -> None:
    quality = evaluate(
        [
            (["a", "b"], {"a"}),  # recall 1, rr 1, ndcg 1
            (["x", "b"], {"b", "c"}),  # recall 0.5, rr 0.5, ndcg (1/log2 3) / (1 + 1/log2 3)
        ],
        k=10,
    )
    second = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert quality.queries == 2
    assert quality.recall == pytest.approx(0.75)
    assert quality.mrr == pytest.approx(0.75)
    assert quality.ndcg == pytest.approx((1 + second) / 2)
    assert evaluate([]).queries == 0


def test_labelled_queries_name_only_topics_this_python_has() -> None:
    for split, least in (("tune", 60), ("holdout", 40)):
        queries = load_queries(split)
        assert queries.skipped == 0, f"{split}: a label names a topic missing here"
        assert len(queries.queries) >= least


def test_queries_naming_a_missing_topic_are_skipped_and_counted() -> None:
    everything = load_queries("holdout")
    fewer = load_queries("holdout", available=_all() - {"debugger"})
    pdb_queries = sum("debugger" in q.relevant for q in everything.queries)
    assert pdb_queries > 0
    assert fewer.skipped == pdb_queries
    assert len(fewer.queries) == len(everything.queries) - pdb_queries


def test_every_topic_is_written_to_its_own_file(tmp_path: Path) -> None:
    files = write_pydoc_topics(tmp_path / "corpus")
    topics = pydoc_topics()
    assert {f.stem for f in files} == set(topics)
    assert (tmp_path / "corpus" / "with.txt").read_text(encoding="utf-8") == topics["with"]


def _all() -> set[str]:
    return set(pydoc_topics())


@pytest.mark.slow
def test_retrieval_benchmark_runs_and_writes_both_tables(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LLMOPS_BENCH_RESULTS": str(tmp_path),
        "LLMOPS_BENCH_RETRIEVAL_CHUNKS": "500",
        "LLMOPS_BENCH_RETRIEVAL_QUERIES": "100",
        "LLMOPS_BENCH_RETRIEVAL_COPIES": "1",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.bench_retrieval"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    quality = json.loads((tmp_path / "retrieval_quality.json").read_text())
    asked = {(r["split"], r["mode asked"]) for r in quality["rows"]}
    assert {("tune", "default"), ("holdout", "default"), ("tune", "sparse")} <= asked
    assert all(0 <= r["recall@10"] <= 1 and r["queries"] > 0 for r in quality["rows"])
    speed = json.loads((tmp_path / "retrieval_speed.json").read_text())
    measures = {r["measure"] for r in speed["rows"]}
    assert {"sparse query p99", "hybrid query p99", "ingestion"} <= measures
    assert all(r["llmops"] > 0 for r in speed["rows"])


def test_word_windows_overlap_and_cover_the_text() -> None:
    text = " ".join(f"w{i}" for i in range(10))
    assert word_windows(text, 4, 1) == ["w0 w1 w2 w3", "w3 w4 w5 w6", "w6 w7 w8 w9"]
    assert word_windows(text, 20, 5) == [text]
    assert word_windows("  ", 4, 1) == []


def test_the_tuning_index_ranks_the_defining_topic_first() -> None:
    topics = pydoc_topics()
    quality, ranked = score(
        CHOSEN, [LabelledQuery("nonlocal statement", frozenset({"nonlocal"}))], topics
    )
    assert ranked[0][1][0] == "nonlocal"
    assert quality.mrr == 1.0
