"""The optional local classifier adapter: off without a path, lazy imports, offline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from llmops_guardrails.detectors.classifier import (
    ClassifierSettings,
    ClassifierUnavailable,
    LocalClassifier,
)


def test_refuses_to_run_without_a_path() -> None:
    with pytest.raises(ClassifierUnavailable, match="no classifier path"):
        LocalClassifier(ClassifierSettings())


def test_refuses_a_missing_path(tmp_path: Path) -> None:
    with pytest.raises(ClassifierUnavailable, match="does not exist"):
        LocalClassifier(ClassifierSettings(path=tmp_path / "nope"))


def test_importing_the_adapter_imports_no_ml_library() -> None:
    code = (
        "import sys, llmops_guardrails.detectors.classifier, llmops_guardrails.detectors.injection;"
        "print(sorted(m for m in ('transformers', 'torch', 'onnxruntime', 'sklearn', 'numpy')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_missing_library_is_a_clear_error(tmp_path: Path) -> None:
    adapter = LocalClassifier(ClassifierSettings(path=tmp_path, backend="onnx"))
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        with pytest.raises(ClassifierUnavailable, match="onnxruntime"):
            adapter.score("hello")
    else:  # pragma: no cover - only where onnxruntime is installed
        pytest.skip("onnxruntime installed here")


def test_a_scorer_makes_a_whole_text_hit(tmp_path: Path) -> None:
    adapter = LocalClassifier(ClassifierSettings(path=tmp_path), scorer=lambda t: 0.75)
    [hit] = adapter.detect("some text")
    assert (hit.kind, hit.start, hit.end, hit.score) == ("classifier", 0, 9, 0.75)
