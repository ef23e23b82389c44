"""Bulk writes for the hot paths that store many rows at once (a document's pages, chunks and
search postings). On PostgreSQL the rows travel with COPY, inside the session's transaction: one
stream instead of a statement per row. Elsewhere (SQLite) a plain executemany does."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import JSON, Table, insert, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app.models.base import Base


def bulk_insert(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Inserts ``rows`` (dicts keyed by column name, all with the same keys) into ``model``'s
    table."""
    if not rows:
        return
    table = model.__table__
    assert isinstance(table, Table)
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    columns = list(rows[0])
    json_columns = {name for name in columns if isinstance(table.c[name].type, JSON)}
    driver = connection.connection.driver_connection
    assert driver is not None  # a checked-out connection
    quoted = ", ".join(f'"{name}"' for name in columns)
    statement = f'COPY "{table.name}" ({quoted}) FROM STDIN'
    try:
        with driver.cursor().copy(statement) as copy:
            for row in rows:
                copy.write_row([Jsonb(row[name]) if name in json_columns else row[name]
                                for name in columns])
    except psycopg.IntegrityError as exc:  # as SQLAlchemy raises it for any other statement
        raise IntegrityError(statement, None, exc) from exc
    except psycopg.OperationalError as exc:  # a deadlock or a lost connection: retried
        raise OperationalError(statement, None, exc) from exc


def relax_durability(session: Session) -> None:
    """Lets the current PostgreSQL transaction commit without waiting for its WAL flush.
    Only for writes that are safe to lose in a database crash because the work that made them
    is redone anyway (an ingest batch: an interrupted ingest starts over); never for a stage's
    final state."""
    if session.connection().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
