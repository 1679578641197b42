"""The caller's trace context of each call, so events rebuilt from the ledger keep it.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: calls stored before this revision have no trace context to give their events.
    op.add_column("cost_calls", sa.Column("traceparent", sa.String(55)))


def downgrade() -> None:
    with op.batch_alter_table("cost_calls") as batch:  # SQLite rebuilds the table
        batch.drop_column("traceparent")
