"""Alembic migrations of the ingestion schema (run at start by ``SqlDocumentStore.open``)."""
