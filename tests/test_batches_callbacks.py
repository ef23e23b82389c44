"""Completion callbacks: which targets are refused, what the signature proves, and delivery that
survives a receiver that fails at first (retried, then recorded as delivered once)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from app.callbacks import (
    SIGNATURE_HEADER,
    CallbackRefused,
    sign,
    validate_callback_url,
    verify_signature,
)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]/hook",
    "http://10.1.2.3/hook", "http://192.168.0.10/hook", "http://172.16.5.5/hook",
    "http://169.254.169.254/latest/meta-data", "http://0.0.0.0/hook", "http://100.64.0.1/",
])
def test_loopback_private_and_metadata_targets_are_refused(url: str):
    with pytest.raises(CallbackRefused, match="public addresses only"):
        validate_callback_url(url, allow_private=False)


@pytest.mark.parametrize("url", ["ftp://example.org/x", "/relative", "http://user:pw@1.1.1.1/",
                                 "javascript:alert(1)"])
def test_malformed_targets_are_refused(url: str):
    with pytest.raises(CallbackRefused):
        validate_callback_url(url, allow_private=False)


def test_public_address_is_accepted_and_loopback_only_when_allowed():
    validate_callback_url("https://1.1.1.1/hooks", allow_private=False)
    validate_callback_url("http://127.0.0.1:9/hook", allow_private=True)


def test_signature_binds_body_secret_and_time():
    body = b'{"event":"batch.finished"}'
    header = sign(body, "s3cret")
    assert verify_signature(body, header, "s3cret")
    assert not verify_signature(body, header, "other")
    assert not verify_signature(body + b"x", header, "s3cret")
    stale = sign(body, "s3cret", timestamp=int(time.time()) - 3600)
    assert not verify_signature(body, stale, "s3cret")
    assert not verify_signature(body, "garbage", "s3cret")


@pytest.fixture
def flaky_receiver() -> Iterator[dict[str, Any]]:
    state: dict[str, Any] = {"calls": [], "fail_first": 1}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the http.server API)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state["calls"].append((dict(self.headers), body))
            failing = len(state["calls"]) <= state["fail_first"]
            self.send_response(503 if failing else 200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    server.shutdown()
    server.server_close()


def test_callback_is_retried_then_delivered_once_with_a_valid_signature(
        client, auth, samples_dir: Path, flaky_receiver, monkeypatch):
    from app.core.settings import get_settings

    settings = get_settings().batches
    monkeypatch.setattr(settings, "callback_allow_private", True)
    monkeypatch.setattr(settings, "callback_secret", "hook-secret")
    pdf = (samples_dir / "services-agreement.pdf").read_bytes()
    response = client.post("/v1/batches", headers=auth, files={"files": ("a.pdf", pdf)},
                           data={"callback_url": flaky_receiver["url"]})
    assert response.status_code == 202, response.text
    batch = client.get(f"/v1/batches/{response.json()['id']}", headers=auth).json()
    assert batch["status"] == "done"
    assert batch["callback_delivered_at"] is not None

    calls = flaky_receiver["calls"]
    assert len(calls) == 2  # one refused with 503, one taken
    headers, body = calls[-1]
    signature = {k.lower(): v for k, v in headers.items()}[SIGNATURE_HEADER.lower()]
    assert verify_signature(body, signature, "hook-secret")
    assert json.loads(body)["batch"]["counts"] == {"done": 1}

    # reading the batch again never sends it twice
    client.get(f"/v1/batches/{batch['id']}", headers=auth)
    assert len(calls) == 2
