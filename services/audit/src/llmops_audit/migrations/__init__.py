"""Alembic migrations of the audit schema (run at start; ``python -m llmops_audit migrate``)."""
