"""Alembic environment: runs on the connection the service hands over (async engines included).

The version table is ``costs_alembic_version``: the services may share one PostgreSQL database
(docker compose does), and each keeps its own schema revision.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through llmops_costs.store.migrate
    raise RuntimeError("run migrations through llmops_costs.store.migrate()")
context.configure(
    connection=connection,
    target_metadata=None,
    transaction_per_migration=True,
    version_table="costs_alembic_version",
)
with context.begin_transaction():
    context.run_migrations()
