"""The statistical half of the injection detector: a logistic regression over word features.

Features of canonical text (:mod:`.canonical`): its words, their five-letter stems (``ignor``
covers ignore/ignorez/ignoriere/ignora) and stem bigrams (``ignor previ``). Why words and not
character n-grams: in CPython every character n-gram order costs about as much as the whole
rule engine (one dictionary lookup per character per order), and canonicalisation already
undoes the disguises character n-grams would otherwise buy robustness against. The logit is
``bias + sum(weights) / sqrt(1 + words)``, so a long benign document does not drown a short
injected paragraph and a short text is not over-confident.

Texts longer than ``WINDOW`` characters are scored in windows of that size every
``WINDOW // 2`` characters and the best window counts (an injected paragraph in a long
retrieved page is judged on its own neighbourhood).

Weights are trained by ``tools/train_injection.py`` (``make train-guardrails``) on the
project's corpus and shipped in ``injection_model.json`` next to this module with their
version, the corpus hashes and the calibration; they are read on first use, never at import.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import pairwise, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

FEATURE_VERSION = 1
WINDOW = 1024
_WORD = re.compile(r"[a-z0-9]{1,64}")
_STEM = itemgetter(slice(0, 5))


def words(text: str) -> list[str]:
    """The words of canonical ``text`` (letters and digits)."""
    return _WORD.findall(text)


def features(tokens: list[str]) -> list[str]:
    """The model's features of a list of words: words, ``~stems`` and stem bigrams."""
    stems = list(map(_STEM, tokens))
    return [
        *tokens,
        *map("~".__add__, stems),
        *map(" ".join, pairwise(stems)),
    ]


@dataclass(frozen=True, slots=True)
class Model:
    """Trained weights and the calibration fitted on the tune split.

    Attributes:
        version: names the weights (training parameters and corpus hash).
        bias: the intercept of the logit.
        weights: feature -> weight.
        calibration: feature name -> coefficient of the final logistic calibration
            (``intercept`` included); see ``injection.signals``.
        threshold: the calibrated score at or above which a text is an injection (chosen on
            the tune split for a false-positive rate of at most 2%).
        meta: how the weights were made (hashes, seed, epochs ...).
    """

    version: str
    bias: float
    weights: dict[str, float]
    calibration: dict[str, float]
    threshold: float
    meta: dict[str, Any]

    def logit(self, tokens: list[str]) -> float:
        """The raw model logit of one window's words."""
        get = self.weights.get
        total = math.fsum(map(get, features(tokens), repeat(0.0)))
        return self.bias + total / math.sqrt(1 + len(tokens))

    def best_window(self, text: str) -> tuple[float, int, int]:
        """(logit, start, end) of the highest-scoring window of canonical ``text``."""
        if len(text) <= WINDOW:
            return self.logit(words(text)), 0, len(text)
        best = (-math.inf, 0, 0)
        step = WINDOW // 2
        for start in range(0, len(text) - step, step):
            end = min(start + WINDOW, len(text))
            score = self.logit(words(text[start:end]))
            if score > best[0]:
                best = (score, start, end)
        return best


def from_dict(data: dict[str, Any]) -> Model:
    """A model from its JSON form."""
    if data.get("feature_version") != FEATURE_VERSION:
        raise ValueError(
            f"injection model has feature_version {data.get('feature_version')}, code expects "
            f"{FEATURE_VERSION}: run `make train-guardrails`"
        )
    return Model(
        version=str(data["version"]),
        bias=float(data["bias"]),
        weights={str(k): float(v) for k, v in data["weights"].items()},
        calibration={str(k): float(v) for k, v in data["calibration"].items()},
        threshold=float(data["threshold"]),
        meta=dict(data.get("meta", {})),
    )


def load(path: Path | None = None) -> Model:
    """The model at ``path``, or the one shipped with the package (cached)."""
    if path is None:
        return _shipped()
    return from_dict(json.loads(path.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def _shipped() -> Model:
    text = resources.files(__package__).joinpath("injection_model.json").read_text("utf-8")
    return from_dict(json.loads(text))
