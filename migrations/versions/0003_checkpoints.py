"""agent checkpoints: LangGraph's checkpoint tables, so a killed worker resumes a document's
analysis from its last step

Revision ID: 0003_checkpoints
Revises: 0001

On PostgreSQL this applies the Postgres saver's own schema migrations (imported from
langgraph-checkpoint-postgres, indexes built plainly instead of CONCURRENTLY since the tables
are new and a migration runs in a transaction) and records them as applied, so the saver never
needs to run its ``setup()``. On SQLite it creates the SQLite saver's two tables.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003_checkpoints"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRES_TABLES = ("checkpoint_writes", "checkpoint_blobs", "checkpoints", "checkpoint_migrations")
SQLITE_TABLES = ("writes", "checkpoints")
SQLITE_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS checkpoints (
        thread_id TEXT NOT NULL,
        checkpoint_ns TEXT NOT NULL DEFAULT '',
        checkpoint_id TEXT NOT NULL,
        parent_checkpoint_id TEXT,
        type TEXT,
        checkpoint BLOB,
        metadata BLOB,
        PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id))""",
    """CREATE TABLE IF NOT EXISTS writes (
        thread_id TEXT NOT NULL,
        checkpoint_ns TEXT NOT NULL DEFAULT '',
        checkpoint_id TEXT NOT NULL,
        task_id TEXT NOT NULL,
        task_path TEXT NOT NULL DEFAULT '',
        idx INTEGER NOT NULL,
        channel TEXT NOT NULL,
        type TEXT,
        value BLOB,
        PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx))""",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        from langgraph.checkpoint.postgres.base import MIGRATIONS

        for version, statement in enumerate(MIGRATIONS):
            op.execute(statement.replace(" CONCURRENTLY", ""))
            op.execute(f"INSERT INTO checkpoint_migrations (v) VALUES ({version}) "
                       "ON CONFLICT DO NOTHING")
    elif dialect == "sqlite":
        for statement in SQLITE_SCHEMA:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    tables = POSTGRES_TABLES if dialect == "postgresql" else SQLITE_TABLES
    for table in tables:
        op.execute(f"DROP TABLE IF EXISTS {table}")
