"""Applies the Alembic migrations in ``migrations/``: the only way LexLedger's schema changes.
Used by ``lexledger db upgrade``, by the embedded one-shot run and by the test suite."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade_database(url: str | None = None, revision: str = "heads") -> None:
    """Brings the database at ``url`` (default: the configured one) up to ``revision``; by
    default every head, since parts of the project add migrations on branches of their own."""
    command.upgrade(alembic_config(url), revision)
