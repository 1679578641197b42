"""Alembic revisions of the guardrails service's local outbox (see docs/services.md)."""
