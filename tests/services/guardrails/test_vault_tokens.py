"""Reversible redaction: sealed vault tokens, and a round trip input -> model -> output."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from llmops_contracts import InvalidMessage
from llmops_guardrails import vault_tokens
from llmops_guardrails.detectors.redaction import Vault
from llmops_guardrails.policies import builtin_policy
from llmops_guardrails.recorder import Recorder
from llmops_guardrails.service import GuardrailsService
from llmops_shared.clock import FixedClock
from tests.fakes import FakePublisher
from tests.services.guardrails.conftest import MemoryOutbox, MemoryPolicyStore
from tests.services.guardrails.test_guardrails_service import policy_yaml, request, rule

NOW = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
KEY = bytes(range(32))
VISA = "4111 1111 1111 1111"


# --- tokens -----------------------------------------------------------------------------------


def test_a_token_opens_for_its_tenant_until_it_expires() -> None:
    mapping = {"[EMAIL_1]": "jo@example.com", "[CARD_1]": VISA}
    token = vault_tokens.seal(KEY, "acme", mapping, NOW + timedelta(hours=1))
    assert token.startswith("v1.")
    assert "jo@example.com" not in token
    assert "example" not in base64.urlsafe_b64decode(
        token[3:] + "=" * (-len(token[3:]) % 4)
    ).decode("latin-1")
    assert vault_tokens.open_token(KEY, "acme", token, NOW) == mapping
    with pytest.raises(vault_tokens.VaultTokenError, match="expired"):
        vault_tokens.open_token(KEY, "acme", token, NOW + timedelta(hours=1))
    with pytest.raises(vault_tokens.VaultTokenError, match="does not open"):
        vault_tokens.open_token(KEY, "globex", token, NOW)
    with pytest.raises(vault_tokens.VaultTokenError, match="does not open"):
        vault_tokens.open_token(vault_tokens.new_key(), "acme", token, NOW)


@pytest.mark.parametrize("bad", ["", "v2.abc", "v1.", "v1.!!!", "v1.AAAA", "jo@example.com"])
def test_a_malformed_token_is_refused(bad: str) -> None:
    with pytest.raises(vault_tokens.VaultTokenError):
        vault_tokens.open_token(KEY, "acme", bad, NOW)


def test_a_token_with_one_byte_changed_is_refused() -> None:
    token = vault_tokens.seal(KEY, "acme", {"[EMAIL_1]": "a@b.example"}, NOW + timedelta(1))
    raw = bytearray(base64.urlsafe_b64decode(token[3:] + "=" * (-len(token[3:]) % 4)))
    raw[-1] ^= 1
    forged = "v1." + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    with pytest.raises(vault_tokens.VaultTokenError):
        vault_tokens.open_token(KEY, "acme", forged, NOW)


def test_keys_are_base64_of_32_bytes() -> None:
    assert vault_tokens.parse_key(base64.b64encode(KEY).decode()) == KEY
    with pytest.raises(ValueError, match="32"):
        vault_tokens.parse_key(base64.b64encode(b"short").decode())
    with pytest.raises(ValueError, match="base64"):
        vault_tokens.parse_key("not base64 at all!")


def test_a_vault_rebuilt_from_its_mapping_numbers_new_values_after_it() -> None:
    vault = Vault.from_mapping("", {"[EMAIL_1]": "a@x.example", "[EMAIL_3]": "c@x.example"})
    assert vault.placeholder("EMAIL", "a@x.example") == "[EMAIL_1]"
    assert vault.placeholder("EMAIL", "new@x.example") == "[EMAIL_4]"
    assert vault.placeholder("CARD", VISA) == "[CARD_1]"
    with pytest.raises(ValueError, match="not a placeholder"):
        Vault.from_mapping("", {"EMAIL_1": "a@x.example"})


# --- through the service ----------------------------------------------------------------------

POLICY = policy_yaml(
    input=[rule("pii", "redact", kinds=["email", "card_number"])],
    output=[
        rule("pii", "redact", kinds=["email"]),
        rule("denylist", "block", options={"terms": ["falcon"]}),
    ],
)


@pytest.fixture
async def service() -> GuardrailsService:
    svc = GuardrailsService(
        Recorder(MemoryOutbox(), FakePublisher()),
        MemoryPolicyStore(),
        builtin_policy(),
        clock=FixedClock(NOW),
        vault_key=KEY,
        vault_ttl_s=600,
    )
    from llmops_contracts import wrap
    from llmops_contracts.guardrails import GuardrailPolicyRequest

    for tenant in ("acme", "globex"):
        pushed = await svc.manage(
            wrap(
                GuardrailPolicyRequest(action="push", document=POLICY),
                tenant=tenant,
                source="cli://t",
            )
        )
        assert pushed.version == "1", pushed
    return svc


async def test_input_redaction_round_trips_through_the_output_check(
    service: GuardrailsService,
) -> None:
    user = f"I am jo@example.com, card {VISA}, cc ann@example.com"
    first = await service.check(request(user, "input", reversible=True))
    assert first.redacted_content == "I am [EMAIL_1], card [CARD_1], cc [EMAIL_2]"
    assert first.vault is not None
    assert "jo@example.com" not in first.vault
    assert first.restored_content is None

    # The model answers with the placeholders, and leaks an address of its own.
    answer = "Dear [EMAIL_1]: card [CARD_1] is charged; [EMAIL_2] and boss@corp.example are in cc."
    second = await service.check(request(answer, "output", vault=first.vault))
    # What the output policy hides stays hidden, numbered after the caller's placeholders.
    assert second.redacted_content == (
        "Dear [EMAIL_1]: card [CARD_1] is charged; [EMAIL_2] and [EMAIL_3] are in cc."
    )
    assert second.restored_content == (
        f"Dear jo@example.com: card {VISA} is charged; ann@example.com and [EMAIL_3] are in cc."
    )
    assert second.vault is None  # not asked for


async def test_no_vault_without_anything_hidden_and_none_for_a_blocked_output(
    service: GuardrailsService,
) -> None:
    clean = await service.check(request("nothing personal here", "input", reversible=True))
    assert (clean.redacted_content, clean.vault) == (None, None)
    first = await service.check(request("write to jo@example.com", "input", reversible=True))
    blocked = await service.check(request("[EMAIL_1] leads Falcon", "output", vault=first.vault))
    assert blocked.outcome == "block"
    assert (blocked.restored_content, blocked.redacted_content) == (None, None)


async def test_a_token_opens_only_for_its_tenant_and_until_it_expires(
    service: GuardrailsService,
) -> None:
    first = await service.check(request("write to jo@example.com", "input", reversible=True))
    with pytest.raises(InvalidMessage, match=r"data\.vault: .*does not open"):
        await service.check(request("[EMAIL_1]", "output", tenant="globex", vault=first.vault))
    assert isinstance(service.clock, FixedClock)
    service.clock.advance(timedelta(seconds=600))
    with pytest.raises(InvalidMessage, match="expired"):
        await service.check(request("[EMAIL_1]", "output", vault=first.vault))
