"""Hostile 1 MB inputs finish: no pattern backtracks catastrophically.

Each input repeats a prefix of some pattern without ever completing it (or completes it
thousands of times), the shape that makes a backtracking regular expression quadratic or
exponential: with such a pattern these calls would run for hours, so the test suite's timeout
would fail them. No timing is asserted.
"""

from __future__ import annotations

import pytest

from llmops_guardrails.detectors.pii import PiiDetector
from llmops_guardrails.detectors.redaction import Vault, redact
from llmops_guardrails.detectors.secrets import SecretsDetector

MB = 1_000_000

HOSTILE = {
    "digits": "1" * MB,
    "spaced digits": "1 " * (MB // 2),
    "dashed digits": "1-" * (MB // 2),
    "dotted digits": "1." * (MB // 2),
    "letters and digits": "a1" * (MB // 2),
    "uppercase IBAN-ish": "DE89" + "A1" * (MB // 2),
    "at signs": "a@" * (MB // 2),
    "email domain that never ends": "x@" + "a." * (MB // 2),
    "local part that never meets an @": "a." * (MB // 2),
    "hex and colons": "ab:" * (MB // 3),
    "phone openers": "+1 (" * (MB // 4),
    "street words": "1 Main " * (MB // 7),
    "secret prefixes": "sk-" * (MB // 3),
    "JWT prefixes": "eyJ." * (MB // 4),
    "assignments": "password=" * (MB // 9),
    "PEM headers": "-----BEGIN PRIVATE KEY-----\n" * (MB // 28),
    # Found by review: a street name of capitals the name-first pattern could cut into words in
    # cubically many ways (155 s for 1 MB), a sentence about a password that never gives one,
    # phone numbers given by the thousand, lower-case IBAN starts.
    "street names of capitals": ("Calle " + "A" * 50 + " 1a ") * (MB // 60),
    "French street names of capitals": ("Rue " + "A" * 50 + " 1a ") * (MB // 58),
    "told passwords": "my password is nice and to " * (MB // 27),
    "phone numbers given together": "06 12 34 56 78 / " * (MB // 17),
    "lower-case IBAN starts": "fr76 " * (MB // 5),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_input_completes(name: str) -> None:
    text = HOSTILE[name]
    PiiDetector().detect(text)
    SecretsDetector().detect(text)


def test_a_megabyte_full_of_values_is_found_and_redacted_completely() -> None:
    chunk = "call 06 12 34 56 78 or mail a@b.example, card 4111 1111 1111 1111; "
    text = chunk * (MB // len(chunk))
    hits = [*PiiDetector().detect(text), *SecretsDetector().detect(text)]
    copies = MB // len(chunk)
    assert len(hits) == 3 * copies
    vault = Vault("big")
    out = redact(text, hits, vault)
    assert out.text.count("[PHONE_1]") == copies
    assert vault.restore(out.text) == text
