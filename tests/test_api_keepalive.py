"""Keep-alive connections against the API under uvicorn: the API (eager tasks, the embedded
default) forks its sandboxed PDF parser while clients hold idle connections. When uvicorn closes
an idle one, the client must see it closed and open a new one; a half-open socket kept by the
parser would swallow the client's next request (a web page's poll that never answers)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import make_key
from tests.live import Stack

pytestmark = pytest.mark.slow

UVICORN_KEEP_ALIVE_S = 5


@pytest.fixture
def api_url(db: None) -> Iterator[str]:
    stack = Stack()
    try:
        yield stack.start_api(dict(os.environ))
    finally:
        stack.stop()


def test_an_idle_connection_the_api_closed_is_not_reused_after_a_parse(api_url: str,
                                                                       samples_dir: Path):
    headers = {"Authorization": f"Bearer {make_key('acme')}"}
    # like a browser, the client keeps idle connections longer than the server does
    with httpx.Client(base_url=api_url, headers=headers, timeout=10,
                      limits=httpx.Limits(keepalive_expiry=120)) as poller:
        assert poller.get("/v1/documents").status_code == 200  # a connection, now idle
        pdf = (samples_dir / "services-agreement.pdf").read_bytes()
        uploaded = httpx.post(f"{api_url}/v1/documents", headers=headers, timeout=120,
                              files={"files": ("deal.pdf", pdf)})  # parsed in a forked child
        assert uploaded.status_code == 202, uploaded.text
        time.sleep(UVICORN_KEEP_ALIVE_S + 1.5)  # the API closes the idle connection
        listing = poller.get("/v1/documents")
    assert listing.status_code == 200
    assert [d["filename"] for d in listing.json()["items"]] == ["deal.pdf"]
