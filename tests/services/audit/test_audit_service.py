"""Unit tests of the audit logic (llmops_audit.service and the steps it runs) with the in-memory fake repository.

Admission, per-tenant chaining and de-duplication, redaction before hashing, checkpoints,
verification, purge and the AUDIT-stream message, without NATS or a database.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from llmops_audit.admission import Incoming, admit
from llmops_audit.chain import ChainConflict, Head
from llmops_audit.checkpoints import Sealer, Signer, key_ring
from llmops_audit.redaction import Policy, Redactor
from llmops_audit.republisher import Republisher, audit_message
from llmops_audit.service import AuditService
from llmops_contracts import new_event_id, subjects, wrap
from llmops_contracts.audit import AuditQuery
from llmops_contracts.auditchain import (
    GENESIS_HASH,
    record_hash,
    timestamp,
    verify_chain,
)
from llmops_contracts.canonical import canonical_json
from llmops_contracts.common import Actor, ObjectRef
from llmops_contracts.envelope import Envelope
from llmops_contracts.headers import MSG_ID, TYPE
from llmops_contracts.llm import Content, LlmCallCompleted, Message
from llmops_contracts.registry import InvalidMessage, parse
from llmops_shared.batch import is_permanent
from llmops_shared.clock import FixedClock
from tests.fakes import FakePublisher as Sink
from tests.services.audit.conftest import SIGNER, FakeLedger

KEYS = key_ring([SIGNER.public_key])
SALT = b"redaction-salt"
T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def call(
    tenant: str,
    *,
    user: str | None = "alice",
    app: str | None = "bot",
    content: Content | None = None,
    **attributes: Any,
) -> Envelope[Any]:
    """An llm.call_completed envelope."""
    payload = LlmCallCompleted(
        provider="openai",
        request_model="gpt-4o-mini",
        latency_ms=12.5,
        actor=Actor(user=user, app=app),
        content=content,
        finish_reasons=["stop", "length"],
    )
    return wrap(payload, tenant=tenant, source="app://test", **attributes)


def arriving(envelope: Envelope[Any]) -> Incoming:
    """The envelope as the capture consumer admits it from the wire."""
    return admit(envelope.subject(), envelope.to_json())


def raw(envelope: dict[str, Any], subject: str | None = None) -> Incoming:
    subject = subject or f"llmops.evt.llm.call_completed.{envelope.get('tenant')}"
    return admit(subject, json.dumps(envelope).encode())


@pytest.fixture
def clock() -> FixedClock:
    """A clock the test moves by hand."""
    return FixedClock(T0)


def signed(
    repo: Any, clock: FixedClock, ledger: FakeLedger | None = None, **options: Any
) -> AuditService:
    """An audit service whose checkpoints the test key signs (and publishes to ``ledger``)."""
    sealer = Sealer(repo, SIGNER, ledger or FakeLedger(), clock=clock)
    return AuditService(sealer.watch(repo), checkpointer=sealer, clock=clock, **options)


@pytest.fixture
def service(fake_repository: Any, clock: FixedClock, fake_ledger: FakeLedger) -> AuditService:
    return signed(fake_repository, clock, fake_ledger)


async def stored(repo: Any, tenant: str) -> list[dict[str, Any]]:
    return [r async for r in repo.records(tenant)]


# --- admission -------------------------------------------------------------------------------


def test_admit_keeps_the_envelope_as_received() -> None:
    env = call("acme", correlation_id="c-1")
    item = arriving(env)
    assert item.subject == "llmops.evt.llm.call_completed.acme"
    assert (item.tenant, item.event_id) == ("acme", env.id)
    assert item.envelope == json.loads(env.to_json())


def test_admit_records_unknown_types_and_payloads_consumers_would_refuse() -> None:
    envelope = json.loads(call("acme").to_json())
    envelope["type"] = "llmops.future.thing.v9"
    envelope["data"] = {"anything": ["goes", 1.5]}
    assert raw(envelope).envelope["data"] == {"anything": ["goes", 1.5]}


def _good() -> dict[str, Any]:
    return json.loads(call("acme").to_json())


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xff\xfe not json", "(message): not valid JSON"),
        (b"{not json", "(message): not valid JSON"),
        (b"[1, 2]", "(message): not a JSON object"),
        (b'"a string"', "(message): not a JSON object"),
        (json.dumps({**_good(), "id": None}).encode(), "id:"),
        (json.dumps({k: v for k, v in _good().items() if k != "id"}).encode(), "id:"),
        (json.dumps({**_good(), "id": "not-a-uuid"}).encode(), "id:"),
        (json.dumps({**_good(), "id": "0190000000007000800000000000000a"}).encode(), "id:"),
        (json.dumps({k: v for k, v in _good().items() if k != "type"}).encode(), "type:"),
        (json.dumps({**_good(), "type": "llmops.llm.call_completed"}).encode(), "type:"),
        (json.dumps({**_good(), "type": "other.llm.call_completed.v1"}).encode(), "type:"),
        (json.dumps({**_good(), "type": "llmops.llm.call_completed.v0"}).encode(), "type:"),
        (json.dumps({**_good(), "type": 7}).encode(), "type:"),
        (json.dumps({k: v for k, v in _good().items() if k != "tenant"}).encode(), "tenant:"),
        (json.dumps({**_good(), "tenant": "ac.me"}).encode(), "tenant:"),
        (json.dumps({**_good(), "tenant": ""}).encode(), "tenant:"),
        (json.dumps({**_good(), "tenant": "other"}).encode(), "tenant: 'other' does not match"),
        (json.dumps({k: v for k, v in _good().items() if k != "source"}).encode(), "source:"),
        (json.dumps({**_good(), "source": 3}).encode(), "source:"),
    ],
)
def test_admit_refuses_what_the_trail_cannot_rely_on(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidMessage) as refused:
        admit("llmops.evt.llm.call_completed.acme", body)
    assert refused.value.reason.startswith(reason), refused.value.reason


def test_dead_letters_join_the_chain_of_their_subjects_tenant_only() -> None:
    letter = _good() | {"tenant": "acme"}
    item = admit(subjects.dlq_for("costs", "acme"), json.dumps(letter).encode())
    assert item.tenant == "acme"
    # acme may publish on subjects ending in .acme: a letter naming globex is refused, so it
    # cannot reach globex's chain (finding: a forged call_completed in another tenant's chain)
    forged = json.dumps(letter | {"tenant": "globex"}).encode()
    for subject in ("llmops.dlq.evil.acme", subjects.dlq_for("costs", "acme")):
        with pytest.raises(InvalidMessage, match="tenant: 'globex' does not match"):
            admit(subject, forged)
    with pytest.raises(InvalidMessage, match="tenant:"):
        admit(subjects.dlq_for("costs", "acme"), json.dumps(letter | {"tenant": "a b"}).encode())


@pytest.mark.parametrize("subject", ["llmops.dlq.x.y.acme", "llmops.dlq.x.y.z.acme"])
def test_subjects_below_the_dead_letter_root_of_another_shape_are_refused(subject: str) -> None:
    with pytest.raises(InvalidMessage, match="not a dead-letter subject"):
        admit(subject, json.dumps(_good()).encode())


def test_letters_on_the_old_tenantless_subject_join_the_unknown_chain() -> None:
    # Kept readable (they may still sit in a DLQ stream), but never in the tenant they claim.
    item = admit("llmops.dlq.costs", json.dumps(_good() | {"tenant": "globex"}).encode())
    assert item.tenant == subjects.UNKNOWN_TENANT
    assert item.envelope["tenant"] == "globex"


def test_a_tenant_named_unknown_gets_no_exemption_on_event_subjects() -> None:
    with pytest.raises(InvalidMessage, match="does not match"):
        admit("llmops.evt.llm.call_completed.unknown", json.dumps(_good()).encode())


@pytest.mark.parametrize(
    "poison",
    [b'"x": NaN', b'"x": Infinity', b'"x": -Infinity', b'"x": 1e400', b'"x": "\\ud800"'],
)
def test_admit_refuses_json_that_cannot_be_hashed(poison: bytes) -> None:
    body = call("acme").to_json()
    body = body[:-1] + b"," + poison + b"}"
    with pytest.raises(InvalidMessage):
        admit("llmops.evt.llm.call_completed.acme", body)


@pytest.mark.parametrize("depth", [64, 600, 5_000])
def test_admit_refuses_nesting_the_chain_could_not_hash(depth: int) -> None:
    # 600 deep was admitted, then failed hashing (RecursionError) on every delivery; 5,000 deep
    # raised RecursionError out of parsing itself. 63 levels inside the envelope still fit.
    body = call("acme").to_json()
    fits = body[:-1] + b',"x":' + b"[" * 63 + b"]" * 63 + b"}"
    assert admit("llmops.evt.llm.call_completed.acme", fits).envelope["x"]
    deep = body[:-1] + b',"x":' + b"[" * depth + b"]" * depth + b"}"
    with pytest.raises(InvalidMessage, match="nested deeper than 64"):
        admit("llmops.evt.llm.call_completed.acme", deep)


@pytest.mark.parametrize(
    "encoding", ["utf-16-le", "utf-16-be", "utf-16", "utf-32-le", "utf-32-be", "utf-32"]
)
@pytest.mark.parametrize("depth", [1, 600])
def test_admit_refuses_json_in_another_encoding_than_utf8(encoding: str, depth: int) -> None:
    # The nesting count reads UTF-8: in UTF-16/32 the escaped quote of "\"" is not the bytes
    # \" and was taken for a string's end, so 600 levels after it passed, were admitted, and
    # failed the canonical hash on every delivery. Shallow ones are refused alike.
    envelope = json.loads(call("acme").to_json()) | {"q": '"', "x": "PLACEHOLDER"}
    text = json.dumps(envelope).replace('"PLACEHOLDER"', "[" * depth + "]" * depth)
    with pytest.raises(InvalidMessage) as refused:
        admit("llmops.evt.llm.call_completed.acme", text.encode(encoding))
    assert refused.value.reason == (
        "(message): not valid JSON: a NUL byte: UTF-16 or UTF-32 text? The wire is UTF-8"
    )
    if depth == 1:  # the same text in UTF-8 is admitted
        assert admit("llmops.evt.llm.call_completed.acme", text.encode()).envelope["q"] == '"'


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xef\xbb\xbf" + call("acme").to_json(), "a byte order mark: the wire is UTF-8"),
        (call("acme").to_json().replace(b"gpt", b"g\xed\xa0\x80t"), "'utf-8' codec can't decode"),
    ],
)
def test_admit_reads_nothing_but_utf8(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidMessage) as refused:
        admit("llmops.evt.llm.call_completed.acme", body)
    assert refused.value.reason.startswith(f"(message): not valid JSON: {reason}")


async def test_an_item_too_deep_to_hash_fails_as_permanent(service: AuditService) -> None:
    """Built in code, past admit(): the batch consumer must dead-letter it at once, not retry."""
    deep: Any = []
    for _ in range(5_000):
        deep = [deep]
    item = Incoming("llmops.evt.llm.call_completed.acme", json.loads(call("acme").to_json()))
    item.envelope["x"] = deep
    with pytest.raises(InvalidMessage, match="nested too deep for the canonical form") as failed:
        await service.record([item])
    assert is_permanent(failed.value)


# --- chaining --------------------------------------------------------------------------------


async def test_each_tenant_gets_its_own_chain_from_seq_1(
    service: AuditService, fake_repository: Any
) -> None:
    a, b = [call("acme") for _ in range(3)], [call("beta") for _ in range(2)]
    batch = [a[0], b[0], a[1], a[2], b[1]]
    assert await service.record([arriving(e) for e in batch]) == 5
    for tenant, events in (("acme", a), ("beta", b)):
        records = await stored(fake_repository, tenant)
        assert [r["seq"] for r in records] == list(range(1, len(events) + 1))
        assert [r["event_id"] for r in records] == [e.id for e in events]
        assert [r["prev_hash"] for r in records] == [GENESIS_HASH] + [
            r["hash"] for r in records[:-1]
        ]
        for record, event in zip(records, events, strict=True):
            assert record_hash(record) == record["hash"]
            assert record["tenant"] == tenant
            assert record["event"] == json.loads(event.to_json())
            assert record["event_type"] == "llmops.llm.call_completed.v1"
            assert record["event_subject"] == f"llmops.evt.llm.call_completed.{tenant}"
            assert record["recorded_at"] == "2026-11-27T09:00:00.000000Z"
            assert record["redaction_policy_version"] is None
        assert verify_chain(records).ok


async def test_a_chain_continues_across_batches_and_a_restart(
    fake_repository: Any, clock: FixedClock
) -> None:
    first = AuditService(fake_repository, clock=clock)
    await first.record([arriving(call("acme")) for _ in range(3)])
    clock.advance(seconds=1)
    restarted = AuditService(fake_repository, clock=clock)  # no cached heads: read from storage
    await restarted.record([arriving(call("acme")) for _ in range(2)])
    records = await stored(fake_repository, "acme")
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5]
    assert records[3]["prev_hash"] == records[2]["hash"]
    assert records[3]["recorded_at"] == "2026-11-27T09:00:01.000000Z"
    assert (await restarted.verify("acme")).ok


async def test_repeats_within_a_batch_are_stored_once(
    service: AuditService, fake_repository: Any
) -> None:
    one, two = call("acme"), call("acme")
    assert await service.record([arriving(e) for e in (one, one, two, one)]) == 2
    assert [r["event_id"] for r in await stored(fake_repository, "acme")] == [one.id, two.id]


async def test_events_already_stored_are_skipped(
    service: AuditService, fake_repository: Any
) -> None:
    one, two, three = call("acme"), call("acme"), call("acme")
    await service.record([arriving(one), arriving(two)])
    transactions = fake_repository.transactions
    assert await service.record([arriving(two), arriving(one)]) == 0
    assert fake_repository.transactions == transactions  # nothing to write, no transaction
    assert await service.record([arriving(two), arriving(three), arriving(one)]) == 1
    records = await stored(fake_repository, "acme")
    assert [(r["seq"], r["event_id"]) for r in records] == [(1, one.id), (2, two.id), (3, three.id)]
    assert await service.record([]) == 0


async def test_a_republished_copy_with_other_content_does_not_replace_the_record(
    service: AuditService, fake_repository: Any
) -> None:
    original = call("acme")
    await service.record([arriving(original)])
    forged = json.loads(original.to_json())
    forged["data"]["request_model"] = "something-else"
    assert await service.record([raw(forged)]) == 0
    [record] = await stored(fake_repository, "acme")
    assert record["event"]["data"]["request_model"] == "gpt-4o-mini"


async def test_the_same_event_id_in_two_tenants_is_two_records(
    service: AuditService, fake_repository: Any
) -> None:
    shared = new_event_id()
    await service.record([arriving(call("acme", id=shared)), arriving(call("beta", id=shared))])
    assert len(await stored(fake_repository, "acme")) == len(await stored(fake_repository, "beta"))
    assert (await stored(fake_repository, "beta"))[0]["event_id"] == shared


async def test_filter_columns_come_from_the_envelope(fake_repository: Any) -> None:
    service = AuditService(fake_repository)
    env = call("acme", user="u1", app="a1", correlation_id="corr", traceparent=TRACEPARENT)
    await service.record([arriving(env), arriving(call("acme", user=None, app=None))])
    [row, bare] = fake_repository.rows
    assert (row.source, row.user, row.app) == ("app://test", "u1", "a1")
    assert (row.trace_id, row.correlation_id) == ("0af7651916cd43dd8448eb211c80319c", "corr")
    assert row.time == env.time
    assert (bare.user, bare.app, bare.trace_id, bare.correlation_id) == (None, None, None, None)


async def test_on_recorded_fires_only_when_something_was_stored(fake_repository: Any) -> None:
    fired: list[int] = []
    service = AuditService(fake_repository, on_recorded=lambda: fired.append(1))
    env = call("acme")
    await service.record([arriving(env)])
    await service.record([arriving(env)])
    assert fired == [1]


async def test_a_chain_conflict_drops_cached_heads_so_a_retry_succeeds(
    fake_repository: Any, clock: FixedClock
) -> None:
    ours = AuditService(fake_repository, clock=clock)
    theirs = AuditService(fake_repository, clock=clock)  # another replica on the same database
    await ours.record([arriving(call("acme"))])  # ours caches head 1
    await theirs.record([arriving(call("acme"))])  # theirs extends the chain to 2
    late = arriving(call("acme"))
    with pytest.raises(ChainConflict):
        await ours.record([late])  # still believes the head is 1
    assert await ours.record([late]) == 1  # the retry reloads the head
    records = await stored(fake_repository, "acme")
    assert [r["seq"] for r in records] == [1, 2, 3]
    assert records[2]["event_id"] == late.event_id
    assert (await ours.verify("acme")).ok


async def test_a_failed_write_leaves_the_cached_heads_untouched(fake_repository: Any) -> None:
    class Flaky:
        """The fake, with appends that fail while ``fail`` is set."""

        fail = False

        def __getattr__(self, name: str) -> Any:
            return getattr(fake_repository, name)

        async def append(self, records: Any) -> None:
            if self.fail:
                raise OSError("database away")
            await fake_repository.append(records)

    flaky = Flaky()
    service = AuditService(flaky)  # type: ignore[arg-type]
    await service.record([arriving(call("acme"))])
    flaky.fail = True
    with pytest.raises(OSError, match="away"):
        await service.record([arriving(call("acme"))])
    flaky.fail = False
    await service.record([arriving(call("acme"))])
    assert [r["seq"] for r in await stored(fake_repository, "acme")] == [1, 2]
    assert (await service.verify("acme")).ok


# --- redaction -------------------------------------------------------------------------------


def content() -> Content:
    return Content(
        input_messages=[
            Message(role="system", content="You are secret"),
            Message(role="user", content="my card is 4111"),
        ],
        output_messages=[Message(role="assistant", content="noted 4111")],
    )


def policy(version: str, *rules: tuple[str, str]) -> Policy:
    return Policy.from_dict(
        {"version": version, "rules": [{"path": p, "action": a} for p, a in rules]}
    )


async def record_one(service: AuditService, env: Envelope[Any]) -> dict[str, Any]:
    await service.record([arriving(env)])
    records = await stored(service.repository, env.tenant)
    return records[-1]


async def test_dropped_paths_are_gone_before_hashing_and_the_version_is_recorded(
    fake_repository: Any,
) -> None:
    redactor = Redactor(default=policy("v7", ("data.content", "drop")))
    service = AuditService(fake_repository, redactor)
    record = await record_one(service, call("acme", content=content()))
    assert "content" not in record["event"]["data"]
    assert record["event"]["data"]["request_model"] == "gpt-4o-mini"  # the rest stays
    assert record["redaction_policy_version"] == "v7"
    assert record_hash(record) == record["hash"]
    # The card number is nowhere in what was hashed (hex hashes are left out: they may hold
    # the digits by chance).
    assert "4111" not in canonical_json(record["event"])


async def test_wildcards_match_any_key_or_list_index(fake_repository: Any) -> None:
    redactor = Redactor(
        default=policy(
            "v1", ("data.content.*.*.content", "drop"), ("data.finish_reasons.1", "drop")
        )
    )
    service = AuditService(fake_repository, redactor)
    record = await record_one(service, call("acme", content=content()))
    data = record["event"]["data"]
    assert data["content"] == {
        "input_messages": [{"role": "system"}, {"role": "user"}],
        "output_messages": [{"role": "assistant"}],
    }
    assert data["finish_reasons"] == ["stop"]
    assert "4111" not in canonical_json(record["event"])  # hashes may hold the digits by chance


async def test_hashed_values_are_salted_per_tenant(fake_repository: Any) -> None:
    redactor = Redactor(default=policy("v2", ("data.actor.user", "hash")), salt=SALT)
    service = AuditService(fake_repository, redactor)
    acme1 = await record_one(service, call("acme", user="alice"))
    acme2 = await record_one(service, call("acme", user="alice"))
    beta = await record_one(service, call("beta", user="alice"))
    digest = acme1["event"]["data"]["actor"]["user"]
    assert digest.startswith("hmac-sha256:")
    assert len(digest) == len("hmac-sha256:") + 64
    assert acme2["event"]["data"]["actor"]["user"] == digest  # joinable within a tenant
    assert beta["event"]["data"]["actor"]["user"] != digest  # not across tenants
    assert acme1["event"]["data"]["actor"]["app"] == "bot"
    assert "alice" not in canonical_json(acme1)
    # HMAC keyed per tenant from the salt, over the value's canonical JSON.
    tenant_key = hmac.new(SALT, b"acme", hashlib.sha256).digest()
    assert digest == "hmac-sha256:" + hmac.new(tenant_key, b'"alice"', hashlib.sha256).hexdigest()
    # Another salt, another digest: a dictionary attack needs the secret.
    other = Redactor(default=policy("v2", ("data.actor.user", "hash")), salt=b"other salt")
    assert (
        other.apply("acme", json.loads(call("acme").to_json()))[0]["data"]["actor"]["user"]
        != digest
    )


async def test_structured_values_hash_whole(fake_repository: Any) -> None:
    redactor = Redactor(default=policy("v1", ("data.content", "hash")), salt=SALT)
    service = AuditService(fake_repository, redactor)
    record = await record_one(service, call("acme", content=content()))
    assert str(record["event"]["data"]["content"]).startswith("hmac-sha256:")


async def test_a_later_rule_wins_so_keep_can_carve_out_an_exception(fake_repository: Any) -> None:
    redactor = Redactor(default=policy("v3", ("data.*", "drop"), ("data.actor", "keep")))
    service = AuditService(fake_repository, redactor)
    record = await record_one(service, call("acme", content=content()))
    assert record["event"]["data"] == {"actor": {"app": "bot", "user": "alice", "session": None}}
    assert record["event"]["tenant"] == "acme"  # only data paths are redacted


async def test_a_tenant_policy_replaces_the_default(fake_repository: Any) -> None:
    redactor = Redactor(
        {"acme": policy("acme-1", ("data.actor", "drop"))},
        default=policy("default-1", ("data.content", "drop")),
    )
    service = AuditService(fake_repository, redactor)
    acme = await record_one(service, call("acme", content=content()))
    beta = await record_one(service, call("beta", content=content()))
    assert "actor" not in acme["event"]["data"]
    assert "content" in acme["event"]["data"]
    assert acme["redaction_policy_version"] == "acme-1"
    assert "content" not in beta["event"]["data"]
    assert beta["redaction_policy_version"] == "default-1"


async def test_without_a_policy_nothing_changes_and_no_version_is_recorded(
    fake_repository: Any,
) -> None:
    service = AuditService(fake_repository, Redactor({"acme": policy("empty")}))
    env = call("beta", content=content())
    record = await record_one(service, env)
    assert record["event"] == json.loads(env.to_json())
    assert record["redaction_policy_version"] is None
    empty = await record_one(service, call("acme", content=content()))
    assert empty["redaction_policy_version"] == "empty"  # applied, but it has no rules
    assert empty["event"]["data"]["content"] is not None


async def test_a_redacted_user_is_not_kept_in_the_query_columns(fake_repository: Any) -> None:
    redactor = Redactor(default=policy("v1", ("data.actor.user", "drop")))
    service = AuditService(fake_repository, redactor)
    await record_one(service, call("acme", user="alice"))
    assert fake_repository.rows[0].user is None
    rows, _, _ = await service.query("acme", AuditQuery(user="alice"))
    assert rows == []


def test_hashing_without_a_salt_is_refused() -> None:
    hashing = policy("v1", ("data.actor.user", "hash"))
    with pytest.raises(ValueError, match="SALT"):
        Redactor({"acme": hashing})
    with pytest.raises(ValueError, match="SALT"):
        Redactor(default=hashing, salt=b"")
    Redactor(default=policy("v1", ("data.actor.user", "drop")))  # dropping needs no salt


@pytest.mark.parametrize(
    "raw_policy",
    [
        {"rules": []},
        {"version": "", "rules": []},
        {"version": "v1", "rules": [{"path": "tenant", "action": "drop"}]},
        {"version": "v1", "rules": [{"path": "data.x", "action": "encrypt"}]},
        {"version": "v1", "rules": [{"action": "drop"}]},
    ],
)
def test_malformed_policies_are_refused(raw_policy: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"version|rule 0"):
        Policy.from_dict(raw_policy)


def test_policies_load_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "policies.json"
    path.write_text(
        json.dumps(
            {
                "default": {"version": "d1", "rules": [{"path": "data.content", "action": "drop"}]},
                "tenants": {
                    "acme": {"version": "a1", "rules": [{"path": "data.actor", "action": "hash"}]}
                },
            }
        )
    )
    redactor = Redactor.from_file(str(path), SALT)
    assert redactor.policy_for("acme") == policy("a1", ("data.actor", "hash"))
    assert redactor.policy_for("zzz") == policy("d1", ("data.content", "drop"))
    with pytest.raises(ValueError, match="SALT"):
        Redactor.from_file(str(path), None)
    assert Redactor.from_file(None, None).policy_for("acme") is None


# --- checkpoints and verification ------------------------------------------------------------


async def test_checkpoints_sign_only_heads_that_moved(
    service: AuditService, fake_repository: Any, clock: FixedClock
) -> None:
    await service.record([arriving(call(t)) for t in ("acme", "acme", "beta")])
    assert await service.checkpoint_heads() == 2
    assert await service.checkpoint_heads() == 0
    clock.advance(minutes=1)
    await service.record([arriving(call("acme"))])
    assert await service.checkpoint_heads() == 1
    acme = await fake_repository.checkpoints("acme")
    assert [(c["seq"], c["kind"], c["key_id"]) for c in acme] == [
        (2, "periodic", SIGNER.key_id),
        (3, "periodic", SIGNER.key_id),
    ]
    assert acme[1]["created_at"] == "2026-11-27T09:01:00.000000Z"
    assert acme[1]["hash"] == (await stored(fake_repository, "acme"))[2]["hash"]
    assert all(KEYS.valid(c) for c in acme)
    assert not key_ring([Signer.generate().public_key]).valid(acme[0])
    assert [c["seq"] for c in await fake_repository.checkpoints("beta")] == [1]


async def test_verify_reports_a_clean_chain(service: AuditService) -> None:
    await service.record([arriving(call("acme")) for _ in range(4)])
    await service.checkpoint_heads()
    await service.record([arriving(call("acme")) for _ in range(3)])
    report = await service.verify("acme")
    assert report.ok
    assert (report.tenant, report.checked, report.first_seq, report.last_seq) == ("acme", 7, 1, 7)
    assert report.checkpoints_checked == 1
    empty = await service.verify("nobody")
    assert empty.ok
    assert empty.checked == 0


async def test_verify_names_a_modified_record_and_counts_the_failure(
    fake_repository: Any,
) -> None:
    failures: list[str] = []
    service = AuditService(fake_repository, on_verify_failure=failures.append)
    events = [call("acme") for _ in range(5)]
    await service.record([arriving(e) for e in events])
    fake_repository.rows[2].record["event"]["data"]["latency_ms"] = 0.1  # tampered in storage
    fake_repository.rows[3].record["event"]["data"]["latency_ms"] = 0.1
    report = await service.verify("acme")
    assert report.first_break is not None
    assert (report.first_break.seq, report.first_break.event_id) == (3, events[2].id)
    assert report.first_break.kind == "modified"
    assert len(report.breaks) == 1
    assert report.checked == 3  # stops at the first break
    assert failures == ["acme"]
    every = await service.verify("acme", all_breaks=True)
    assert [(b.seq, b.kind) for b in every.breaks] == [(3, "modified"), (4, "modified")]
    assert every.checked == 5


async def test_verify_checks_checkpoint_signatures_with_the_service_key(
    service: AuditService, fake_repository: Any
) -> None:
    await service.record([arriving(call("acme")) for _ in range(3)])
    head = (await stored(fake_repository, "acme"))[-1]
    stranger = Signer.generate().sign("acme", Head(3, head["hash"]), "periodic", T0)
    await fake_repository.add_checkpoint(stranger)
    broken = (await service.verify("acme")).first_break
    assert broken is not None
    assert (broken.seq, broken.kind) == (3, "checkpoint")


async def test_verify_notices_records_lost_after_a_checkpoint(
    service: AuditService, fake_repository: Any
) -> None:
    await service.record([arriving(call("acme")) for _ in range(5)])
    await service.checkpoint_heads()
    del fake_repository.rows[-1]  # the head, after it was signed
    broken = (await service.verify("acme")).first_break
    assert broken is not None
    assert (broken.seq, broken.kind) == (5, "missing")


# --- query and purge -------------------------------------------------------------------------


async def test_query_pages_with_a_cursor_and_the_anchor_on_the_first_page(
    service: AuditService, clock: FixedClock
) -> None:
    await service.record([arriving(call("acme")) for _ in range(5)])
    rows, cursor, anchor = await service.query("acme", AuditQuery(limit=2))
    assert ([r["seq"] for r in rows], cursor, anchor) == ([1, 2], 2, None)
    rows, cursor, _ = await service.query("acme", AuditQuery(limit=2, after_seq=4))
    assert ([r["seq"] for r in rows], cursor) == ([5], None)
    rows, cursor, _ = await service.query("acme", AuditQuery(limit=5))
    assert (len(rows), cursor) == (5, 5)  # a full page: the next one is asked for, and empty
    assert await service.query("acme", AuditQuery(limit=5, after_seq=5)) == ([], None, None)

    clock.advance(hours=1)
    purged, checkpoint = await service.purge("acme", clock.now())
    assert purged == 5
    await service.record([arriving(call("acme"))])
    rows, _, anchor = await service.query("acme", AuditQuery())
    assert [r["seq"] for r in rows] == [6]
    assert anchor == checkpoint
    assert (await service.query("acme", AuditQuery(after_seq=5)))[2] is None


async def test_purge_signs_a_purge_checkpoint_and_the_rest_still_verifies(
    service: AuditService, fake_repository: Any, clock: FixedClock
) -> None:
    await service.record([arriving(call("acme")) for _ in range(3)])
    clock.advance(days=40)
    await service.record([arriving(call("acme")) for _ in range(2)])
    await service.checkpoint_heads()
    purged, checkpoint = await service.purge("acme", T0 + timedelta(days=30))
    assert purged == 3
    assert checkpoint is not None
    third = checkpoint["hash"]
    assert (checkpoint["seq"], checkpoint["kind"]) == (3, "purge")
    assert checkpoint["key_id"] == SIGNER.key_id
    assert checkpoint["created_at"] == timestamp(clock.now())
    assert KEYS.valid(checkpoint)
    assert await service.anchor("acme") == checkpoint
    records = await stored(fake_repository, "acme")
    assert [r["seq"] for r in records] == [4, 5]
    assert records[0]["prev_hash"] == third
    report = await service.verify("acme")
    assert report.ok
    assert (report.first_seq, report.checked) == (4, 2)
    assert await service.purge("acme", T0 + timedelta(days=30)) == (0, None)


async def test_a_fully_purged_chain_continues_in_the_same_process(
    service: AuditService, clock: FixedClock
) -> None:
    await service.record([arriving(call("acme")) for _ in range(3)])
    clock.advance(days=1)
    assert (await service.purge("acme", clock.now()))[0] == 3
    await service.record([arriving(call("acme"))])
    report = await service.verify("acme")
    assert report.ok
    assert report.first_seq == 4


async def test_verify_checks_the_purge_anchor_signature(
    service: AuditService, fake_repository: Any, clock: FixedClock
) -> None:
    await service.record([arriving(call("acme")) for _ in range(4)])
    records = await stored(fake_repository, "acme")
    # Someone removes the first two records and writes a purge checkpoint without the key.
    fake_repository.rows = fake_repository.rows[2:]
    forged = Signer.generate().sign("acme", Head(2, records[1]["hash"]), "purge", T0)
    await fake_repository.add_checkpoint(forged)
    assert await service.anchor("acme") == forged
    broken = (await service.verify("acme")).first_break
    assert broken is not None
    assert (broken.seq, broken.kind) == (2, "checkpoint")


async def test_a_fully_purged_chain_continues_after_a_restart(
    fake_repository: Any, clock: FixedClock
) -> None:
    ledger = FakeLedger()
    first = signed(fake_repository, clock, ledger)
    await first.record([arriving(call("acme")) for _ in range(3)])
    clock.advance(days=1)
    assert (await first.purge("acme", clock.now()))[0] == 3
    restarted = signed(fake_repository, clock, ledger)
    await restarted.record([arriving(call("acme"))])
    assert [r["seq"] async for r in fake_repository.records("acme")] == [4]
    assert (await restarted.verify("acme")).ok


# --- the AUDIT-stream message ----------------------------------------------------------------


async def test_audit_message_is_a_valid_audit_record_envelope_that_reverifies(
    service: AuditService, fake_repository: Any
) -> None:
    event = call("acme", correlation_id="corr-9", traceparent=TRACEPARENT)
    await service.record([arriving(event), arriving(call("acme"))])
    records = await stored(fake_repository, "acme")
    subject, body, headers = audit_message(records[0])
    assert subject == "llmops.audit.acme"
    envelope = parse(body, subject=subject)
    assert envelope.type == "llmops.audit.record.v1"
    assert envelope.tenant == "acme"
    assert envelope.source == "llmops/audit"
    assert envelope.causation_id == event.id
    assert envelope.correlation_id == "corr-9"
    assert envelope.traceparent == TRACEPARENT
    assert envelope.time == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert envelope.data.event_ref is None  # carried inline, not by reference
    data = envelope.data.model_dump(exclude_unset=True)
    assert data == records[0]
    assert record_hash(data) == data["hash"]
    assert headers == {MSG_ID: "audit:acme:1", TYPE: "llmops.audit.record.v1"}
    # The same record always makes the same message (a republish is de-duplicated)...
    assert audit_message(records[0]) == (subject, body, headers)
    # ...and the records received verify as a chain with nothing but the canonical form.
    received = [json.loads(audit_message(r)[1])["data"] for r in records]
    assert verify_chain(received).ok


async def test_audit_message_leaves_out_trace_attributes_the_envelope_would_refuse(
    fake_repository: Any,
) -> None:
    service = AuditService(fake_repository)
    envelope = json.loads(call("acme").to_json())
    envelope["traceparent"] = "not a traceparent"
    envelope["correlation_id"] = "c" * 300
    await service.record([raw(envelope)])
    [record] = await stored(fake_repository, "acme")
    message = parse(audit_message(record)[1])
    assert (message.traceparent, message.correlation_id) == (None, None)
    assert message.data.event["correlation_id"] == "c" * 300  # the record itself is untouched
    assert record_hash(message.data.model_dump()) == record["hash"]


async def test_different_records_get_different_message_ids(
    service: AuditService, fake_repository: Any
) -> None:
    await service.record([arriving(call("acme")) for _ in range(20)])
    ids = {json.loads(audit_message(r)[1])["id"] for r in await stored(fake_repository, "acme")}
    assert len(ids) == 20


class SmallBlobs:
    """The object store in memory, with a small server limit so a prompt is "too large"."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.objects: dict[str, bytes] = {}

    def max_payload(self) -> int:
        return self.limit

    async def put(self, data: bytes) -> ObjectRef:
        digest = hashlib.sha256(data).hexdigest()
        self.objects[digest] = data
        return ObjectRef(bucket="b", name=digest, size=len(data), sha256=digest)


class Outbox:
    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.rows = list(enumerate(records, 1))
        self.cursor = 0

    async def unpublished(self, limit: int) -> list[tuple[int, dict[str, Any]]]:
        return [(p, r) for p, r in self.rows if p > self.cursor][:limit]

    async def mark_published(self, position: int) -> None:
        self.cursor = position


async def test_a_record_too_large_for_one_message_is_republished_by_reference(
    service: AuditService, fake_repository: Any
) -> None:
    big = Content(input_messages=[Message(role="user", content="é" * 3000)])
    await service.record([arriving(call("acme")), arriving(call("acme", content=big))])
    records = await stored(fake_repository, "acme")
    blobs, sink = SmallBlobs(limit=4096), Sink()
    republisher = Republisher(Outbox(records), sink, blobs=blobs)
    assert await republisher.flush() == 2

    small, large = (parse(body, subject=subject) for subject, body, _ in sink.wires)
    assert small.data.event == records[0]["event"]
    assert small.data.event_ref is None
    assert large.data.event is None
    ref = large.data.event_ref
    assert ref is not None
    assert len(sink.wires[1][1]) < 4096
    # The object is the event's JSON text: put back, the record hashes to its stored hash.
    text = blobs.objects[ref.sha256]
    assert ref.size == len(text)
    assert ref.sha256 == hashlib.sha256(text).hexdigest()
    data = large.data.model_dump(exclude={"event_ref"})
    data["event"] = json.loads(text)
    assert data == records[1]
    assert record_hash(data) == records[1]["hash"]


async def test_the_republisher_stops_when_cancelled_as_a_record_wakes_it() -> None:
    # Shutdown cancels the loop; a stored batch may wake it at that very moment. Python 3.11's
    # asyncio.wait_for lost such a cancellation and the loop ran on. Every phase is tried.
    for pause in range(6):
        republisher = Republisher(Outbox([]), Sink())
        task = asyncio.create_task(republisher.run(idle_s=60))
        for _ in range(pause):
            await asyncio.sleep(0)
        republisher.wake.set()
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=2)
        assert done == {task}, f"still running after a cancel at step {pause}"
        assert task.cancelled()
