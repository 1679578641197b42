"""The statistical half of the injection detector: a logistic regression over word features.

Features of canonical text (:mod:`.canonical`): the five-letter stems of its words (``ignor``
covers ignore/ignorez/ignoriere/ignora) and stem bigrams (``ignor previ``). Words with a digit
(order, tracking and ticket numbers, hex, dates, amounts) and one-letter words are not
features: they say which template or ticket a text came from, not whether it is an attack,
and a model that learns them flags support tickets. Why words and not character n-grams: in
CPython every character n-gram order costs about as much as the whole rule engine, and
canonicalisation already undoes the disguises character n-grams would buy robustness against.
The logit is ``bias + sum(weights) / sqrt(1 + words)``, so a long benign document does not
drown a short injected paragraph and a short text is not over-confident.

Texts longer than ``WINDOW`` feature words are scored in windows of that many words every
``WINDOW // 2`` words, and the best window counts (an injected paragraph in a long retrieved
page is judged on its own neighbourhood). Window sums come from prefix sums over the
per-word weights, so a long text costs one pass, not one pass per window.

Weights are trained by ``tools/train_injection.py`` (``make train-guardrails``) on the
project's corpus and shipped in ``injection_model.json`` next to this module with their
version, the corpus hashes and the calibration; they are read on first use, never at import.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import accumulate, islice, pairwise, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

from llmops_guardrails.detectors.memo import WordMemo

FEATURE_VERSION = 2
#: Feature words per window (about a kilobyte of prose).
WINDOW = 192
_WORD = re.compile(r"[a-z0-9]+")
#: A feature word in canonical text: a maximal run of ``[a-z0-9]`` that is two or more letters.
_MODEL_WORD = re.compile(r"(?<![a-z0-9])[a-z]{2,}(?![a-z0-9])")
#: ASCII letters and digits kept, everything else a space: ``translate`` + ``split`` gives
#: the words of ASCII text four times faster than a regular expression.
_SPLIT = str.maketrans({chr(i): " " for i in range(128) if not chr(i).isalnum()})
_STEM = itemgetter(slice(0, 5))
#: The parts of a word the model reads (:meth:`Model.read`): its stem's weight, its stem, and
#: the weights of the bigrams it begins (the next word's stem -> weight).
_WEIGHT = itemgetter(0)
_STEM_OF = itemgetter(1)
_FOLLOWERS = itemgetter(2)
_NO_FOLLOWERS: dict[str, float] = {}


def words(text: str) -> list[str]:
    """The words of canonical ``text``: maximal runs of ``[a-z0-9]``."""
    if text.isascii():
        return text.translate(_SPLIT).split()
    return _WORD.findall(text)


def model_words(tokens: list[str]) -> list[str]:
    """The words the model sees: letters only, two or more of them."""
    return [t for t in tokens if len(t) > 1 and t.isalpha()]


def features(tokens: list[str]) -> list[str]:
    """The model's features of a list of feature words: stems and stem bigrams."""
    stems = list(map(_STEM, tokens))
    return [*stems, *map(" ".join, pairwise(stems))]


def token_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Character span in canonical ``text`` of feature words ``[start, end)`` (see words)."""
    # The feature words are the maximal letter runs of two or more letters (model_words of
    # words): the regular expression finds them, and islice skips to the two wanted in C
    # (a Python loop over every word cost ~80 us per kilobyte, on every reported model hit).
    found = _MODEL_WORD.finditer(text)
    if end <= start:  # never asked by best_window; answered as the word-by-word version did
        first = next(islice(found, start, None), None) if end < 1 else None
        return (first.start(), len(text)) if first is not None else (0, len(text))
    first = next(islice(found, start, None), None)
    if first is None:
        return 0, len(text)
    last = first if end - 1 <= start else next(islice(found, end - start - 2, None), None)
    return first.start(), last.end() if last is not None else len(text)


#: A word the model reads: its stem's weight, its stem, the bigrams it begins (see ``_FOLLOWERS``).
_Read = tuple[float, str, dict[str, float]]


@dataclass(frozen=True, slots=True)
class Model:
    """Trained weights and the calibration fitted on the tune split.

    Attributes:
        version: names the weights (training parameters and corpus hash).
        bias: the intercept of the logit.
        weights: feature -> weight.
        calibration: signal name -> coefficient of the final logistic calibration
            (``intercept`` included); see ``injection.SIGNALS``.
        threshold: the calibrated score at or above which a text is an injection (chosen on
            the tune split for a false-positive rate of at most 2%).
        alone_threshold: the stricter score a text without any rule match must reach (the
            model alone); such scores are rescaled so that this one lands on ``threshold``.
        meta: how the weights were made (hashes, seed, epochs ...).
    """

    version: str
    bias: float
    weights: dict[str, float]
    calibration: dict[str, float]
    threshold: float
    alone_threshold: float
    meta: dict[str, Any]
    #: The bigram weights by their first stem, then their second (``stems``' copies): a word's
    #: entry in ``words`` holds the bigrams it begins, so a pair costs one lookup in a small
    #: table, with no tuple to build and hash.
    followers: dict[str, dict[str, float]] = field(init=False, repr=False, compare=False)
    #: Per word, remembered (:mod:`.memo`): ``None`` when the model does not read it (see
    #: :func:`model_words`), else its stem's weight, its stem (``stems``' copy) and the bigrams it
    #: begins. Why: the check's cost is mostly memory (a kilobyte of text is ~200 lookups in
    #: tables of megabytes, and between two checks other processes evict them from the CPU's
    #: caches; measured: docs/guardrails.md). One lookup per word and one per pair, with keys
    #: that compare by identity, leave far fewer cache lines to miss than four did.
    words: WordMemo[_Read | None] = field(init=False, repr=False, compare=False)
    #: One string object per stem the weights know (what ``followers`` is keyed by). Not
    #: ``sys.intern``: a stem made from a text the model does not know must stay freeable
    #: (CPython 3.12.0-3.12.5 never free interned strings), and no pair can hold it anyway.
    stems: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        stems: dict[str, str] = {}
        followers: dict[str, dict[str, float]] = {}
        for k, v in self.weights.items():
            a, space, b = k.partition(" ")
            if space:
                first, second = stems.setdefault(a, a), stems.setdefault(b, b)
                followers.setdefault(first, {})[second] = v
            else:
                stems.setdefault(k, k)
        object.__setattr__(self, "stems", stems)
        object.__setattr__(self, "followers", followers)
        object.__setattr__(self, "words", WordMemo(self._read_one))

    def _read_one(self, word: str) -> _Read | None:
        if len(word) < 2 or not word.isalpha():
            return None
        stem = word[:5]
        stem = self.stems.get(stem, stem)
        return self.weights.get(stem, 0.0), stem, self.followers.get(stem, _NO_FOLLOWERS)

    def read(self, tokens: list[str]) -> list[_Read]:
        """Per word the model reads (:func:`model_words` of ``tokens``): its stem's weight, its
        stem, and the weights of the bigrams it begins."""
        return list(filter(None, map(self.words.__getitem__, tokens)))

    def logit(self, tokens: list[str]) -> float:
        """The raw model logit of one window of words (any words: it reads its own)."""
        return self._logit(self.read(tokens))

    def _logit(self, read: list[_Read]) -> float:
        total: float = sum(map(_WEIGHT, read)) + sum(_pair_weights(read))
        return self.bias + total / math.sqrt(1 + len(read))

    def best_window(self, tokens: list[str]) -> tuple[float, int, int]:
        """(logit, start, end) of the highest-scoring window of the words the model reads
        in ``tokens`` (``start`` and ``end`` count those words, as :func:`token_span` does)."""
        read = self.read(tokens)
        n = len(read)
        if n <= WINDOW:
            return self._logit(read), 0, n
        uni = list(accumulate(map(_WEIGHT, read), initial=0.0))
        bi = list(accumulate(_pair_weights(read), initial=0.0))
        best = (-math.inf, 0, 0)
        step = WINDOW // 2
        for start in range(0, n - step, step):
            end = min(start + WINDOW, n)
            total = (uni[end] - uni[start]) + (bi[end - 1] - bi[start])
            score = self.bias + total / math.sqrt(1 + end - start)
            if score > best[0]:
                best = (score, start, end)
        return best


def _pair_weights(read: list[_Read]) -> Iterator[float]:
    """The weight of each bigram of consecutive read words, in order (0 for an unknown one)."""
    followers = list(map(_FOLLOWERS, read))
    return map(dict.get, followers[:-1], map(_STEM_OF, islice(read, 1, None)), repeat(0.0))


def from_dict(data: dict[str, Any]) -> Model:
    """A model from its JSON form."""
    if data.get("feature_version") != FEATURE_VERSION:
        raise ValueError(
            f"injection model has feature_version {data.get('feature_version')}, code expects "
            f"{FEATURE_VERSION}: run `make train-guardrails`"
        )
    threshold = float(data["threshold"])
    return Model(
        version=str(data["version"]),
        bias=float(data["bias"]),
        weights={str(k): float(v) for k, v in data["weights"].items()},
        calibration={str(k): float(v) for k, v in data["calibration"].items()},
        threshold=threshold,
        alone_threshold=float(data.get("alone_threshold", threshold)),
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
