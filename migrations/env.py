"""Alembic environment: the database URL comes from LexLedger's settings (or from the caller's
``sqlalchemy.url`` option), the target metadata from ``app.models``."""

from __future__ import annotations

from alembic import context

import app.models  # noqa: F401  (registers every table)
from app.core.db import make_engine
from app.core.settings import get_settings
from app.models.base import Base

config = context.config
target_metadata = Base.metadata


# tables another library owns and creates in its own migration step: LangGraph's checkpointers
# (Postgres and SQLite savers)
FOREIGN_TABLES = {"checkpoints", "checkpoint_writes", "checkpoint_blobs", "checkpoint_migrations",
                  "writes"}


def include_object(obj: object, name: str | None, type_: str, reflected: bool,
                   compare_to: object) -> bool:
    table = getattr(obj, "table", obj) if type_ != "table" else obj
    table_name = getattr(table, "name", name) or ""
    return table_name not in FOREIGN_TABLES


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().db.url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True, include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url())
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True, include_object=include_object)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
