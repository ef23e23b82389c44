"""Where the supervisor graph's checkpoints live: the project database. On PostgreSQL that is
LangGraph's Postgres saver, on the embedded SQLite default the SQLite saver on the same file.
Their tables are created by the ``0003_checkpoints`` migration, never at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from sqlalchemy.engine import make_url

from app.core.settings import get_settings


def saver_target(url: str) -> tuple[str, str]:
    """("postgres", libpq conninfo) or ("sqlite", file path) for a SQLAlchemy URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return "postgres", parsed.set(drivername="postgresql").render_as_string(
            hide_password=False)
    if parsed.get_backend_name() == "sqlite":
        return "sqlite", parsed.database or ":memory:"
    raise ValueError(f"no checkpointer for database {parsed.get_backend_name()!r}")


@asynccontextmanager
async def open_checkpointer(url: str | None = None) -> AsyncIterator[BaseCheckpointSaver]:
    """The checkpointer for the configured database, open for the duration of the block."""
    kind, target = saver_target(url or get_settings().db.url)
    if kind == "postgres":
        async with AsyncPostgresSaver.from_conn_string(target) as saver:
            yield saver
    else:
        async with AsyncSqliteSaver.from_conn_string(target) as saver:
            yield saver
