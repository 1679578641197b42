"""Alembic migrations of the evaluation schema (run at start by ``SqlRunStore.open``)."""
