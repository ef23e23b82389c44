"""The Alembic migrations are the only way the schema changes: applied to an empty database
they must produce exactly the tables the models describe, on PostgreSQL and on the embedded
SQLite default, and they must go back down cleanly."""

from __future__ import annotations

from pathlib import Path

from alembic import command

from app.core.migrate import alembic_config, upgrade_database


def test_migrated_postgres_matches_the_models(database: str):
    command.check(alembic_config(database))  # raises when a model and the migrations differ


def test_sqlite_upgrades_matches_and_downgrades(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'embedded.db'}"
    upgrade_database(url)
    command.check(alembic_config(url))
    command.downgrade(alembic_config(url), "base")
    upgrade_database(url)
