"""Test fixtures on real services: a fresh PostgreSQL database per test run with the Alembic
migrations applied (so the migrations are under test), Redis as the Celery broker under a
run-specific key prefix, and helpers to run the API and real Celery workers as separate
processes. The environment is set before any project module reads its settings."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

RUN_ID = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
PG_ADMIN_DSN = os.environ.get("LEXLEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
TEST_DB = f"lexledger_test_{RUN_ID}"
TEST_DB_URL = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") \
    + f"/{TEST_DB}"
REDIS_URL = os.environ.get("LEXLEDGER_TEST_REDIS", "redis://127.0.0.1:6379/0")
VAR = Path(tempfile.mkdtemp(prefix="lexledger-test-"))
REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_SAMPLES = REPO_ROOT.parent / "shared" / "samples"

os.environ.update({
    "LEXLEDGER_ENV": "test",
    "LEXLEDGER_DB__URL": TEST_DB_URL,
    "LEXLEDGER_STORAGE__BLOB_DIR": str(VAR / "blobs"),
    "LEXLEDGER_STORAGE__RESULT_DIR": str(VAR / "results"),
    "LEXLEDGER_CELERY__EAGER": "true",
    "LEXLEDGER_CELERY__BROKER_URL": "memory://",
    "LEXLEDGER_CELERY__KEY_PREFIX": f"lexledger-test-{RUN_ID}:",
    "LEXLEDGER_LLM__BASE_URL": "http://127.0.0.1:9/v1",  # nothing listens: no model by default
})

TABLES_IN_DELETE_ORDER = ("line_turns", "line_users", "line_events", "queries",
                          "search_postings", "search_entries",
                          "batch_items", "results", "chunks", "pages", "job_stages", "jobs",
                          "documents", "batches",
                          "audit_events", "api_keys", "tenants")


@pytest.fixture(scope="session", autouse=True)
def database() -> Iterator[str]:
    """A new PostgreSQL database for this run, migrated to head; dropped at the end."""
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{TEST_DB}"')
    from app.core.migrate import upgrade_database

    upgrade_database(TEST_DB_URL)
    yield TEST_DB_URL
    from app.core.db import get_engine

    get_engine().dispose()
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEST_DB}" WITH (FORCE)')
    shutil.rmtree(VAR, ignore_errors=True)


@pytest.fixture
def db(database: str) -> Iterator[None]:
    """Empties the tables and the blob folder before the test, so each test starts from
    nothing."""
    from sqlalchemy import text

    from app.core.db import get_engine

    with get_engine().begin() as conn:
        existing = set(conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname='public'")).scalars())
        tables = [t for t in TABLES_IN_DELETE_ORDER if t in existing]
        conn.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
    shutil.rmtree(VAR / "blobs", ignore_errors=True)
    yield


@pytest.fixture
def client(db: None) -> Iterator[object]:
    from fastapi.testclient import TestClient

    from app.api.main import app

    with TestClient(app) as test_client:
        yield test_client


def make_key(tenant: str) -> str:
    from app.core.db import session_scope
    from app.services.tenants import create_api_key

    with session_scope() as session:
        return create_api_key(session, tenant_name=tenant)[1]


@pytest.fixture
def api_key(db: None) -> str:
    return make_key("acme")


@pytest.fixture
def auth(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


@pytest.fixture
def stack(db: None) -> Iterator[object]:
    """Production-shaped processes (API, workers) for one test, all stopped at its end."""
    from tests.live import Stack

    running = Stack()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """LexLedger's own generated sample documents."""
    from app.samples import generate_samples

    out = VAR / "samples"
    generate_samples(out)
    return out


@pytest.fixture(scope="session")
def shared_samples() -> Path:
    if not SHARED_SAMPLES.is_dir():
        pytest.skip("the shared sample PDFs are not next to this checkout")
    return SHARED_SAMPLES
