"""pages.ocr: what OCR made of a page (confidence, languages, resolution, word boxes); also
joins the earlier branches into one line

Revision ID: 0007_page_ocr
Revises: 0002, 0003_checkpoints, 0003_retrieval, 0005_batches, 0006_line
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007_page_ocr"
down_revision: tuple[str, ...] = (
    "0002", "0003_checkpoints", "0003_retrieval", "0005_batches", "0006_line")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("pages") as batch:
        batch.add_column(sa.Column("ocr", JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pages") as batch:
        batch.drop_column("ocr")
