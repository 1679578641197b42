"""Alembic migrations of the costs schema (run at start by ``SqlCostRepository.open``)."""
