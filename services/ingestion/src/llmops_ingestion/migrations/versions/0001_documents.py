"""Indexed documents: version, chunk ids, expiry and near-duplicate signature.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_BIGINT = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "ingestion_documents",
        sa.Column("pk", _BIGINT, primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("collection", sa.String(128), nullable=False),
        sa.Column("document_id", sa.String(256), nullable=False),
        sa.Column("version", sa.String(128)),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("attributes_sha256", sa.String(64), nullable=False),
        sa.Column("embedding_model", sa.String(256), nullable=False),
        sa.Column("command_id", sa.String(64), nullable=False),
        sa.Column("chunk_count", sa.Integer, nullable=False),
        sa.Column("chunk_ids", sa.Text, nullable=False),
        sa.Column("embedded", sa.Integer, nullable=False),
        sa.Column("unchanged", sa.Integer, nullable=False),
        sa.Column("removed", sa.Integer, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("simhash", sa.BigInteger, nullable=False),
        sa.Column("band0", sa.Integer, nullable=False),
        sa.Column("band1", sa.Integer, nullable=False),
        sa.Column("band2", sa.Integer, nullable=False),
        sa.Column("band3", sa.Integer, nullable=False),
        sa.UniqueConstraint(
            "tenant", "collection", "document_id", name="uq_ingestion_documents_key"
        ),
    )
    for band in range(4):
        op.create_index(
            f"ix_ingestion_documents_band{band}", "ingestion_documents", ["tenant", f"band{band}"]
        )
    op.create_index(
        "ix_ingestion_documents_expiry", "ingestion_documents", ["tenant", "expires_at"]
    )


def downgrade() -> None:
    op.drop_table("ingestion_documents")
