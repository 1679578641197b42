"""Shared runtime pieces that need no server: settings, backoff, dead letters, engines."""

from __future__ import annotations

import base64
import json
from typing import Any, ClassVar

import pytest
from nats.aio.msg import Msg
from pydantic_settings import SettingsConfigDict

from llmops_contracts.dlq import FailureKind
from llmops_contracts.envelope import MAX_ID_LENGTH
from llmops_shared.broker import backoff_s
from llmops_shared.db import create_engine, normalise_url
from llmops_shared.dlq import dead_letter_envelope, is_jetstream
from llmops_shared.settings import ServiceSettings


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LLMOPS_DEMO_")
    service: ClassVar[str] = "demo"
    default_health_port: ClassVar[int] = 8199


def test_suite_settings_have_one_global_name_and_service_settings_a_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NATS_URL", "nats://10.0.0.5:4222")
    monkeypatch.setenv("LLMOPS_STREAM_REPLICAS", "3")
    monkeypatch.setenv("LLMOPS_DEMO_MAX_DELIVER", "9")
    monkeypatch.setenv("LLMOPS_OTHER_MAX_DELIVER", "2")  # another service's: ignored here
    monkeypatch.setenv("LLMOPS_NATS_PASSWORD", "s3cret")
    settings = DemoSettings()
    assert settings.nats_url == "nats://10.0.0.5:4222"
    assert settings.stream_replicas == 3
    assert settings.max_deliver == 9
    assert settings.resolved_health_port == 8199
    assert "s3cret" not in repr(settings)
    assert settings.nats_password is not None
    assert settings.nats_password.get_secret_value() == "s3cret"


def test_invalid_settings_fail_with_the_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMOPS_STREAM_REPLICAS", "0")
    with pytest.raises(ValueError, match="stream_replicas"):
        DemoSettings()


def test_backoff_doubles_and_caps() -> None:
    assert [backoff_s(n) for n in (1, 2, 3, 4, 7, 50)] == [1, 2, 4, 8, 60, 60]


def _msg(data: bytes, subject: str = "llmops.evt.llm.call_completed.acme", **kw: Any) -> Msg:
    return Msg(_client=None, subject=subject, data=data, headers={"Nats-Msg-Id": "m-1"}, **kw)  # type: ignore[arg-type]


def test_dead_letters_keep_binary_payloads_exactly() -> None:
    raw = b"\x00\xffbinary\x80"
    letter = dead_letter_envelope(
        "costs", _msg(raw), FailureKind.INVALID, "(message): not valid JSON"
    )
    assert letter.data.payload_encoding == "base64"
    assert base64.b64decode(letter.data.payload) == raw
    assert letter.tenant == "acme"
    assert letter.subject() == "llmops.dlq.costs.acme"
    assert letter.causation_id == "m-1"
    assert letter.data.original_headers == {"Nats-Msg-Id": "m-1"}


def test_dead_letters_of_unscoped_subjects_get_a_placeholder_tenant() -> None:
    letter = dead_letter_envelope(
        "audit", _msg(b"{}", subject="llmops.evt.x.y.bad*"), FailureKind.INVALID, "x"
    )
    assert letter.tenant == "unknown"
    assert letter.subject() == "llmops.dlq.audit.unknown"
    assert json.loads(letter.to_json())["data"]["payload"] == "{}"


def test_an_over_long_header_id_cannot_make_a_message_impossible_to_dead_letter() -> None:
    msg = _msg(b"{}")
    msg.headers = {"Nats-Msg-Id": "h" * 40_000, "Llmops-Correlation-Id": "c" * (MAX_ID_LENGTH + 1)}
    letter = dead_letter_envelope("costs", msg, FailureKind.INVALID, "x")
    assert (letter.causation_id, letter.correlation_id) == (None, None)
    assert letter.data.original_headers["Nats-Msg-Id"] == "h" * 40_000


def test_a_letters_tenant_is_its_original_subjects_whatever_the_body_says() -> None:
    body = b'{"tenant": "globex"}'
    letter = dead_letter_envelope(
        "audit", _msg(body, subject="llmops.dlq.evil.acme"), FailureKind.INVALID, "x"
    )
    assert (letter.tenant, letter.subject()) == ("acme", "llmops.dlq.audit.acme")


def test_a_letter_of_a_legacy_dead_letter_has_no_tenant() -> None:
    # llmops.dlq.<service> ends with a service name, not a tenant
    letter = dead_letter_envelope(
        "audit", _msg(b"{}", subject="llmops.dlq.costs"), FailureKind.INVALID, "x"
    )
    assert (letter.tenant, letter.subject()) == ("unknown", "llmops.dlq.audit.unknown")
    # other shapes under llmops.dlq. keep the last token: the one NATS permissions scope
    letter = dead_letter_envelope(
        "audit", _msg(b"{}", subject="llmops.dlq.evil.x.acme"), FailureKind.INVALID, "x"
    )
    assert letter.tenant == "acme"


def test_only_jetstream_messages_are_terminated() -> None:
    assert is_jetstream(_msg(b"", reply="$JS.ACK.EVENTS.c.1.1.1.1.0"))
    assert not is_jetstream(_msg(b"", reply="_INBOX.abc"))
    assert not is_jetstream(_msg(b""))


def test_database_urls_get_async_drivers() -> None:
    assert normalise_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"
    assert normalise_url("postgresql://u:p@h/db") == "postgresql+asyncpg://u:p@h/db"
    assert normalise_url("postgresql+asyncpg://h/db") == "postgresql+asyncpg://h/db"


def test_in_memory_sqlite_is_refused() -> None:
    with pytest.raises(ValueError, match="in-memory"):
        create_engine("sqlite:///:memory:")


async def test_bare_fetch_timeouts_become_nats_timeouts() -> None:
    import nats.errors
    from nats.js import JetStreamContext

    from llmops_shared.broker import create_broker, nats_timeouts

    async def bare(*_: Any) -> None:
        raise TimeoutError

    with pytest.raises(nats.errors.TimeoutError):
        await nats_timeouts(bare)()
    create_broker(DemoSettings())
    fetch = JetStreamContext.PullSubscription.fetch
    assert getattr(fetch, "_llmops_patched", False)
    assert nats_timeouts(fetch) is fetch  # applied once, however many brokers are built
