"""Settings: embedded defaults need nothing, and production refuses what would be unsafe."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.core.settings import Settings

PROD_SECRETS = {
    "LEXLEDGER_ENV": "prod",
    "LEXLEDGER_DB__URL": "postgresql+psycopg://lexledger@db/lexledger",
    "LEXLEDGER_GATEWAY__ADMIN_KEY": "s3",
    "LEXLEDGER_BATCHES__CALLBACK_SECRET": "s4",
    "LEXLEDGER_LINE__CHANNEL_SECRET": "s5",
    "LEXLEDGER_LINE__CHANNEL_ACCESS_TOKEN": "s6",
}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> pytest.MonkeyPatch:
    import os

    for name in list(os.environ):
        if name.startswith("LEXLEDGER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env file
    return monkeypatch


def test_embedded_defaults_need_no_server(clean_env):
    settings = Settings()
    assert settings.db.url.startswith("sqlite") and settings.celery.eager
    assert settings.celery.broker_url == "memory://"


def test_prod_with_every_secret_set_is_accepted(clean_env):
    for name, value in PROD_SECRETS.items():
        clean_env.setenv(name, value)
    assert Settings().env == "prod"


@pytest.mark.parametrize("missing", [n for n in PROD_SECRETS if n.endswith(("KEY", "SECRET",
                                                                            "TOKEN"))])
def test_prod_refuses_each_placeholder_secret(clean_env, missing):
    for name, value in PROD_SECRETS.items():
        if name != missing:
            clean_env.setenv(name, value)
    with pytest.raises(ValidationError, match=missing):
        Settings()


def test_prod_without_line_needs_no_line_secrets(clean_env):
    for name, value in PROD_SECRETS.items():
        if "LINE" not in name:
            clean_env.setenv(name, value)
    clean_env.setenv("LEXLEDGER_LINE__ENABLED", "false")
    assert Settings().line.enabled is False


def test_prod_refuses_sqlite(clean_env):
    for name, value in PROD_SECRETS.items():
        clean_env.setenv(name, value)
    clean_env.setenv("LEXLEDGER_DB__URL", "sqlite:///x.db")
    with pytest.raises(ValidationError, match="Postgres"):
        Settings()


def test_visibility_timeout_must_exceed_the_task_time_limit(clean_env):
    clean_env.setenv("LEXLEDGER_CELERY__VISIBILITY_TIMEOUT_S", "100")
    clean_env.setenv("LEXLEDGER_CELERY__TIME_LIMIT_S", "200")
    with pytest.raises(ValidationError, match="visibility_timeout_s"):
        Settings()


def test_ocr_settings_from_the_environment(clean_env):
    assert (Settings().ocr.mode, Settings().ocr.tessdata_dir) == ("auto", None)
    clean_env.setenv("LEXLEDGER_OCR__TESSDATA_DIR", "")  # as .env.example leaves it
    assert Settings().ocr.tessdata_dir is None
    clean_env.setenv("LEXLEDGER_OCR__MODE", "always")
    with pytest.raises(ValidationError, match="auto', 'off' or 'force'"):
        Settings()
    clean_env.setenv("LEXLEDGER_OCR__MODE", "force")
    clean_env.setenv("LEXLEDGER_OCR__DPI", "50")
    with pytest.raises(ValidationError, match="greater than or equal to 100"):
        Settings()
