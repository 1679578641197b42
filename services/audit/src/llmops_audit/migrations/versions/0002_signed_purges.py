"""Ed25519 checkpoints; records are deleted only behind a purge checkpoint, never by a permit.

Revision 0001 let a DELETE on ``audit_records`` through when a permit was set: a row in
``audit_purge_permit`` (SQLite) or ``SET LOCAL llmops.audit_purge`` (PostgreSQL), which anyone with
write access could set with a plain statement. Now the guard lets a record go only when a purge
checkpoint of its tenant covers its seq. The guard cannot check that checkpoint's signature, but
``verify`` does, and the checkpoint table is append-only: deleting records leaves a forged purge
checkpoint behind for good, a detected break.

Checkpoints were HMAC-signed with a key kept beside the database; they are Ed25519 now (a
128-digit signature). The project is pre-release, so the HMAC checkpoints are not read any more:
they move, unchanged and still append-only, to ``audit_checkpoints_hmac``, and a fresh
``audit_checkpoints`` starts empty. A trail purged under HMAC checkpoints has no anchor in the new
table, and ``verify`` reports its purged start as missing.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PG_GUARD = """
CREATE OR REPLACE FUNCTION llmops_audit_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_records' AND EXISTS (
       SELECT 1 FROM audit_checkpoints c
       WHERE c.tenant = OLD.tenant AND c.kind = 'purge' AND c.seq >= OLD.seq) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END
$$ LANGUAGE plpgsql
"""

SQLITE_RECORDS_DELETE = """
CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
WHEN NOT EXISTS (
  SELECT 1 FROM audit_checkpoints c
  WHERE c.tenant = OLD.tenant AND c.kind = 'purge' AND c.seq >= OLD.seq)
BEGIN SELECT RAISE(ABORT, 'audit_records is append-only: DELETE refused'); END
"""


def _checkpoints_table() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column("pk", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
    )
    # The guard looks up a tenant's purge checkpoints for every record a purge deletes.
    op.create_index(
        "ix_audit_checkpoints_tenant_kind_seq", "audit_checkpoints", ["tenant", "kind", "seq"]
    )


def _sqlite_guards(table: str) -> None:
    for op_name in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{op_name.lower()} BEFORE {op_name} "
            f"ON {table} BEGIN SELECT RAISE(ABORT, "
            f"'{table} is append-only: {op_name} refused'); END"
        )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_checkpoints RENAME TO audit_checkpoints_hmac")
        op.execute(
            "ALTER TABLE audit_checkpoints_hmac "
            "RENAME CONSTRAINT audit_checkpoints_pkey TO audit_checkpoints_hmac_pkey"
        )
        op.execute(
            "ALTER SEQUENCE audit_checkpoints_pk_seq RENAME TO audit_checkpoints_hmac_pk_seq"
        )
        op.execute(
            "ALTER INDEX ix_audit_checkpoints_tenant RENAME TO ix_audit_checkpoints_hmac_tenant"
        )
        _checkpoints_table()
        op.execute(PG_GUARD)  # the moved table keeps its triggers: it stays append-only
        op.execute(
            "CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE "
            "ON audit_checkpoints FOR EACH ROW EXECUTE FUNCTION llmops_audit_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints "
            "FOR EACH STATEMENT EXECUTE FUNCTION llmops_audit_append_only()"
        )
        return
    # SQLite: triggers and indexes follow a renamed table under their old names, so the old
    # ones go and the moved table gets its own.
    for name in ("audit_checkpoints_no_update", "audit_checkpoints_no_delete"):
        op.execute(f"DROP TRIGGER {name}")
    op.execute("DROP INDEX ix_audit_checkpoints_tenant")
    op.execute("ALTER TABLE audit_checkpoints RENAME TO audit_checkpoints_hmac")
    _sqlite_guards("audit_checkpoints_hmac")
    _checkpoints_table()
    _sqlite_guards("audit_checkpoints")
    op.execute("DROP TRIGGER audit_records_no_delete")
    op.execute(SQLITE_RECORDS_DELETE)
    op.execute("DROP TABLE audit_purge_permit")


def downgrade() -> None:
    raise NotImplementedError("the audit trail is never downgraded")
