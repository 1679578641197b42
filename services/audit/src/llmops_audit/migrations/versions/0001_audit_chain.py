"""The append-only, hash-chained audit schema.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

PG_GUARD = """
CREATE FUNCTION llmops_audit_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_records'
     AND current_setting('llmops.audit_purge', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "audit_records",
        sa.Column("pk", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("event_subject", sa.String(256), nullable=False),
        sa.Column("source", sa.String(256), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True)),
        sa.Column("recorded_at", sa.String(27), nullable=False),
        sa.Column("trace_id", sa.String(32)),
        sa.Column("correlation_id", sa.String(128)),
        sa.Column("actor_user", sa.String(200)),
        sa.Column("actor_app", sa.String(200)),
        sa.Column("redaction_policy_version", sa.String(64)),
        sa.Column("event_json", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("tenant", "seq", name="uq_audit_records_tenant_seq"),
        sa.UniqueConstraint("tenant", "event_id", name="uq_audit_records_tenant_event"),
    )
    for column in ("time", "event_type", "trace_id", "correlation_id", "actor_user", "actor_app"):
        op.create_index(f"ix_audit_records_tenant_{column}", "audit_records", ["tenant", column])
    op.create_table(
        "audit_checkpoints",
        sa.Column("pk", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False, index=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(64), nullable=False),
    )
    op.create_table(
        "audit_outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("last_pk", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO audit_outbox (id, last_pk) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_GUARD)
        for table in ("audit_records", "audit_checkpoints"):
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION llmops_audit_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION llmops_audit_append_only()"
            )
    else:
        # SQLite has no session settings: a purge holds a row in this table for its transaction.
        op.create_table("audit_purge_permit", sa.Column("one", sa.Integer, primary_key=True))
        op.execute(
            "CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records "
            "BEGIN SELECT RAISE(ABORT, 'audit_records is append-only: UPDATE refused'); END"
        )
        op.execute(
            "CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records "
            "WHEN NOT EXISTS (SELECT 1 FROM audit_purge_permit) "
            "BEGIN SELECT RAISE(ABORT, 'audit_records is append-only: DELETE refused'); END"
        )
        for op_name in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_checkpoints_no_{op_name.lower()} BEFORE {op_name} "
                f"ON audit_checkpoints BEGIN SELECT RAISE(ABORT, "
                f"'audit_checkpoints is append-only: {op_name} refused'); END"
            )


def downgrade() -> None:
    raise NotImplementedError("the audit trail is never downgraded")
