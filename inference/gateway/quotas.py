"""Who may call the gateway and how much: client keys looked up by their sha256 digest, per-key
requests per minute (moving window) and tokens per minute (fixed window, charged with the real
token count once a call finishes) through the ``limits`` package, so the counters can live in
Redis and be shared by gateway replicas; a per-key cap on concurrent requests; and a monthly
budget in US dollars against the spend recorded in the usage ledger. Every refusal is a 429 with
a ``Retry-After`` header, in OpenAI's error shape."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

from limits import RateLimitItemPerMinute
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from limits.storage import storage_from_string

from app.core.errors import AuthenticationFailed, RateLimited
from inference.gateway.config import KeyConfig, hash_key
from inference.gateway.protocol import GatewayError


def _retry_after_headers(seconds: float) -> list[tuple[bytes, bytes]]:
    return [(b"retry-after", str(max(1, math.ceil(seconds))).encode())]


def rate_limited(message: str, seconds: float, code: str = "rate_limit_exceeded") -> GatewayError:
    """A 429 carrying ``Retry-After``."""
    return GatewayError(RateLimited(message, retry_after=seconds), code=code,
                        headers=_retry_after_headers(seconds))


def month_start(now: datetime | None = None) -> datetime:
    now = now or datetime.now(UTC)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _next_month(start: datetime) -> datetime:
    return start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(
        month=start.month + 1)


class KeyRegistry:
    """Authenticates bearer tokens against the configured keys."""

    def __init__(self, keys: list[KeyConfig]) -> None:
        self._by_digest = {k.digest: k for k in keys}

    def authenticate(self, authorization: bytes | None) -> KeyConfig:
        """The key for an ``Authorization: Bearer ...`` header value, or a 401."""
        if not authorization or not authorization[:7].lower() == b"bearer ":
            raise GatewayError(AuthenticationFailed(
                "missing API key: send 'Authorization: Bearer <key>'"))
        key = self._by_digest.get(hash_key(authorization[7:].strip().decode(errors="replace")))
        if key is None:
            raise GatewayError(AuthenticationFailed("incorrect API key provided"))
        return key


class QuotaEnforcer:
    """Per-key limits and budgets for one gateway process."""

    def __init__(self, storage_uri: str) -> None:
        options: dict[str, str] = {}
        if storage_uri.startswith("async+redis"):
            # redis-py's asyncio client (already a dependency) instead of the default coredis
            options = {"implementation": "redispy", "key_prefix": "lexledger-gateway"}
        storage = storage_from_string(storage_uri, **options)
        self._requests = MovingWindowRateLimiter(storage)
        self._tokens = FixedWindowRateLimiter(storage)
        self._request_items: dict[int, RateLimitItemPerMinute] = {}
        self._token_items: dict[int, RateLimitItemPerMinute] = {}
        self._in_flight: dict[str, int] = {}
        self._spent_usd: dict[str, float] = {}
        self._month = month_start()

    def _item(self, cache: dict[int, RateLimitItemPerMinute], amount: int,
              namespace: str) -> RateLimitItemPerMinute:
        item = cache.get(amount)
        if item is None:
            item = cache[amount] = RateLimitItemPerMinute(amount, namespace=namespace)
        return item

    def seed_spend(self, spent_by_key: dict[str, float]) -> None:
        """This month's spend per key name, as the ledger recorded it before start-up."""
        self._spent_usd = dict(spent_by_key)

    def _roll_month(self) -> None:
        current = month_start()
        if current != self._month:
            self._month = current
            self._spent_usd.clear()

    async def admit(self, key: KeyConfig) -> None:
        """Checks every limit for one new request and takes a concurrency slot; raises a 429.
        The request-rate window is charged last, so a request refused for another reason does
        not also use up the key's requests per minute."""
        if key.monthly_budget_usd is not None:
            self._roll_month()
            if self._spent_usd.get(key.name, 0.0) >= key.monthly_budget_usd:
                wait = (_next_month(self._month) - datetime.now(UTC)).total_seconds()
                raise rate_limited(
                    f"monthly budget of ${key.monthly_budget_usd:g} for key '{key.name}' is "
                    "spent", wait, code="insufficient_quota")
        in_flight = self._in_flight.get(key.name, 0)
        if key.max_concurrent is not None and in_flight >= key.max_concurrent:
            raise rate_limited(f"{key.max_concurrent} concurrent requests already running "
                               f"for key '{key.name}'", 1.0)
        # the slot is taken before the first await, so concurrent requests cannot all slip in
        self._in_flight[key.name] = in_flight + 1
        try:
            await self._check_rates(key)
        except GatewayError:
            self._in_flight[key.name] -= 1
            raise

    async def _check_rates(self, key: KeyConfig) -> None:
        if key.tokens_per_minute is not None:
            item = self._item(self._token_items, key.tokens_per_minute, "gw-tpm")
            if not await self._tokens.test(item, key.name):
                stats = await self._tokens.get_window_stats(item, key.name)
                raise rate_limited(f"tokens per minute limit ({key.tokens_per_minute}) reached "
                                   f"for key '{key.name}'", stats.reset_time - time.time())
        if key.requests_per_minute is not None:
            item = self._item(self._request_items, key.requests_per_minute, "gw-rpm")
            if not await self._requests.hit(item, key.name):
                stats = await self._requests.get_window_stats(item, key.name)
                raise rate_limited(f"requests per minute limit ({key.requests_per_minute}) "
                                   f"reached for key '{key.name}'", stats.reset_time - time.time())

    async def release(self, key: KeyConfig, tokens: int, cost_usd: float) -> None:
        """Frees the concurrency slot and charges what the finished request used."""
        self._in_flight[key.name] = self._in_flight.get(key.name, 1) - 1
        if cost_usd:
            self._roll_month()
            self._spent_usd[key.name] = self._spent_usd.get(key.name, 0.0) + cost_usd
        if key.tokens_per_minute is not None and tokens > 0:
            await self._tokens.hit(self._item(self._token_items, key.tokens_per_minute,
                                              "gw-tpm"), key.name, cost=tokens)

    def spent(self, key_name: str) -> float:
        return self._spent_usd.get(key_name, 0.0)
