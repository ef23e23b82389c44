"""batches: a tenant's documents analysed together, with per-item queue state

Revision ID: 0005_batches
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_batches"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.Enum("running", "done", "cancelled", name="batch_status",
                                    native_enum=False, length=32), nullable=False),
        sa.Column("callback_url", sa.Text(), nullable=True),
        sa.Column("callback_delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("callback_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                name=op.f("fk_batches_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
    )
    op.create_index(op.f("ix_batches_tenant_id"), "batches", ["tenant_id"])
    op.create_index(op.f("ix_batches_status"), "batches", ["status"])
    op.create_table(
        "batch_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], ondelete="CASCADE",
                                name=op.f("fk_batch_items_batch_id_batches")),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="CASCADE",
                                name=op.f("fk_batch_items_document_id_documents")),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], ondelete="SET NULL",
                                name=op.f("fk_batch_items_job_id_jobs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_items")),
        sa.UniqueConstraint("batch_id", "document_id",
                            name=op.f("uq_batch_items_batch_id_document_id")),
    )
    op.create_index(op.f("ix_batch_items_batch_id"), "batch_items", ["batch_id"])
    op.create_index(op.f("ix_batch_items_document_id"), "batch_items", ["document_id"])
    op.create_index(op.f("ix_batch_items_job_id"), "batch_items", ["job_id"])
    # the first batch a document arrived in; deleting the batch keeps the document
    with op.batch_alter_table("documents") as batch_op:
        batch_op.create_foreign_key("fk_documents_batch_id_batches", "batches", ["batch_id"],
                                    ["id"], ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch_op:
        batch_op.drop_constraint("fk_documents_batch_id_batches", type_="foreignkey")
    op.drop_table("batch_items")
    op.drop_table("batches")
