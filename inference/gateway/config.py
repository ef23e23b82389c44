"""The gateway's configuration file (``backends.yaml``): which upstream backends exist (local vLLM
servers or external OpenAI-compatible providers, each with a base URL, a key named by secret,
a public-to-upstream model-name mapping and $/MTok prices), which public models route to which
backends with what weights, fallbacks and progressive canary, the client API keys with their
limits and budgets, and the retry/cooldown policy. Loading validates everything up front, so a
typo fails at start-up rather than on the first request."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Price(_Strict):
    """US dollars per million tokens."""

    input_per_mtok: float = Field(default=0.0, ge=0)
    output_per_mtok: float = Field(default=0.0, ge=0)

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """The cost of one call at these prices."""
        return (prompt_tokens * self.input_per_mtok
                + completion_tokens * self.output_per_mtok) / 1_000_000


class BackendConfig(_Strict):
    """One OpenAI-compatible upstream: a local vLLM server or an external provider."""

    base_url: str
    # name of the secret in Settings.gateway.backend_keys; none for a keyless local server
    api_key_secret: str | None = None
    # public model name -> the name this backend serves it under
    models: dict[str, str]
    price: Price = Price()
    connect_timeout_s: float = Field(default=2.0, gt=0)
    # time allowed without a byte from the upstream (first byte, or between stream chunks)
    read_timeout_s: float = Field(default=120.0, gt=0)

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")


class CanaryConfig(_Strict):
    """A progressive canary: the share of the route's traffic sent to ``backend`` grows stage by
    stage while the canary meets its SLOs over at least ``min_sample`` requests per stage."""

    backend: str
    stages: list[float] = Field(default_factory=lambda: [5.0, 20.0, 50.0, 100.0])
    min_sample: int = Field(default=200, gt=0)
    max_p99_latency_ms: float = Field(default=5000.0, gt=0)
    max_error_rate: float = Field(default=0.01, ge=0, le=1)

    @field_validator("stages")
    @classmethod
    def _increasing_percentages(cls, stages: list[float]) -> list[float]:
        if not stages or any(not 0 < s <= 100 for s in stages):
            raise ValueError("canary stages are percentages in (0, 100]")
        if any(b <= a for a, b in zip(stages, stages[1:], strict=False)):
            raise ValueError("canary stages must increase")
        return stages


class RouteConfig(_Strict):
    """A public model name and the backends that serve it."""

    backends: dict[str, float]
    fallbacks: list[str] = Field(default_factory=list)
    canary: CanaryConfig | None = None

    @field_validator("backends")
    @classmethod
    def _positive_weights(cls, weights: dict[str, float]) -> dict[str, float]:
        if not weights or any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise ValueError("a route needs at least one backend with a positive weight")
        return weights


class KeyConfig(_Strict):
    """A client API key, its limits and its monthly budget. ``key`` (plain text) is for dev and
    tests; deployments give ``key_sha256`` so the file holds no secret."""

    name: str
    key: str | None = None
    key_sha256: str | None = None
    requests_per_minute: int | None = Field(default=None, gt=0)
    tokens_per_minute: int | None = Field(default=None, gt=0)
    max_concurrent: int | None = Field(default=None, gt=0)
    monthly_budget_usd: float | None = Field(default=None, ge=0)
    # public model names this key may use; none means every model
    models: list[str] | None = None

    @model_validator(mode="after")
    def _exactly_one_secret(self) -> KeyConfig:
        if (self.key is None) == (self.key_sha256 is None):
            raise ValueError(f"key {self.name!r}: give exactly one of key, key_sha256")
        return self

    @property
    def digest(self) -> str:
        return self.key_sha256.lower() if self.key_sha256 else hash_key(self.key or "")


class RetryConfig(_Strict):
    max_attempts: int = Field(default=3, ge=1)
    backoff_base_s: float = Field(default=0.05, ge=0)
    backoff_max_s: float = Field(default=2.0, ge=0)
    # a Retry-After longer than this moves on to another backend instead of waiting
    max_retry_after_s: float = Field(default=5.0, ge=0)


class CooldownConfig(_Strict):
    consecutive_failures: int = Field(default=3, ge=1)
    seconds: float = Field(default=30.0, gt=0)


class GatewayConfig(_Strict):
    backends: dict[str, BackendConfig]
    routes: dict[str, RouteConfig]
    keys: list[KeyConfig] = Field(default_factory=list)
    retry: RetryConfig = RetryConfig()
    cooldown: CooldownConfig = CooldownConfig()

    @model_validator(mode="after")
    def _references_exist(self) -> GatewayConfig:
        for model, route in self.routes.items():
            named = [*route.backends, *route.fallbacks]
            if route.canary:
                named.append(route.canary.backend)
            for name in named:
                backend = self.backends.get(name)
                if backend is None:
                    raise ValueError(f"route {model!r} names unknown backend {name!r}")
                if model not in backend.models:
                    raise ValueError(f"backend {name!r} has no mapping for model {model!r}")
        digests = [k.digest for k in self.keys]
        if len(set(digests)) != len(digests):
            raise ValueError("two keys share the same secret")
        return self


def hash_key(key: str) -> str:
    """The sha256 hex digest under which a client key is stored and looked up."""
    return hashlib.sha256(key.encode()).hexdigest()


def load_config(path: Path) -> GatewayConfig:
    """Reads and validates a gateway config file."""
    with path.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle) or {}
    return GatewayConfig.model_validate(raw)


def backend_api_key(backend: BackendConfig, secrets: Mapping[str, str]) -> str | None:
    """The upstream key for ``backend`` from the configured secrets (case-insensitive names,
    since environment variable names arrive lower-cased)."""
    if backend.api_key_secret is None:
        return None
    lowered = {name.lower(): value for name, value in secrets.items()}
    key = lowered.get(backend.api_key_secret.lower())
    if key is None:
        raise ValueError(
            f"backend key secret {backend.api_key_secret!r} is not set "
            f"(LEXLEDGER_GATEWAY__BACKEND_KEYS__{backend.api_key_secret.upper()})")
    return key
