"""Completion callbacks: when a batch finishes (done or cancelled) LexLedger POSTs a JSON summary
to the URL given at creation, signed with HMAC-SHA256 so the receiver can check it came from us
and is fresh. The signature header is ``X-LexLedger-Signature: t=<unix seconds>,v1=<hex>`` where
``hex = HMAC_SHA256(secret, f"{t}.{raw body}")``. Targets on loopback, private, link-local or
otherwise non-public addresses are refused (a callback must not become a way to reach inside the
network) unless ``batches.callback_allow_private`` says otherwise."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.core.errors import InvalidInput, UpstreamUnavailable
from app.core.settings import get_settings

SIGNATURE_HEADER = "X-LexLedger-Signature"
MAX_URL_CHARS = 2000


class CallbackRefused(InvalidInput):
    code = "callback_refused"


def validate_callback_url(url: str, *, allow_private: bool | None = None) -> None:
    """Refuses URLs that are not http(s), or whose host resolves to a non-public address."""
    if allow_private is None:
        allow_private = get_settings().batches.callback_allow_private
    if len(url) > MAX_URL_CHARS:
        raise CallbackRefused(f"callback URL is longer than {MAX_URL_CHARS} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CallbackRefused(f"callback URL {url!r} must be an absolute http(s) URL")
    if parts.username or parts.password:
        raise CallbackRefused("callback URL must not carry credentials")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise CallbackRefused(f"callback host {parts.hostname!r} does not resolve") from exc
    if allow_private:
        return
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address.is_global or address.is_multicast:
            raise CallbackRefused(
                f"callback host {parts.hostname!r} resolves to {address}, a loopback, private or "
                "reserved address; callbacks go to public addresses only")


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The signature header value for ``body``."""
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def verify_signature(body: bytes, header: str, secret: str, *, tolerance_s: int = 300) -> bool:
    """What a receiver does: recompute the HMAC and compare in constant time, and refuse stale
    timestamps so a captured callback cannot be replayed later."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        stamp = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs(time.time() - stamp) > tolerance_s:
        return False
    expected = sign(body, secret, stamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


def deliver(url: str, payload: dict[str, Any]) -> None:
    """POSTs ``payload`` once; raises ``UpstreamUnavailable`` when the receiver did not take it
    (connection error or non-2xx), so the calling task retries with backoff."""
    settings = get_settings().batches
    validate_callback_url(url)  # again: DNS may have changed since the batch was created
    body = json.dumps(payload, separators=(",", ":"), default=str).encode()
    headers = {"Content-Type": "application/json",
               SIGNATURE_HEADER: sign(body, settings.callback_secret),
               "User-Agent": "LexLedger-Callback/1"}
    try:
        response = httpx.post(url, content=body, headers=headers,
                              timeout=settings.callback_timeout_s, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise UpstreamUnavailable(f"callback to {url} failed: {exc}") from exc
    if not 200 <= response.status_code < 300:
        raise UpstreamUnavailable(f"callback to {url} answered HTTP {response.status_code}")
