"""Shared by the detector tests: what the default PII and secrets detectors report."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from llmops_guardrails.detectors.pii import DEFAULT_THRESHOLD, PiiDetector
from llmops_guardrails.detectors.secrets import SecretsDetector

PII = PiiDetector()
SECRETS = SecretsDetector()


def _found(text: str) -> list[tuple[str, str]]:
    hits = [*PII.detect(text), *SECRETS.detect(text)]
    return [(h.kind, text[h.start : h.end]) for h in hits if h.score >= DEFAULT_THRESHOLD]


@pytest.fixture
def found() -> Callable[[str], list[tuple[str, str]]]:
    """(kind, value) of every finding of both detectors at their default threshold."""
    return _found
