"""Unit tests of signed, published checkpoints (llmops_audit.checkpoints) with in-memory fakes.

The sealer signs only what it verified from the newest published checkpoint (or chained itself
from a verified head), publishes every checkpoint, and ``verify`` holds the database to the
newest published one. The fakes stand in for the database and the AUDIT stream; the same
scenarios run through a real nats-server and SQL in ``tests/reliability/test_audit_truncation.py``.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest

from llmops_audit.chain import Head
from llmops_audit.checkpoints import Sealer, Signer, key_ring
from llmops_audit.service import AuditService
from llmops_contracts.auditchain import ChainBreak, key_id_for, record_hash
from llmops_shared.clock import FixedClock
from tests.services.audit.conftest import SIGNER, FakeAuditRepository, FakeLedger
from tests.services.audit.test_audit_service import T0, arriving, call, signed, stored


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def service(fake_repository: Any, clock: FixedClock, fake_ledger: FakeLedger) -> AuditService:
    return signed(fake_repository, clock, fake_ledger)


def restarted(
    repo: FakeAuditRepository,
    clock: FixedClock,
    ledger: FakeLedger,
    breaks: list[tuple[str, ChainBreak]] | None = None,
    signer: Signer = SIGNER,
) -> AuditService:
    """A fresh process over the same database and stream: it trusts nothing yet."""
    sealer = Sealer(
        repo,
        signer,
        ledger,
        clock=clock,
        on_break=lambda tenant, problem: (breaks if breaks is not None else []).append(
            (tenant, problem)
        ),
    )
    return AuditService(sealer.watch(repo), checkpointer=sealer, clock=clock)


async def recorded(service: AuditService, tenant: str, n: int) -> None:
    await service.record([arriving(call(tenant)) for _ in range(n)])


def first(report: Any) -> tuple[int, str]:
    assert report.first_break is not None, "verify found nothing"
    return report.first_break.seq, report.first_break.kind


def rechain(
    repo: FakeAuditRepository, tenant: str, first_seq: int, last_seq: int | None = None
) -> None:
    """Change the record at ``first_seq`` and re-hash it and the records after it up to
    ``last_seq``: to the head (None), a consistent forgery; short of it, the record after them
    still links to the old hash."""
    prev = None
    for row in sorted((r for r in repo.rows if r.tenant == tenant), key=lambda r: r.seq):
        record = row.record
        if row.seq == first_seq:
            record["event"]["data"]["request_model"] = "forged"
        if first_seq <= row.seq and (last_seq is None or row.seq <= last_seq):
            record["prev_hash"] = prev if prev is not None else record["prev_hash"]
            record["hash"] = record_hash(record)
        prev = record["hash"]


# --- keys ------------------------------------------------------------------------------------


def test_a_signing_key_reads_from_pem_hex_or_base64_and_its_id_is_derived() -> None:
    seed = bytes(range(32))
    from_hex = Signer.from_text(seed.hex())
    assert Signer.from_text(base64.b64encode(seed).decode()).public_key == from_hex.public_key
    assert Signer.from_text(from_hex.pem().decode()).public_key == from_hex.public_key
    assert from_hex.key_id == key_id_for(from_hex.public_key)
    assert from_hex.key_id.startswith("ed25519-")
    assert Signer.generate().key_id != from_hex.key_id


@pytest.mark.parametrize("text", ["", "k", "00" * 31, "zz" * 32, "-----BEGIN PRIVATE KEY-----\n"])
def test_anything_else_is_not_a_signing_key(text: str) -> None:
    with pytest.raises(ValueError, match=r"signing key|PEM"):
        Signer.from_text(text)


async def test_the_public_key_and_every_checkpoint_are_published(
    fake_repository: FakeAuditRepository, clock: FixedClock, fake_ledger: FakeLedger
) -> None:
    service = signed(fake_repository, clock, fake_ledger)
    await service.checkpointer.start()
    assert fake_ledger.keys[SIGNER.key_id]["public_key"] == SIGNER.public_key.hex()
    await recorded(service, "acme", 3)
    assert await service.checkpoint_heads() == 1
    clock.advance(days=2)
    await recorded(service, "acme", 2)
    clock.advance(minutes=1)
    purged, purge = await service.purge("acme", clock.now())
    assert purged == 5
    assert await fake_repository.checkpoints("acme") == fake_ledger.published
    # The purge checkpoint is published, then the head is signed again at once: the newest
    # published checkpoint still holds the whole chain.
    assert [(c["kind"], c["seq"]) for c in fake_ledger.published] == [
        ("periodic", 3),
        ("purge", 5),
        ("periodic", 5),
    ]
    assert purge == fake_ledger.published[1]
    assert all(key_ring([SIGNER.public_key]).valid(c) for c in fake_ledger.published)


# --- verify holds the database to the newest published checkpoint ------------------------------


async def test_a_cut_tail_is_named_from_its_first_missing_seq(
    service: AuditService, fake_repository: FakeAuditRepository, fake_ledger: FakeLedger
) -> None:
    await recorded(service, "acme", 10)
    await service.checkpoint_heads()
    fake_repository.rows = [r for r in fake_repository.rows if r.seq <= 7]
    fake_repository.saved_checkpoints.clear()  # and every stored checkpoint with them
    report = await service.verify("acme", all_breaks=True)
    assert first(report) == (8, "missing")
    assert "records 8..10 are gone" in report.breaks[0].detail
    assert (report.breaks[1].seq, report.breaks[1].kind) == (10, "checkpoint")
    assert "not in the database" in report.breaks[1].detail
    assert report.published == fake_ledger.published[-1]


async def test_a_deleted_checkpoint_row_is_a_break_at_its_seq(
    service: AuditService, fake_repository: FakeAuditRepository
) -> None:
    await recorded(service, "acme", 5)
    await service.checkpoint_heads()
    assert (await service.verify("acme")).ok
    fake_repository.saved_checkpoints.clear()
    assert first(await service.verify("acme")) == (5, "checkpoint")


async def test_a_rechained_trail_disagrees_with_the_published_checkpoint(
    service: AuditService, fake_repository: FakeAuditRepository
) -> None:
    await recorded(service, "acme", 6)
    await service.checkpoint_heads()
    rechain(fake_repository, "acme", 3)
    # The stored checkpoints re-signed by a key that is not the service's (a stolen old key,
    # a guessed one): their signatures fail, and the published one still signs the real head.
    forger = Signer.generate()
    fake_repository.saved_checkpoints = [
        forger.sign("acme", Head(6, fake_repository.rows[-1].record["hash"]), "periodic", c_time)
        for c_time in [service.clock.now()]
    ]
    report = await service.verify("acme", all_breaks=True)
    found = {(b.seq, b.kind) for b in report.breaks}
    assert (6, "checkpoint") in found
    assert any("unknown key" in b.detail for b in report.breaks)
    assert any("not in the database" in b.detail for b in report.breaks)


# --- the highest signed seq, not the newest message ----------------------------------------------


async def sealed_twice(
    service: AuditService, ledger: FakeLedger, first_seq: int, then_seq: int
) -> dict[str, Any]:
    """Records up to ``first_seq`` sealed, then up to ``then_seq``; the first checkpoint."""
    await recorded(service, "acme", first_seq)
    assert await service.checkpoint_heads() == 1
    first_checkpoint = dict(ledger.published[-1])
    await recorded(service, "acme", then_seq - first_seq)
    assert await service.checkpoint_heads() == 1
    return first_checkpoint


@pytest.mark.parametrize("fresh", [False, True], ids=["running", "restarted"])
async def test_a_republished_old_checkpoint_does_not_hide_a_cut_tail(
    fake_repository: FakeAuditRepository, clock: FixedClock, fake_ledger: FakeLedger, fresh: bool
) -> None:
    """Whoever holds the database and may publish on the checkpoint subject cuts the tail,
    deletes its checkpoint rows, and republishes an old signed checkpoint as the newest."""
    service = signed(fake_repository, clock, fake_ledger)
    old = await sealed_twice(service, fake_ledger, 5, 10)
    assert (await service.verify("acme")).ok  # read the ledger once before the replay
    fake_repository.rows = [r for r in fake_repository.rows if r.seq <= 5]
    fake_repository.saved_checkpoints = [
        c for c in fake_repository.saved_checkpoints if c["seq"] <= 5
    ]
    fake_ledger.inject("acme", old)
    assert (await fake_ledger.checkpoints("acme"))[0][-1]["seq"] == 5  # the newest message
    breaks: list[tuple[str, ChainBreak]] = []
    if fresh:
        service = restarted(fake_repository, clock, fake_ledger, breaks)
    report = await service.verify("acme", all_breaks=True)
    assert first(report) == (6, "missing")
    assert "records 6..10 are gone" in report.breaks[0].detail
    assert report.published is not None
    assert report.published["seq"] == 10
    assert await service.checkpoint_heads() == 0
    assert service.checkpointer.broken["acme"].kind == "missing"


async def test_checkpoints_published_out_of_order_hold_the_chain_to_the_highest(
    fake_repository: FakeAuditRepository, clock: FixedClock, fake_ledger: FakeLedger
) -> None:
    """Two replicas sealing the same chain can publish in either order: no break in that."""
    service = signed(fake_repository, clock, fake_ledger)
    lower = await sealed_twice(service, fake_ledger, 8, 10)
    fake_ledger.inject("acme", lower)  # the slower replica's checkpoint of seq 8, published late
    report = await service.verify("acme")
    assert report.ok, report.breaks
    assert report.published is not None
    assert report.published["seq"] == 10
    breaks: list[tuple[str, ChainBreak]] = []
    again = restarted(fake_repository, clock, fake_ledger, breaks)
    await recorded(again, "acme", 1)
    assert await again.checkpoint_heads() == 1  # verified from seq 10, seq 11 signed
    assert breaks == []
    assert (await again.verify("acme")).ok


async def test_a_forged_checkpoint_with_a_higher_seq_is_reported_and_not_held_to(
    service: AuditService, fake_repository: FakeAuditRepository, fake_ledger: FakeLedger
) -> None:
    await recorded(service, "acme", 4)
    await service.checkpoint_heads()
    forged = Signer.generate().sign("acme", Head(99, "f" * 64), "periodic", service.clock.now())
    fake_ledger.inject("acme", forged)
    report = await service.verify("acme", all_breaks=True)
    assert [(b.seq, b.kind) for b in report.breaks] == [(99, "checkpoint")]
    assert "unknown key" in report.breaks[0].detail
    assert report.published is not None
    assert report.published["seq"] == 4  # the signed one


# --- sealing: verify before signing ------------------------------------------------------------


async def test_a_restart_after_a_cut_tail_signs_nothing_for_that_tenant(
    fake_repository: FakeAuditRepository, clock: FixedClock, fake_ledger: FakeLedger
) -> None:
    first_run = signed(fake_repository, clock, fake_ledger)
    await recorded(first_run, "acme", 10)
    await recorded(first_run, "beta", 2)
    assert await first_run.checkpoint_heads() == 2
    fake_repository.rows = [r for r in fake_repository.rows if r.tenant != "acme" or r.seq <= 7]
    breaks: list[tuple[str, ChainBreak]] = []
    second = restarted(fake_repository, clock, fake_ledger, breaks)
    await recorded(second, "beta", 1)
    clock.advance(minutes=1)
    assert await second.checkpoint_heads() == 1  # beta only
    assert [(t, b.seq, b.kind) for t, b in breaks] == [("acme", 8, "missing")]
    assert "records 8..10 are gone" in breaks[0][1].detail
    await recorded(second, "acme", 2)  # recording goes on: seq 8 and 9 again, chained on 7
    assert await second.checkpoint_heads() == 0  # reported once, never signed
    assert len(breaks) == 1
    assert [(c["tenant"], c["seq"]) for c in fake_ledger.published] == [
        ("acme", 10),
        ("beta", 2),
        ("beta", 3),
    ]
    assert first(await second.verify("acme")) == (10, "missing")  # seq 10 is gone for good
    with pytest.raises(RuntimeError, match="broken"):
        await second.purge("acme", clock.now())


async def test_a_tenant_whose_records_are_all_gone_is_reported_from_the_stream(
    fake_repository: FakeAuditRepository, clock: FixedClock, fake_ledger: FakeLedger
) -> None:
    first_run = signed(fake_repository, clock, fake_ledger)
    await recorded(first_run, "acme", 3)
    await first_run.checkpoint_heads()
    fake_repository.rows.clear()
    fake_repository.saved_checkpoints.clear()
    breaks: list[tuple[str, ChainBreak]] = []
    assert await restarted(fake_repository, clock, fake_ledger, breaks).checkpoint_heads() == 0
    assert [(t, b.seq, b.kind) for t, b in breaks] == [("acme", 1, "missing")]


async def test_a_restart_after_a_rechain_signs_nothing(
    fake_repository: FakeAuditRepository, clock: FixedClock, fake_ledger: FakeLedger
) -> None:
    first_run = signed(fake_repository, clock, fake_ledger)
    await recorded(first_run, "acme", 6)
    await first_run.checkpoint_heads()
    rechain(fake_repository, "acme", 2)
    breaks: list[tuple[str, ChainBreak]] = []
    assert await restarted(fake_repository, clock, fake_ledger, breaks).checkpoint_heads() == 0
    assert [(b.seq, b.kind) for _, b in breaks] == [(6, "checkpoint")]


async def test_a_restart_verifies_records_written_after_the_last_checkpoint(
    fake_repository: FakeAuditRepository, clock: FixedClock, fake_ledger: FakeLedger
) -> None:
    first_run = signed(fake_repository, clock, fake_ledger)
    await recorded(first_run, "acme", 4)
    await first_run.checkpoint_heads()
    await recorded(first_run, "acme", 4)  # not yet signed when the process stops
    fake_repository.rows[5].record["event"]["data"]["latency_ms"] = 0.5  # seq 6, not re-hashed
    breaks: list[tuple[str, ChainBreak]] = []
    assert await restarted(fake_repository, clock, fake_ledger, breaks).checkpoint_heads() == 0
    assert [(b.seq, b.kind) for _, b in breaks] == [(6, "modified")]
    fake_repository.rows[5].record["event"]["data"]["latency_ms"] = 12.5  # put back
    clean = restarted(fake_repository, clock, fake_ledger)
    assert await clean.checkpoint_heads() == 1
    assert fake_ledger.published[-1]["seq"] == 8


async def test_a_head_rechained_under_a_running_service_is_not_signed(
    service: AuditService, fake_repository: FakeAuditRepository
) -> None:
    await recorded(service, "acme", 5)
    await service.checkpoint_heads()
    rechain(fake_repository, "acme", 4)
    assert await service.checkpoint_heads() == 0
    assert service.checkpointer.broken["acme"].kind == "checkpoint"


async def test_a_published_checkpoint_with_a_foreign_signature_stops_signing(
    fake_repository: FakeAuditRepository, clock: FixedClock, fake_ledger: FakeLedger
) -> None:
    first_run = signed(fake_repository, clock, fake_ledger)
    await recorded(first_run, "acme", 3)
    head = (await stored(fake_repository, "acme"))[-1]
    fake_ledger.inject(
        "acme", Signer.generate().sign("acme", Head(3, head["hash"]), "periodic", clock.now())
    )
    breaks: list[tuple[str, ChainBreak]] = []
    second = restarted(fake_repository, clock, fake_ledger, breaks)
    assert await second.checkpoint_heads() == 0
    assert [(b.seq, b.kind) for _, b in breaks] == [(3, "checkpoint")]
    assert "unknown key" in breaks[0][1].detail
    assert first(await second.verify("acme")) == (3, "checkpoint")


async def test_checkpoints_of_a_previous_key_still_verify_once_published(
    fake_repository: FakeAuditRepository, clock: FixedClock, fake_ledger: FakeLedger
) -> None:
    old = signed(fake_repository, clock, fake_ledger)
    await old.checkpointer.start()
    await recorded(old, "acme", 3)
    await old.checkpoint_heads()
    rotated = restarted(fake_repository, clock, fake_ledger, signer=Signer.generate())
    await rotated.checkpointer.start()  # publishes the new key, trusts the published ones
    await recorded(rotated, "acme", 2)
    assert await rotated.checkpoint_heads() == 1
    assert {c["key_id"] for c in fake_ledger.published} == set(fake_ledger.keys)
    assert (await rotated.verify("acme")).ok


async def test_records_this_process_chained_are_not_read_back_to_be_signed(
    fake_repository: FakeAuditRepository, clock: FixedClock, fake_ledger: FakeLedger
) -> None:
    service = signed(fake_repository, clock, fake_ledger)
    reads: list[int] = []
    records = fake_repository.records

    def counting(tenant: str, after_seq: int = 0, **options: Any) -> Any:
        reads.append(after_seq)
        return records(tenant, after_seq, **options)

    fake_repository.records = counting  # type: ignore[method-assign]
    await recorded(service, "acme", 5)
    assert await service.checkpoint_heads() == 1
    assert reads == [0]  # the first round verifies what it did not see chained
    for _ in range(3):
        await recorded(service, "acme", 50)
        assert await service.checkpoint_heads() == 1
    assert reads == [0]
    assert fake_ledger.published[-1]["seq"] == 155
    assert (await service.verify("acme")).ok


async def test_a_restart_does_not_sign_a_head_already_published_and_heals_no_deletion(
    fake_repository: FakeAuditRepository, clock: FixedClock, fake_ledger: FakeLedger
) -> None:
    first_run = signed(fake_repository, clock, fake_ledger)
    await recorded(first_run, "acme", 4)
    await first_run.checkpoint_heads()
    fake_repository.saved_checkpoints.clear()
    clock.advance(minutes=5)
    second = restarted(fake_repository, clock, fake_ledger)
    assert await second.checkpoint_heads() == 0  # verified, and already signed: nothing new
    assert len(fake_ledger.published) == 1
    assert first(await second.verify("acme")) == (4, "checkpoint")  # the deletion still shows


# --- purging: verify before signing the anchor --------------------------------------------------


async def old_and_new(service: AuditService, clock: FixedClock) -> None:
    """Records 1..5 recorded a day before 6..10, all sealed: a purge of the day stops at 5."""
    await recorded(service, "acme", 5)
    clock.advance(days=1)
    await recorded(service, "acme", 5)
    assert await service.checkpoint_heads() == 1


@pytest.mark.parametrize(
    "rewrite",
    [
        pytest.param(lambda repo: rechain(repo, "acme", 3), id="rechained-to-the-head"),
        pytest.param(lambda repo: rechain(repo, "acme", 3, 5), id="rechained-to-the-cut"),
        pytest.param(lambda repo: rechain(repo, "acme", 5, 5), id="anchor-rewritten"),
    ],
)
@pytest.mark.parametrize("fresh", [False, True], ids=["running", "restarted"])
async def test_a_purge_does_not_sign_a_chain_rewritten_since_it_was_sealed(
    fake_repository: FakeAuditRepository,
    clock: FixedClock,
    fake_ledger: FakeLedger,
    rewrite: Any,
    fresh: bool,
) -> None:
    """The purge anchor names the record it stops at; signing a rewritten one would launder the
    rewrite: the records it vouches for are deleted, and what remains verifies."""
    service = signed(fake_repository, clock, fake_ledger)
    await old_and_new(service, clock)
    published = list(fake_ledger.published)
    rewrite(fake_repository)
    breaks: list[tuple[str, ChainBreak]] = []
    if fresh:
        service = restarted(fake_repository, clock, fake_ledger, breaks)
    with pytest.raises(RuntimeError, match="broken at seq"):
        await service.purge("acme", clock.now() - timedelta(hours=1))
    assert len(fake_repository.rows) == 10  # nothing deleted
    assert fake_ledger.published == published  # nothing signed
    assert all(c["kind"] == "periodic" for c in fake_repository.saved_checkpoints)
    assert "acme" in service.checkpointer.broken
    assert [t for t, _ in breaks] == (["acme"] if fresh else [])
    assert not (await service.verify("acme")).ok
    with pytest.raises(RuntimeError, match="broken"):
        await service.purge("acme", clock.now() - timedelta(hours=1))


@pytest.mark.parametrize("fresh", [False, True], ids=["running", "restarted"])
async def test_a_purge_of_an_intact_chain_signs_the_record_it_stops_at(
    fake_repository: FakeAuditRepository, clock: FixedClock, fake_ledger: FakeLedger, fresh: bool
) -> None:
    service = signed(fake_repository, clock, fake_ledger)
    await old_and_new(service, clock)
    await recorded(service, "acme", 2)  # not sealed yet: verified from the trusted head
    if fresh:
        service = restarted(fake_repository, clock, fake_ledger)
    fifth = (await stored(fake_repository, "acme"))[4]
    purged, checkpoint = await service.purge("acme", clock.now() - timedelta(hours=1))
    assert purged == 5
    assert checkpoint is not None
    assert (checkpoint["seq"], checkpoint["hash"]) == (5, fifth["hash"])
    assert (await service.verify("acme")).ok


@pytest.mark.parametrize(
    ("published", "why"),
    [
        ({"tenant": "acme"}, "malformed"),
        ({**SIGNER.sign("beta", Head(3, "a" * 64), "periodic", T0)}, "not a checkpoint of this"),
    ],
)
async def test_a_published_message_that_is_no_checkpoint_of_the_chain_stops_signing(
    fake_repository: FakeAuditRepository,
    clock: FixedClock,
    fake_ledger: FakeLedger,
    published: dict[str, Any],
    why: str,
) -> None:
    """Even one the service's key signed: another tenant's checkpoint on this tenant's subject."""
    await recorded(signed(fake_repository, clock, fake_ledger), "acme", 3)
    fake_ledger.inject("acme", published)
    breaks: list[tuple[str, ChainBreak]] = []
    second = restarted(fake_repository, clock, fake_ledger, breaks)
    assert await second.checkpoint_heads() == 0
    assert why in breaks[0][1].detail
    report = await second.verify("acme")
    assert [(b.kind, why in b.detail) for b in report.breaks] == [("checkpoint", True)]
