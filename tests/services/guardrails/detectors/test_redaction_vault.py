"""Redaction placeholders, overlap merging, and the per-request vault's round trips."""

from __future__ import annotations

import pytest

from llmops_guardrails.detectors.base import Hit
from llmops_guardrails.detectors.pii import PiiDetector
from llmops_guardrails.detectors.redaction import (
    Vault,
    Vaults,
    label_for,
    merge,
    redact,
)
from llmops_guardrails.detectors.secrets import SecretsDetector

PII = PiiDetector()
SECRETS = SecretsDetector()


def _hits(text: str) -> list[Hit]:
    return [*PII.detect(text), *SECRETS.detect(text)]


def _hit(kind: str, start: int, end: int, score: float = 0.9) -> Hit:
    return Hit("test", kind, start, end, score, "t-1")


def test_typed_numbered_placeholders_and_the_same_value_keeps_its_number() -> None:
    text = "Mail a@x.example, then b@y.example, then a@x.example again; call +44 20 7946 0958."
    out = redact(text, _hits(text))
    assert out.text == "Mail [EMAIL_1], then [EMAIL_2], then [EMAIL_1] again; call [PHONE_1]."
    assert [r.placeholder for r in out.replacements] == [
        "[EMAIL_1]",
        "[EMAIL_2]",
        "[EMAIL_1]",
        "[PHONE_1]",
    ]
    assert all("@" not in repr(r) for r in out.replacements)


def test_labels() -> None:
    assert label_for("card_number") == "CARD"
    assert label_for("github_token") == "SECRET"
    assert label_for("openai_api_key") == "SECRET"
    assert label_for("weird kind!") == "WEIRD_KIND"


def test_overlapping_spans_merge_into_one_covering_all_characters() -> None:
    hits = [_hit("phone", 5, 15, 0.6), _hit("card_number", 10, 25, 0.99), _hit("email", 30, 35)]
    merged = merge(hits)
    assert [(h.kind, h.start, h.end) for h in merged] == [
        ("card_number", 5, 25),
        ("email", 30, 35),
    ]


def test_merge_prefers_the_longest_among_equal_scores_and_respects_the_threshold() -> None:
    hits = [_hit("a", 0, 4, 0.9), _hit("b", 2, 10, 0.9), _hit("low", 20, 24, 0.2)]
    assert [(h.kind, h.start, h.end) for h in merge(hits, threshold=0.5)] == [("b", 0, 10)]


def test_text_without_hits_is_unchanged() -> None:
    out = redact("nothing here", [])
    assert out.text == "nothing here"
    assert out.replacements == ()


@pytest.mark.parametrize(
    "text",
    [
        "Contact jane@example.com or +33 6 12 34 56 78; card 4111 1111 1111 1111.",
        "IBAN DE89 3704 0044 0532 0130 00 and token ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        "a@x.example a@x.example b@y.example",
        "SSN 123-45-6789, NIR 1 84 12 76 451 089 46, DNI 12345678Z",
    ],
)
def test_redact_then_restore_is_the_original(text: str) -> None:
    vault = Vault("req-1")
    out = redact(text, _hits(text), vault)
    assert out.text != text
    assert vault.restore(out.text) == text


def test_restore_a_model_answer_with_placeholders_repeated_and_reordered() -> None:
    text = "Write to a@x.example and copy b@y.example; my phone is +44 20 7946 0958."
    vault = Vault("req-2")
    redacted = redact(text, _hits(text), vault).text
    assert redacted == "Write to [EMAIL_1] and copy [EMAIL_2]; my phone is [PHONE_1]."
    answer = "I called [PHONE_1]. Copying [EMAIL_2] first, then [EMAIL_1], then [EMAIL_2] again."
    assert vault.restore(answer) == (
        "I called +44 20 7946 0958. Copying b@y.example first, then a@x.example, "
        "then b@y.example again."
    )


def test_unknown_placeholders_are_left_alone() -> None:
    vault = Vault("req-3")
    redact("mail a@x.example", _hits("mail a@x.example"), vault)
    assert vault.restore("[EMAIL_1] [EMAIL_7] [CARD_1] [not a placeholder]") == (
        "a@x.example [EMAIL_7] [CARD_1] [not a placeholder]"
    )


def test_placeholders_already_in_the_text_are_not_reused() -> None:
    text = "The template says [EMAIL_1]; my address is a@x.example."
    vault = Vault("req-4")
    out = redact(text, _hits(text), vault)
    assert out.text == "The template says [EMAIL_1]; my address is [EMAIL_2]."
    assert vault.restore(out.text) == text


def test_one_vault_numbers_consistently_across_texts_of_a_request() -> None:
    vault = Vault("req-5")
    first = redact("from a@x.example", _hits("from a@x.example"), vault).text
    second = redact(
        "to b@y.example cc a@x.example", _hits("to b@y.example cc a@x.example"), vault
    ).text
    assert (first, second) == ("from [EMAIL_1]", "to [EMAIL_2] cc [EMAIL_1]")


def test_the_vault_never_shows_its_values() -> None:
    vault = Vault("req-6")
    redact("card 4111 1111 1111 1111", _hits("card 4111 1111 1111 1111"), vault)
    assert "4111" not in repr(vault)
    assert "4111" not in str(vault)
    assert len(vault) == 1


def test_vaults_are_kept_per_request_and_bounded() -> None:
    vaults = Vaults(max_requests=2)
    a = vaults.for_request("a")
    assert vaults.for_request("a") is a
    vaults.for_request("b")
    vaults.for_request("a")  # a is now the most recent
    vaults.for_request("c")  # b, the least recent, is dropped
    assert vaults.get("b") is None
    assert vaults.get("a") is a
    assert len(vaults) == 2
    vaults.discard("a")
    assert vaults.get("a") is None


def test_different_requests_do_not_share_values() -> None:
    vaults = Vaults()
    text = "mail a@x.example"
    redact(text, _hits(text), vaults.for_request("r1"))
    assert vaults.for_request("r2").restore("[EMAIL_1]") == "[EMAIL_1]"
    assert vaults.for_request("r1").restore("[EMAIL_1]") == "a@x.example"
