"""The audit service: events/s persisted and chained, against a raw fetch+ack+executemany baseline.

For each backend (a SQLite file, and PostgreSQL when reachable) the same N realistic LLM-call
events are published to a fresh nats-server, then consumed from the start three times, each into a
freshly migrated ``audit_records`` table:

- **raw**: a nats-py pull consumer, ``fetch(batch)``, one driver-level ``executemany`` of the
  same INSERT the service runs (plain tuples through ``exec_driver_sql``, the time converted by
  the column's own bind processor) per batch in one transaction, then an ack per message.
  Columns are filled
  from the NATS subject and headers (no JSON parsing, no hashing: hashes are constants), so it is
  the cost of moving the bytes from the stream into the same table with the same indexes.
- **audit service**: the real service (``create_app``) in this process, as deployed: FastStream
  batched pull, admission, redaction, canonical JSON, SHA-256 chaining, the insert, the acks,
  and the republisher copying every stored record to the AUDIT stream at the same time (same
  process, same CPU). Its row under it says when the AUDIT stream held all N.
- **audit capture alone**: the same with the republisher held back until all N are stored (what
  the capture path costs by itself), then the republisher alone catching up.

Rates run from the first stored batch until the table holds N rows (polled with a cheap
``max(pk)``); ``cpu µs/event`` is this process's CPU time (all threads) over the same window.
The input, N events published pipelined, is timed too, for scale.

Environment: ``LLMOPS_BENCH_AUDIT_N`` (default 50,000), ``LLMOPS_BENCH_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``; a fresh database per run is created and dropped),
``LLMOPS_AUDIT_BATCH_SIZE`` (the service's setting, used by the raw baseline too).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench._harness import console, nats_server, report
from llmops_audit.app import create_app
from llmops_audit.config import AuditSettings
from llmops_audit.service import AuditService
from llmops_audit.store import INSERT_COLUMNS, SqlAuditRepository, records
from llmops_contracts import headers, subjects, wrap
from llmops_contracts.auditchain import GENESIS_HASH, timestamp
from llmops_contracts.common import Actor, PromptRef
from llmops_contracts.llm import LlmCallCompleted, Usage
from llmops_shared.logging import configure_logging
from llmops_shared.settings import ServiceSettings
from llmops_shared.streams import ensure_streams

N = int(os.environ.get("LLMOPS_BENCH_AUDIT_N", "50000"))
POSTGRES_URL = os.environ.get(
    "LLMOPS_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
TENANTS = ("acme", "globex", "initech")
#: The service's batch size (its default, or LLMOPS_AUDIT_BATCH_SIZE); the raw baseline uses it too.
BATCH = int(
    os.environ.get("LLMOPS_AUDIT_BATCH_SIZE", AuditSettings.model_fields["batch_size"].default)
)
DEADLINE_S = 600.0
POLL_S = 0.05  # a max(pk) query: cheap, but it runs in the measured process


def _events(n: int) -> list[tuple[str, bytes, dict[str, str]]]:
    """N LLM-call events as an SDK would send them (subject, body, headers), over 3 tenants."""
    out = []
    for i in range(n):
        call = LlmCallCompleted(
            provider="openai",
            request_model="gpt-4o-mini",
            response_model="gpt-4o-mini-2024-07-18",
            latency_ms=412.5 + i % 300,
            time_to_first_token_ms=95.25,
            usage=Usage(
                input_tokens=1200 + i % 700, output_tokens=180 + i % 90, cache_read_input_tokens=512
            ),
            raw_usage={"prompt_tokens": 1200 + i % 700, "completion_tokens": 180 + i % 90},
            finish_reasons=["stop"],
            prompt=PromptRef(name="support-answer", version="7", label="production"),
            actor=Actor(app="support-bot", user=f"user-{i % 997}", session=f"s-{i % 5003}"),
            service_tier="default",
        )
        event = wrap(
            call,
            tenant=TENANTS[i % len(TENANTS)],
            source="app://support-bot",
            correlation_id=f"req-{i // 3}",
            traceparent=f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01",
        )
        out.append(headers.wire(event))
    return out


async def _publish(url: str, events: list[tuple[str, bytes, dict[str, str]]]) -> float:
    """Publish pipelined into EVENTS (streams declared as a service would); returns seconds."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    await ensure_streams(js, ServiceSettings(nats_url=url))
    start = time.perf_counter()
    for i in range(0, len(events), 2000):
        futures = [await js.publish_async(s, b, headers=h) for s, b, h in events[i : i + 2000]]
        await asyncio.gather(*futures)
    elapsed = time.perf_counter() - start
    await nc.close()
    return elapsed


async def _raw(url: str, db_url: str, n: int) -> dict[str, float]:
    """The baseline: fetch + executemany + ack into a fresh table; events/s and CPU µs/event."""
    repo = SqlAuditRepository(db_url)
    await repo.open()  # migrated: the same table, constraints and indexes as the service's
    nc = await nats.connect(url)
    js = nc.jetstream()
    durable = f"raw-{uuid.uuid4().hex[:8]}"
    sub = await js.pull_subscribe(
        subjects.EVENTS_ALL,
        durable=durable,
        stream=subjects.EVENTS_STREAM,
        config=ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            max_ack_pending=max(1000, BATCH * 4),
        ),
    )
    # The service's batch INSERT (same table, columns and statement), bound as plain tuples.
    dialect = repo.engine.dialect
    marks = [
        f"${i + 1}" if dialect.paramstyle == "numeric_dollar" else "?"
        for i in range(len(INSERT_COLUMNS))
    ]
    columns = ", ".join(f'"{c}"' for c in INSERT_COLUMNS)
    sql = f"INSERT INTO audit_records ({columns}) VALUES ({', '.join(marks)})"
    bind_time = records.c.time.type.dialect_impl(dialect).bind_processor(dialect) or (lambda v: v)
    seqs: dict[str, int] = defaultdict(int)
    stored = 0
    start, cpu = time.perf_counter(), time.process_time()
    while stored < n:
        msgs = await sub.fetch(BATCH, timeout=5)
        now = datetime.now(UTC)  # clock-ok: the raw baseline stamps rows as a service would
        recorded_at = timestamp(now)
        rows = []
        for m in msgs:
            tenant = m.subject.rsplit(".", 1)[1]
            seqs[tenant] += 1
            hdrs = m.headers or {}
            traceparent = hdrs.get(headers.TRACEPARENT)
            rows.append(  # in INSERT_COLUMNS order: the record's columns, filters, event
                (
                    tenant,
                    seqs[tenant],
                    hdrs[headers.MSG_ID],
                    hdrs[headers.TYPE],
                    m.subject,
                    recorded_at,
                    None,
                    GENESIS_HASH,
                    GENESIS_HASH,
                    "app://support-bot",
                    bind_time(now),
                    traceparent.split("-")[1] if traceparent else None,
                    hdrs.get(headers.CORRELATION_ID),
                    None,
                    None,
                    m.data.decode(),
                )
            )
        async with repo.engine.begin() as conn:
            await conn.exec_driver_sql(sql, rows)
        for m in msgs:
            await m.ack()
        stored += len(msgs)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    await js.delete_consumer(subjects.EVENTS_STREAM, durable)
    await nc.close()
    assert await _max_pk(repo) == n, "raw baseline stored the wrong number of rows"
    await repo.close()
    return {"rate": stored / elapsed, "cpu_us": cpu / stored * 1e6}


async def _max_pk(repo: SqlAuditRepository) -> int:
    async with repo.engine.connect() as conn:
        return int((await conn.execute(select(func.max(records.c.pk)))).scalar() or 0)


class _Gate:
    """An outbox that holds the republisher back until opened (bench only).

    With it the capture path is measured alone, and then the republisher alone catching up.
    """

    def __init__(self, outbox: Any) -> None:
        self.outbox = outbox
        self.opened = asyncio.Event()

    async def unpublished(self, limit: int) -> list[tuple[int, dict[str, Any]]]:
        await self.opened.wait()
        return list(await self.outbox.unpublished(limit))

    async def mark_published(self, position: int) -> None:
        await self.outbox.mark_published(position)


async def _audit(url: str, db_url: str, n: int, *, hold_republisher: bool) -> dict[str, float]:
    """The real service consuming the stream from the start: rates, CPU, republishing."""
    settings = AuditSettings(
        nats_url=url,
        database_url=db_url,
        durable_prefix=f"bench-{uuid.uuid4().hex[:8]}",
        health_port=0,
        batch_size=BATCH,
        signing_key=SecretStr("11" * 32),
        checkpoint_interval_s=3600,
    )
    probe = SqlAuditRepository(db_url)
    await probe.open()  # migrate first, so the timed part is consumption only
    nc = await nats.connect(url)
    js = nc.jetstream()
    # An empty AUDIT stream (the service declares it again at start): a previous pass stored the
    # same message ids, which JetStream would drop as duplicates.
    with contextlib.suppress(NotFoundError):
        await js.delete_stream(subjects.AUDIT_STREAM)
    app = create_app(settings)
    gate = _Gate(app.republisher.outbox)  # type: ignore[attr-defined]
    if hold_republisher:
        app.republisher.outbox = gate  # type: ignore[attr-defined]
    else:
        gate.opened.set()
    launched, launched_cpu = time.perf_counter(), time.process_time()
    task = asyncio.create_task(app.run())
    first: tuple[float, int, float] | None = None
    stored: tuple[float, float] | None = None
    republished_at = None
    while republished_at is None:
        if task.done():
            task.result()
            raise RuntimeError("the audit service stopped")
        if time.perf_counter() > launched + DEADLINE_S:
            raise TimeoutError("the audit service did not store and republish every event")
        now = time.perf_counter()
        if stored is None:
            count = await _max_pk(probe)
            if first is None and count:
                # Timed from the first stored batch (start-up excluded), unless that one poll
                # already saw everything (a small N): then from the launch.
                first = (
                    (now, count, time.process_time()) if count < n else (launched, 0, launched_cpu)
                )
            if count >= n:
                stored = (time.perf_counter(), time.process_time())
                gate.opened.set()
        else:
            with contextlib.suppress(NotFoundError):  # not declared again yet
                info = await js.stream_info(subjects.AUDIT_STREAM)
                if info.state.messages >= n:
                    republished_at = time.perf_counter()
        await asyncio.sleep(POLL_S)
    assert first is not None
    assert stored is not None
    app.exit()
    await asyncio.wait_for(task, 60)
    await nc.close()

    total = sum([await probe.count(tenant) for tenant in TENANTS])
    if not hold_republisher:  # verify once per backend: every chain, with the service's verifier
        service = AuditService(probe)
        broken = [t for t in TENANTS if not (await service.verify(t)).ok]
        if broken:
            raise AssertionError(f"chains of {broken} do not verify")
    await probe.close()
    if total != n:
        raise AssertionError(f"audit stored {total} records, not {n}")
    (t0, c0, cpu0), (t1, cpu1) = first, stored
    return {
        "rate": (n - c0) / (t1 - t0),
        "cpu_us": (cpu1 - cpu0) / (n - c0) * 1e6,
        "end_to_end": n / (t1 - launched),
        "republish_s": republished_at - launched,
        "republish_lag_s": republished_at - t1,
    }


async def _postgres_admin() -> Any:
    """A connection to the bench PostgreSQL server, or None (with the reason printed)."""
    import asyncpg  # type: ignore[import-untyped]

    url = make_url(POSTGRES_URL).set(drivername="postgresql")
    try:
        return await asyncpg.connect(url.render_as_string(hide_password=False), timeout=3)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        console.print(f"[yellow]PostgreSQL skipped: {POSTGRES_URL} is not usable ({exc!r})[/]")
        return None


@contextlib.asynccontextmanager
async def _postgres_databases(conn: Any, count: int) -> AsyncIterator[list[str]]:
    """Fresh databases on the bench PostgreSQL server, dropped afterwards."""
    admin = make_url(POSTGRES_URL)
    names = [f"llmops_bench_audit_{uuid.uuid4().hex[:8]}" for _ in range(count)]
    try:
        for name in names:
            await conn.execute(f'CREATE DATABASE "{name}"')
        yield [
            admin.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
            for name in names
        ]
    finally:
        for name in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _rows(
    backend: str,
    n: int,
    raw: dict[str, float],
    audit: dict[str, float],
    alone: dict[str, float],
    pub_s: float,
) -> list[dict[str, Any]]:
    def row(
        pipeline: str, rate: float, cpu_us: float | None, ratio: float | None, note: str
    ) -> dict[str, Any]:
        return {
            "backend": backend,
            "pipeline": pipeline,
            "events/s": rate,
            "µs/event": 1e6 / rate,
            "cpu µs/event": cpu_us if cpu_us is not None else "",
            "vs raw": round(ratio, 3) if ratio is not None else "",
            "note": note,
        }

    return [
        row("raw: fetch + executemany + ack", raw["rate"], raw["cpu_us"], 1.0, f"batch {BATCH}"),
        row(
            "audit service",
            audit["rate"],
            audit["cpu_us"],
            audit["rate"] / raw["rate"],
            "as deployed: republisher concurrent",
        ),
        row(
            "  republisher → AUDIT",
            n / audit["republish_s"],
            None,
            None,
            f"all {n:,} on AUDIT {audit['republish_lag_s']:.2f} s after the last store",
        ),
        row(
            "audit capture alone",
            alone["rate"],
            alone["cpu_us"],
            alone["rate"] / raw["rate"],
            "republisher held back",
        ),
        row(
            "  republisher alone",
            n / alone["republish_lag_s"],
            None,
            None,
            "then catching up (reads back from the database)",
        ),
        row("publish_async → EVENTS", n / pub_s, None, None, "the input, pipelined"),
    ]


async def _backend(backend: str, urls: list[str], n: int) -> list[dict[str, Any]]:
    with nats_server() as url:
        # The events are not kept: N of them in this process would slow every pass's garbage
        # collection, which is the harness's cost, not the pipelines'.
        pub_s = await _publish(url, _events(n))
        raw = await _raw(url, urls[0], n)
        audit = await _audit(url, urls[1], n, hold_republisher=False)
        alone = await _audit(url, urls[2], n, hold_republisher=True)
    return _rows(backend, n, raw, audit, alone, pub_s)


async def _run(n: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="llmops-bench-audit-") as tmp:
        sqlite = [f"sqlite:///{Path(tmp) / name}.db" for name in ("raw", "audit", "alone")]
        rows += await _backend("sqlite", sqlite, n)
    admin = await _postgres_admin()
    if admin is not None:
        try:
            async with _postgres_databases(admin, 3) as pg:
                rows += await _backend("postgresql", pg, n)
        finally:
            await admin.close()
    return rows


def _targets(rows: list[dict[str, Any]]) -> list[str]:
    """The issue's targets against this run: >= 15,000/s on SQLite and >= 0.5 x raw."""
    notes = []
    for row in rows:
        if row["pipeline"] == "audit service":
            rate, ratio = row["events/s"], row["vs raw"]
            absolute = f"{'met' if rate >= 15_000 else 'NOT met'} (>= 15,000/s)"
            relative = f"{'met' if ratio >= 0.5 else 'NOT met'} (>= 0.5 x raw)"
            scope = absolute + ", " if row["backend"] == "sqlite" else ""
            notes.append(
                f"{row['backend']}: {rate:,.0f} events/s, {ratio} x raw: {scope}{relative}"
            )
    return notes


def main() -> None:
    """Run the audit benchmark."""
    configure_logging("audit", "WARNING")  # as `python -m llmops_audit` would, minus start-up lines
    rows = asyncio.run(_run(N))
    report(
        "audit",
        f"Audit: N={N:,} LLM-call events persisted and chained (vs raw = / raw, same run)",
        rows,
        notes=[f"targets {note}" for note in _targets(rows)],
    )


if __name__ == "__main__":
    main()
