"""Source-quality rules: sources, length, language (offline), SimHash near-duplicates."""

from __future__ import annotations

import socket

import pytest

from llmops_ingestion.rules import (
    LanguageDetector,
    SourceRules,
    TenantRules,
    bands,
    check_language,
    check_length,
    check_source,
    distance,
    simhash,
)

PROSE = (
    "The harbour was quiet that morning. Fishing boats rocked at their moorings while gulls "
    "argued over scraps on the pier, and the old lighthouse keeper walked slowly along the "
    "sea wall, counting the boats as he had done every morning for forty years."
)


def test_sources_none_means_any() -> None:
    assert check_source("anything", SourceRules()) is None
    rules = SourceRules(allowed_sources=frozenset({"wiki", "cli"}))
    assert check_source("wiki", rules) is None
    failed = check_source(None, rules)
    assert failed is not None
    assert failed.rule == "source"
    assert "cli, wiki" in failed.message


def test_length_counts_non_blank_characters() -> None:
    rules = SourceRules(min_chars=5, max_chars=20)
    assert check_length(" a b c d e ", rules) is None
    short = check_length(" a b \n c d ", rules)
    assert short is not None
    assert short.rule == "min_length"
    assert "4 non-blank" in short.message
    long = check_length("x" * 21, rules)
    assert long is not None
    assert long.rule == "max_length"


def test_rules_reject_impossible_settings() -> None:
    with pytest.raises(ValueError, match="max_distance"):
        SourceRules(max_distance=4)
    with pytest.raises(ValueError, match="min_chars"):
        SourceRules(min_chars=10, max_chars=5)


def test_tenant_overrides_start_from_the_defaults() -> None:
    default = SourceRules(min_chars=30)
    rules = TenantRules.build(default, {"acme": {"languages": ["en"], "screen": True}})
    assert rules.for_tenant("globex") == default
    acme = rules.for_tenant("acme")
    assert acme.languages == frozenset({"en"})
    assert acme.screen
    assert acme.min_chars == 30
    with pytest.raises(TypeError):
        TenantRules.build(default, {"acme": {"no_such_rule": 1}})


def test_language_detection_uses_the_bundled_model_without_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("language detection tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    detector = LanguageDetector()
    assert detector.detect(PROSE)[0] == "en"
    french = "Le port était calme ce matin-là. Les bateaux de pêche se balançaient doucement."
    assert detector.detect(french)[0] == "fr"
    assert detector.detect("ok 123") is None  # too little to tell
    rules = SourceRules(languages=frozenset({"en"}))
    assert check_language(PROSE, rules, detector) is None
    failed = check_language(french, rules, detector)
    assert failed is not None
    assert failed.rule == "language"
    assert "'fr'" in failed.message


def test_simhash_is_stable_signed_and_close_for_small_edits() -> None:
    from pydoc_data.topics import topics

    text = topics["typesseq"]  # about 3,000 words
    h = simhash(text)
    assert h == simhash(text)
    assert -(2**63) <= h < 2**63
    words = text.split()
    edited = " ".join([*words[:1000], "changed", *words[1001:]])
    assert distance(h, simhash(edited)) <= 3
    assert distance(h, simhash(text + " And one more sentence at the end.")) <= 3
    other = "Compilers translate source code into machine code in several passes. " * 5
    assert distance(h, simhash(other)) > 10


def test_hashes_within_three_bits_share_a_band() -> None:
    h = simhash(PROSE)
    for flips in [(0,), (5, 21), (3, 30, 47), (15, 16, 63)]:
        other = h
        for bit in flips:
            other ^= 1 << bit
        other = other - (1 << 64) if other >= 1 << 63 else other
        assert distance(h, other) == len(flips)
        assert any(a == b for a, b in zip(bands(h), bands(other), strict=True))
