"""Completed eval runs, unique per tenant and run id.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Before the migrations, the store created this very table with ``metadata.create_all``:
    # such a database keeps its table (and its runs) and is stamped 0001.
    if sa.inspect(op.get_bind()).has_table("eval_runs"):
        return
    op.create_table(
        "eval_runs",
        sa.Column(
            "pk",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(128), nullable=False),
        sa.Column("command_id", sa.String(64), nullable=False),
        sa.Column("golden_set", sa.String(256), nullable=False),
        sa.Column("cases", sa.Integer, nullable=False),
        sa.Column("passed", sa.Integer, nullable=False),
        sa.Column("gate", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        # Run ids are chosen by callers, so two tenants may pick the same one.
        sa.UniqueConstraint("tenant", "run_id", name="uq_eval_runs_tenant_run"),
    )


def downgrade() -> None:
    op.drop_table("eval_runs")
