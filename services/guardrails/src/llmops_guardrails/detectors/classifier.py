"""Optional adapter: a local ONNX or transformers text classifier as an injection signal.

Off by default. It loads a model from a directory the operator names (for instance a
fine-tuned prompt-injection classifier they have vetted and copied onto the machine) and
never downloads anything: ``HF_HUB_OFFLINE=1`` and ``local_files_only=True`` are set before
loading, and a path that does not exist is refused. ``onnxruntime``/``transformers`` are not
dependencies of the service; they are imported only when an adapter is built, and a clear
error says what to install if they are missing.

The guardrails settings are owned by the service (``config.py``); an operator-facing setting
can pass its value to :class:`ClassifierSettings` here.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmops_guardrails.detectors.base import Hit

VERSION = "classifier-1"


class ClassifierUnavailable(RuntimeError):
    """The adapter cannot run: no path, a missing path, or its libraries are not installed."""


@dataclass(frozen=True, slots=True)
class ClassifierSettings:
    """Where the local model is and how to read it.

    Attributes:
        path: directory of a transformers model, or an ``.onnx`` file (with its tokenizer in
            the same directory); ``None`` keeps the adapter off.
        backend: ``transformers`` or ``onnx``.
        injection_label: the model's label name (or index) that means "injection".
        max_length: tokens per input; longer texts are truncated by the tokenizer.
    """

    path: Path | None = None
    backend: str = "transformers"
    injection_label: str = "INJECTION"
    max_length: int = 512


def _require(module: str, extra: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ClassifierUnavailable(
            f"the {extra} classifier needs the '{module}' package; install it into the service's "
            f"environment (it is not a dependency of llmops-guardrails)"
        ) from exc


class LocalClassifier:
    """A local classifier as a ``Detector``: one whole-text hit with the model's probability.

    Args:
        settings: where the model is; ``settings.path`` must be set and must exist.
        scorer: a ready function text -> probability (tests and custom runtimes); skips loading.
    """

    name = "injection_classifier"
    version = VERSION

    def __init__(
        self, settings: ClassifierSettings, scorer: Callable[[str], float] | None = None
    ) -> None:
        if settings.path is None:
            raise ClassifierUnavailable("no classifier path configured: the adapter is off")
        if scorer is None and not settings.path.exists():
            raise ClassifierUnavailable(f"classifier path does not exist: {settings.path}")
        self._settings = settings
        self._scorer = scorer

    def score(self, text: str) -> float:
        """The probability that ``text`` is an injection, by the local model."""
        if self._scorer is None:
            self._scorer = self._load()
        return self._scorer(text)

    def detect(self, text: str) -> list[Hit]:
        """One hit over the whole text, scored by the model."""
        return [Hit(self.name, "classifier", 0, len(text), self.score(text), self.version)]

    def _load(self) -> Callable[[str], float]:
        # Never reach a hub: offline flags first, then local files only.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        s = self._settings
        assert s.path is not None
        if s.backend == "onnx":
            return self._load_onnx(s.path)
        if s.backend != "transformers":
            raise ClassifierUnavailable(f"unknown classifier backend: {s.backend!r}")
        transformers = _require("transformers", "transformers")
        tokenizer = transformers.AutoTokenizer.from_pretrained(s.path, local_files_only=True)
        model = transformers.AutoModelForSequenceClassification.from_pretrained(
            s.path, local_files_only=True
        )
        model.eval()
        label = _label_index(model.config.id2label, s.injection_label)
        torch = _require("torch", "transformers")

        def score(text: str) -> float:
            inputs = tokenizer(text, truncation=True, max_length=s.max_length, return_tensors="pt")
            with torch.no_grad():
                logits = model(**inputs).logits[0]
            return float(torch.softmax(logits, dim=-1)[label])

        return score

    def _load_onnx(self, path: Path) -> Callable[[str], float]:
        ort = _require("onnxruntime", "onnx")
        transformers = _require("transformers", "onnx (for the tokenizer)")
        model_file = path if path.suffix == ".onnx" else path / "model.onnx"
        session = ort.InferenceSession(str(model_file), providers=["CPUExecutionProvider"])
        tokenizer = transformers.AutoTokenizer.from_pretrained(
            model_file.parent, local_files_only=True
        )
        names = {i.name for i in session.get_inputs()}
        label = (
            int(self._settings.injection_label) if self._settings.injection_label.isdigit() else 1
        )

        def score(text: str) -> float:
            enc = tokenizer(
                text, truncation=True, max_length=self._settings.max_length, return_tensors="np"
            )
            logits = session.run(None, {k: v for k, v in enc.items() if k in names})[0][0]
            top = max(logits)
            exps = [pow(2.718281828459045, v - top) for v in logits]
            return float(exps[label] / sum(exps))

        return score


def _label_index(id2label: dict[int, str], wanted: str) -> int:
    if wanted.isdigit():
        return int(wanted)
    for index, label in id2label.items():
        if label.lower() == wanted.lower():
            return int(index)
    raise ClassifierUnavailable(f"model has no label {wanted!r}: {sorted(id2label.values())}")
