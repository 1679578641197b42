"""Adapters of the evaluation service: golden sets from JSONL files, completed runs in SQL."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from llmops_evaluation.service import CompletedRun, GoldenCase, RunRejected
from llmops_shared.db import SqlStore, UtcDateTime

# Names become file names: no path separators, no leading dot, so a command cannot read
# outside the golden-set directory.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")


class FileGoldenSets:
    """Golden sets as JSONL files: ``<name>.jsonl``, or ``<name>@<version>.jsonl`` when pinned.

    Each line is ``{"case_id": ..., "input": ..., "expected": "...", "output": "..."}``; blank
    lines are skipped, other keys are ignored.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def path(self, name: str, version: str | None = None) -> Path:
        """The file of a set and version.

        Raises:
            RunRejected: when the name or version cannot be a file name.
        """
        for label, value in (("golden set", name), ("golden set version", version)):
            if value is not None and not _NAME.match(value):
                raise RunRejected(f"{label} {value!r} is not a valid name")
        return self.directory / (f"{name}@{version}.jsonl" if version else f"{name}.jsonl")

    async def load(self, name: str, version: str | None = None) -> list[GoldenCase]:
        """The cases of a set, in file order; a missing, empty or malformed set is rejected."""
        path = self.path(name, version)
        try:
            text = await asyncio.to_thread(path.read_text, encoding="utf-8")
        except FileNotFoundError:
            pinned = f" version {version!r}" if version else ""
            raise RunRejected(f"golden set {name!r}{pinned} not found ({path})") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise RunRejected(f"golden set {name!r} unreadable: {exc}") from None
        cases = parse_cases(text, str(path))
        if not cases:
            raise RunRejected(f"golden set {name!r} has no cases ({path})")
        return cases


def parse_cases(text: str, origin: str = "golden set") -> list[GoldenCase]:
    """Parse JSONL golden cases.

    Raises:
        RunRejected: naming the first bad line; a partly broken set is not scored at all, so a
            gate never passes on a subset of its cases.
    """
    cases: list[GoldenCase] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{origin}:{number}"
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise RunRejected(f"{where}: not valid JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise RunRejected(f"{where}: not a JSON object")
        case_id = obj.get("case_id")
        if not isinstance(case_id, str | int) or isinstance(case_id, bool) or case_id == "":
            raise RunRejected(f"{where}: case_id must be a non-empty string or an integer")
        if "input" not in obj:
            raise RunRejected(f"{where}: input is missing")
        for key in ("expected", "output"):
            # output is required until the service calls the model under test itself.
            if not isinstance(obj.get(key), str):
                raise RunRejected(f"{where}: {key} must be a string")
        if str(case_id) in seen:
            raise RunRejected(f"{where}: duplicate case_id {case_id!r}")
        seen.add(str(case_id))
        cases.append(GoldenCase(str(case_id), obj["input"], obj["expected"], obj["output"]))
    return cases


#: Alembic's revision table of this service: the services may share one PostgreSQL database.
VERSION_TABLE = "evaluation_alembic_version"

#: The tables as the queries see them; ``migrations/`` creates them (a test holds the two equal).
metadata = MetaData()

runs = Table(
    "eval_runs",
    metadata,
    Column(
        "pk", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("tenant", String(64), nullable=False),
    Column("run_id", String(128), nullable=False),
    Column("command_id", String(64), nullable=False),
    Column("golden_set", String(256), nullable=False),
    Column("cases", Integer, nullable=False),
    Column("passed", Integer, nullable=False),
    Column("gate", String(16), nullable=False),
    Column("reason", Text),
    Column("completed_at", UtcDateTime(), nullable=False),
    # Run ids are chosen by callers, so two tenants may pick the same one.
    UniqueConstraint("tenant", "run_id", name="uq_eval_runs_tenant_run"),
)


class SqlRunStore(SqlStore):
    """Completed runs in SQL (SQLite file or PostgreSQL by URL), unique per tenant and run id.

    :meth:`open` migrates the schema (``migrations/``) to the latest revision.
    """

    metadata = metadata
    migrations = "llmops_evaluation"
    version_table = VERSION_TABLE

    async def is_completed(self, tenant: str, run_id: str) -> bool:
        """Whether the tenant's run id is stored."""
        query = select(runs.c.pk).where(runs.c.tenant == tenant, runs.c.run_id == run_id)
        async with self.engine.connect() as conn:
            return (await conn.execute(query)).first() is not None

    async def mark_completed(self, run: CompletedRun) -> None:
        """Store a completed run; a run already stored is left as it is."""
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        stmt = insert(runs).on_conflict_do_nothing(index_elements=["tenant", "run_id"])
        async with self.engine.begin() as conn:
            await conn.execute(
                stmt,
                {
                    "tenant": run.tenant,
                    "run_id": run.run_id,
                    "command_id": run.command_id,
                    "golden_set": run.golden_set,
                    "cases": run.cases,
                    "passed": run.passed,
                    "gate": run.gate,
                    "reason": run.reason,
                    "completed_at": run.completed_at,
                },
            )

    async def get(self, tenant: str, run_id: str) -> CompletedRun | None:
        """One stored run."""
        query = select(runs).where(runs.c.tenant == tenant, runs.c.run_id == run_id)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return CompletedRun(
            tenant=row.tenant,
            run_id=row.run_id,
            command_id=row.command_id,
            golden_set=row.golden_set,
            cases=row.cases,
            passed=row.passed,
            gate=row.gate,
            completed_at=row.completed_at,
            reason=row.reason,
        )
