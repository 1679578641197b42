"""Secrets detector: provider tokens, PEM keys, JWTs and assigned values; placeholders ignored."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from llmops_guardrails.detectors import secrets_providers
from llmops_guardrails.detectors.injection_quality import read_corpus
from llmops_guardrails.detectors.secrets import (
    DEFAULT_THRESHOLD,
    SecretsDetector,
    entropy,
)

CORPUS = Path(__file__).resolve().parents[4] / "services" / "guardrails" / "corpus"

DETECTOR = SecretsDetector()


def _found(text: str) -> list[tuple[str, str]]:
    return [
        (h.kind, text[h.start : h.end])
        for h in DETECTOR.detect(text)
        if h.score >= DEFAULT_THRESHOLD
    ]


def _b64(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


JWT = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64({'sub': '42'})}.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
NOT_JWT = (
    f"{_b64({'typ': 'JWT'})}.{_b64({'sub': '42'})}.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7bq\nZm9vYmFy==\n-----END RSA PRIVATE KEY-----"

POSITIVES = [
    ("openai_api_key", "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6"),
    ("openai_api_key", "sk-Ab3dEf6hIj9kLm2nOp5qRs8tT3BlbkFJUv1wXy4zAb7cDe0fGh3iJk6"),
    (
        "anthropic_api_key",
        "sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6lMn9oPq2rSt5uVw8xYz1_AbCd",
    ),
    ("aws_access_key_id", "AKIA2E3A7F3B4C7D5K4Q"),
    ("github_token", "ghp_16C7e42F292c6912E7710c838347Ae178B4a"),
    (
        "github_token",
        "github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
    ),
    ("gitlab_token", "glpat-Ab3dEf6hIj9kLm2nOp5q"),
    ("slack_token", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"),
    (
        "slack_webhook",
        "https://hooks.slack.com/services/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",
    ),
    ("stripe_key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("stripe_key", "rk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("google_api_key", "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"),
    ("twilio_api_key", "SK0123456789abcdef0123456789abcdef"),
    ("sendgrid_api_key", "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"),
    ("npm_token", "npm_1234567890abcdefghijABCDEFGHIJ123456"),
    (
        "pypi_token",
        "pypi-AgEIcHlwaS5vcmcCJGE0ZjE2ZmVhLWEzZjUtNGYxNy04ZjNkLWM0ZDYxYzY2ZjA5ZAACKlszLCJ",
    ),
    ("huggingface_token", "hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh"),
    ("jwt", JWT),
    ("private_key", PEM),
]


@pytest.mark.parametrize(("kind", "token"), POSITIVES)
def test_provider_formats_are_found_with_their_exact_span(kind: str, token: str) -> None:
    text = f"here it is: {token} (please rotate)"
    assert (kind, token) in _found(text)


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("DB_PASSWORD=Hunter2!x", "password", "Hunter2!x"),
        ("le mot de passe est Soleil2024", "password", "Soleil2024"),
        ("Passwort: Sommer#2025", "password", "Sommer#2025"),
        (
            "client_secret = 'a8f5f167f44f4964e6c998dee827110c'",
            "generic_secret",
            "a8f5f167f44f4964e6c998dee827110c",
        ),
        (
            '{"api_key": "Zx8Qw2Er5Ty7Ui9Op1As3Df4Gh6Jk"}',
            "generic_secret",
            "Zx8Qw2Er5Ty7Ui9Op1As3Df4Gh6Jk",
        ),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY7QxK2mZp9L",
            "aws_secret_access_key",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCY7QxK2mZp9L",
        ),
    ],
)
def test_values_assigned_to_secret_names_are_found(text: str, kind: str, value: str) -> None:
    assert (kind, value) in _found(text)


@pytest.mark.parametrize(
    "text",
    [
        "sk-learn-is-a-great-library-for-machine-learning",  # no digits or capitals: a word
        "the password is required and must have 12 characters",
        "password: ******** token: <YOUR_TOKEN> api_key = os.environ['API_KEY']",
        "API_KEY=${OPENAI_API_KEY} secret: {{ vault.secret }} token=your_token_here",
        "commit 3f2c1a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39 fixed the token count",
        "uuid 123e4567-e89b-12d3-a456-426614174000",
        "the key points are: clarity, brevity",
        f"header only JSON without alg: {NOT_JWT}",
        "ghp_short and AKIA lowercase akiaiosfodnn7example",
        "my secret is that I love pizza",
        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqh\n-----END PUBLIC KEY-----",
    ],
)
def test_words_placeholders_and_ids_are_not_secrets(text: str) -> None:
    assert _found(text) == []


def test_a_truncated_pem_block_is_hidden_up_to_its_last_base64_line() -> None:
    text = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAABG5vbmU\nThanks for your help"
    [(kind, value)] = _found(text)
    assert kind == "private_key"
    assert value.endswith("AAAABG5vbmU")


def test_a_provider_key_wins_over_the_generic_value_around_it() -> None:
    text = "token = ghp_16C7e42F292c6912E7710c838347Ae178B4a"
    assert _found(text) == [("github_token", "ghp_16C7e42F292c6912E7710c838347Ae178B4a")]


def test_a_token_inside_a_longer_word_is_not_a_key() -> None:
    assert _found("xAKIA2E3A7F3B4C7D5K4Q") == []


def test_entropy() -> None:
    assert entropy("") == 0.0
    assert entropy("aaaa") == 0.0
    assert entropy("abcd") == pytest.approx(2.0)
    assert entropy("0123456789abcdef") == pytest.approx(4.0)


def test_hits_never_carry_the_secret() -> None:
    text = "export OPENAI_API_KEY=sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6"
    [hit] = DETECTOR.detect(text)
    assert text[hit.start : hit.end] not in repr(hit)
    assert (hit.detector, hit.kind) == ("secrets", "openai_api_key")


def test_the_long_run_shortcut_changes_no_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    # Text without a run of 16 token characters skips every provider format but the JWT and
    # the webhook URL. Over the labelled corpus, the formats above in prose and the injection
    # corpus, each as written and cut to its first 60 characters (short keys, cut tokens):
    # the same hits as with every format tried.
    texts = [r["text"] for path in sorted(CORPUS.glob("*/*.jsonl")) for r in read_corpus(path)]
    texts += [f"here it is: {token} (please rotate)" for _, token in POSITIVES]
    texts += [t[:60] for t in texts]
    texts.append("clé \ud800 " + "é" * 16)  # not ASCII, a lone surrogate: no run either
    short_jwt = "token eyJhbGciOiJ4In0.e30.abc here"  # {"alg":"x"}: no part of 16 characters
    texts.append(short_jwt)
    shortcut = [DETECTOR.detect(t) for t in texts]
    skipped = [t for t in texts if not re.search(r"[A-Za-z0-9_-]{16}", t)]
    monkeypatch.setattr(secrets_providers, "_TOKEN_RUN", b"")  # every text has the run: no shortcut
    assert shortcut == [DETECTOR.detect(t) for t in texts]
    assert len(skipped) > len(texts) // 2  # the shortcut is taken, and still finds short JWTs
    assert short_jwt in skipped
    assert [h.kind for h in shortcut[-1]] == ["jwt"]
