"""Gaps the independent authors' PII rows showed (corpus/pii/authors.jsonl, `dev` authors):
each found with its exact span now, and the look-alikes next to them still not."""

from __future__ import annotations

import pytest

from llmops_guardrails.detectors.pii import DEFAULT_THRESHOLD, PiiDetector
from llmops_guardrails.detectors.secrets import SecretsDetector

PII = PiiDetector()
SECRETS = SecretsDetector()


def _found(text: str) -> list[tuple[str, str]]:
    hits = [*PII.detect(text), *SECRETS.detect(text)]
    return [(h.kind, text[h.start : h.end]) for h in hits if h.score >= DEFAULT_THRESHOLD]


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        # Documentation ranges stand for real addresses in examples and test data.
        ("alerte de connexion depuis 203.0.113.87, pas moi", "ip_address", "203.0.113.87"),
        ("my ip was 192.0.2.201 if that helps", "ip_address", "192.0.2.201"),
        ("der server hat die ipv6 2001:db8:ab12:7::4", "ip_address", "2001:db8:ab12:7::4"),
        # IBANs typed in lower case, and one that passes mod 97 but not Spain's own check.
        ("virement vers fr76 1660 6516 7501 9920 4538 064 refusé", "iban",
         "fr76 1660 6516 7501 9920 4538 064"),
        ("mi iban es ES59 0536 0762 0633 3956 5650", "iban", "ES59 0536 0762 0633 3956 5650"),
        # Passwords told in a sentence, in five languages.
        ("i reset my password to Tr0ub4dor&3x but it still fails", "password", "Tr0ub4dor&3x"),
        ("J'ai changé mon mot de passe hier pour Marseille13*Om", "password", "Marseille13*Om"),
        ("ich hab das passwort geändert auf Hamburg#Hafen77", "password", "Hamburg#Hafen77"),
        ("la contraseña que puse fue Gatito_Madrid88 y no entra", "password", "Gatito_Madrid88"),
        ("a minha palavra-passe era Benfica1904# e agora", "password", "Benfica1904#"),
        ("senha provisória: Rh#2025-tmp91. No primeiro login", "password", "Rh#2025-tmp91"),
        # A NINO typed in lower case, when a keyword names it.
        ("ni no. eh275590d sorry caps lock is broke", "gb_nino", "eh275590d"),
        ("nino: jh 52 71 03 a mob: +447700900215", "gb_nino", "jh 52 71 03 a"),
        ('DATABASES["default"]["PASSWORD"] = "T1enda_Pr0d#2024"', "password", "T1enda_Pr0d#2024"),
        ("GITHUB_TOKEN=ghp_4fK9x2LmQ7zR1vT8wY3nB6cH0jD5sE2aG9uP", "github_token",
         "ghp_4fK9x2LmQ7zR1vT8wY3nB6cH0jD5sE2aG9uP"),
        # Addresses: four-digit postal codes, street first in French, floors, British towns.
        ("Bitte an Bahnhofstrasse 21, 8001 Zürich senden.", "street_address",
         "Bahnhofstrasse 21, 8001 Zürich"),
        ("mon adresse : Rue Saint-Gilles 112, 4000 Liège. Merci", "street_address",
         "Rue Saint-Gilles 112, 4000 Liège"),
        ("Marc Weber 14, rue de la Gare, L-1611 Luxembourg", "street_address",
         "14, rue de la Gare, L-1611 Luxembourg"),
        ("LEBENSLAUF Sendlinger Str. 31, 80331 München", "street_address",
         "Sendlinger Str. 31, 80331 München"),
        ("Adresse: Eichendorffweg 12, 79100 Freiburg im Breisgau", "street_address",
         "Eichendorffweg 12, 79100 Freiburg im Breisgau"),
        ("Marta Jiménez C/ Alcalá 145, 4º izq., 28009 Madrid", "street_address",
         "C/ Alcalá 145, 4º izq., 28009 Madrid"),
        ("my address is 14 Elm Grove, Leeds LS6 2AB. Thanks", "street_address",
         "14 Elm Grove, Leeds LS6 2AB"),
        # Phone numbers: two given together, an en dash, an unassigned UK range, Brazil.
        ("Tel.: 958 27 64 10 / 630 77 21 05 Motivo", "phone", "630 77 21 05"),
        ("Kunde: 0176 \u2013 23 45 98 10. Agent", "phone", "0176 \u2013 23 45 98 10"),
        ("Call me on +44 7700 900481, I'm in London", "phone", "+44 7700 900481"),
        ("meu celular é (11) 97342-5186, pode mandar", "phone", "(11) 97342-5186"),
    ],
)  # fmt: skip
def test_found_with_its_exact_span(text: str, kind: str, value: str) -> None:
    assert (kind, value) in _found(text)


@pytest.mark.parametrize(
    "text",
    [
        "the password to Outlook is on the wiki",
        "my password is incorrect apparently",
        "ip interne 192.168.1.20, rien de grave",
        "2024-05-13 09:14:22,118 botocore.credentials DEBUG",
        "allow 192.168.0.0/16; deny all;",
        "Hay restricciones leves en la zona 28013",
        "the build hash is eh275590d, see the log",  # NINO-shaped, lower case, no keyword
        "the password is stored hashed: bcrypt-2b",
        # Found by review: words around "pass", code, links, labels.
        "you need to pass the callback to on_change",
        "The passport number is AB1234567 on the form",
        "password reset link is https://example.com/reset?t=1",
        "[sudo] contraseña para admin:",
        'fields = ["username", "email", "password1", "password2"]',
        "Click Place Order 2 times",
        "Top 10 Deals Close Tonight",
        "Protocolo 12 3456 7890 aberto",
        "+1 000 000 0000",
        "virement vers fr76 1660 6516 7501 9920 4538 065 refusé",  # mod 97 fails
        # Documentation examples and placeholders in provider formats.
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "SLACK_BOT_TOKEN=xoxb-000000000000-0000000000000-XXXXXXXXXXXXXXXXXXXXXXXX",
        # A column list is not an assignment: the comma needs a quoted value after it.
        "SELECT id, password_hash, created_at FROM users",
    ],
)
def test_look_alikes_stay_clean(text: str) -> None:
    assert _found(text) == []
