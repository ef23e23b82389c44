"""Talking to backends: one pooled aiohttp session shared by every backend (keep-alive connections,
no per-request client set-up), a ``Backend`` per configured upstream that posts a chat body and
either returns the whole response or an open stream, and the classification of what went wrong:
``UpstreamFailure`` (connect error, timeout, 429, 5xx: worth a retry or a fallback) versus
``UpstreamRejected`` (a 4xx the client must see, passed through unchanged in shape)."""

from __future__ import annotations

import asyncio
from email.utils import parsedate_to_datetime
from time import time

import aiohttp

from inference.gateway.config import BackendConfig


class UpstreamFailure(Exception):
    """A transient failure: another attempt (here or on another backend) may succeed."""

    def __init__(self, backend: str, reason: str, *, status: int | None = None,
                 retry_after: float | None = None, body: bytes = b"") -> None:
        super().__init__(f"backend {backend!r}: {reason}")
        self.backend = backend
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        self.body = body


class UpstreamRejected(Exception):
    """The backend refused the request itself (4xx other than 429); retrying cannot help."""

    def __init__(self, backend: str, status: int, body: bytes) -> None:
        super().__init__(f"backend {backend!r} rejected the request with HTTP {status}")
        self.backend = backend
        self.status = status
        self.body = body


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time())
    except (TypeError, ValueError):
        return None


def new_session() -> aiohttp.ClientSession:
    """The gateway-wide pooled client session (must be created inside the running loop)."""
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, keepalive_timeout=60,
                                     ttl_dns_cache=300)
    # no cookie jar and no User-Agent: nothing per request the upstream does not need
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                 auto_decompress=True, skip_auto_headers=("User-Agent",))


class Backend:
    """One upstream OpenAI-compatible server."""

    def __init__(self, name: str, config: BackendConfig, api_key: str | None,
                 session: aiohttp.ClientSession) -> None:
        self.name = name
        self.config = config
        self.session = session
        self.url = f"{config.base_url}/chat/completions"
        self.models_url = f"{config.base_url}/models"
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        self.timeout = aiohttp.ClientTimeout(total=None, connect=config.connect_timeout_s,
                                             sock_connect=config.connect_timeout_s,
                                             sock_read=config.read_timeout_s)

    async def _post(self, payload: bytes) -> aiohttp.ClientResponse:
        try:
            response = await self.session.post(self.url, data=payload, headers=self.headers,
                                               timeout=self.timeout)
        except (aiohttp.ClientConnectionError, OSError) as exc:
            raise UpstreamFailure(self.name, f"connect error: {exc}") from exc
        except TimeoutError as exc:
            raise UpstreamFailure(self.name, "timed out waiting for response headers") from exc
        if response.status < 400:
            return response
        try:
            body = await response.read()
        except (aiohttp.ClientError, TimeoutError):
            body = b""
        finally:
            response.release()
        if response.status == 429 or response.status >= 500:
            raise UpstreamFailure(self.name, f"HTTP {response.status}", status=response.status,
                                  retry_after=parse_retry_after(
                                      response.headers.get("Retry-After")), body=body)
        raise UpstreamRejected(self.name, response.status, body)

    async def complete(self, payload: bytes) -> bytes:
        """Posts a non-streaming request and returns the response body."""
        response = await self._post(payload)
        try:
            return await response.read()
        except (aiohttp.ClientError, TimeoutError, asyncio.IncompleteReadError) as exc:
            raise UpstreamFailure(self.name, f"response broke off: {exc!r}") from exc
        finally:
            response.release()

    async def open_stream(self, payload: bytes) -> aiohttp.ClientResponse:
        """Posts a streaming request; the caller reads and releases the response."""
        return await self._post(payload)
