"""A purge checkpoint unlocks deletes only while the record it anchors on is still stored.

Revision 0002 let a DELETE on ``audit_records`` through when any purge checkpoint of the tenant
had a ``seq`` at or above the record's. The guard cannot check an Ed25519 signature, so a plain
``INSERT`` of a purge row with ``seq = 9e18`` unlocked the whole chain, blind. Now the purge
checkpoint must also name a stored record exactly: a record of the tenant at its ``seq`` with its
``hash``. A purge deletes that record last (in a statement of its own: the order in which one
statement's rows are deleted is not defined), after which its checkpoint unlocks nothing.

Still detection, not prevention: whoever can read a record and insert a row can name it and
delete up to it. What they cannot do is sign that row, so ``verify`` reports it (a purge anchor
signed by no known key) and the append-only checkpoint table keeps it for good.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

#: The purge checkpoints of OLD's tenant at or above OLD's seq that name a stored record.
_ANCHORED = """
  SELECT 1 FROM audit_checkpoints c
  WHERE c.tenant = OLD.tenant AND c.kind = 'purge' AND c.seq >= OLD.seq
    AND EXISTS (
      SELECT 1 FROM audit_records r
      WHERE r.tenant = c.tenant AND r.seq = c.seq AND r.hash = c.hash)
"""

PG_GUARD = f"""
CREATE OR REPLACE FUNCTION llmops_audit_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_records' AND EXISTS ({_ANCHORED}) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END
$$ LANGUAGE plpgsql
"""

SQLITE_RECORDS_DELETE = f"""
CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
WHEN NOT EXISTS ({_ANCHORED})
BEGIN SELECT RAISE(ABORT, 'audit_records is append-only: DELETE refused'); END
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_GUARD)  # every table's trigger calls this one function
        return
    op.execute("DROP TRIGGER audit_records_no_delete")
    op.execute(SQLITE_RECORDS_DELETE)


def downgrade() -> None:
    raise NotImplementedError("the audit trail is never downgraded")
