"""Alembic environment: the shared one (:func:`llmops_shared.db.run_migrations`)."""

from llmops_shared.db import run_migrations

run_migrations()
