"""LINE bot: webhook events (unique per webhookEventId), users, conversation turns

Revision ID: 0006_line
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006_line"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "line_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("webhook_event_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("redelivery", sa.Boolean(), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.Enum("received", "done", "failed", name="line_event_status",
                                    native_enum=False, length=16), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("document_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_line_events_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_events")),
        sa.UniqueConstraint("webhook_event_id", name=op.f("uq_line_events_webhook_event_id")),
    )
    op.create_index("ix_line_events_user_type_created", "line_events",
                    ["tenant_id", "user_id", "event_type", "created_at"])
    op.create_table(
        "line_users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("following", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("followed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unfollowed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_line_users_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_users")),
        sa.UniqueConstraint("tenant_id", "user_id", name=op.f("uq_line_users_tenant_id_user_id")),
    )
    op.create_table(
        "line_turns",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("line_user_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["line_user_id"], ["line_users.id"],
                                name=op.f("fk_line_turns_line_user_id_line_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_turns")),
    )
    op.create_index("ix_line_turns_user_created", "line_turns", ["line_user_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_line_turns_user_created", table_name="line_turns")
    op.drop_table("line_turns")
    op.drop_table("line_users")
    op.drop_index("ix_line_events_user_type_created", table_name="line_events")
    op.drop_table("line_events")
