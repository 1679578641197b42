"""Alembic environment: runs on the connection the service hands over (async engines included)."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through llmops_audit.store.migrate
    raise RuntimeError("run migrations through llmops_audit.store.migrate()")
context.configure(connection=connection, target_metadata=None, transaction_per_migration=True)
with context.begin_transaction():
    context.run_migrations()
