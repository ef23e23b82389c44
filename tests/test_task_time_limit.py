"""A stage that outlives the soft time limit: a real worker's analysis waits on a (scripted)
model that answers far too late. The document ends failed with the limit as its reason, and the
API says so, instead of showing "analysing" for ever."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.agents_support import Script, ScriptedServer, confirm_type
from tests.conftest import make_key
from tests.live import free_port, live_env, wait_for

pytestmark = pytest.mark.slow


def test_analysis_past_the_soft_time_limit_fails_the_document_with_the_reason(
        stack, samples_dir: Path):
    script = Script({"DocumentType": [confirm_type]}, first_delay_s={"DocumentType": 60})
    with ScriptedServer(script, free_port()) as model:
        env = live_env(LEXLEDGER_CELERY__VISIBILITY_TIMEOUT_S="40",
                       LEXLEDGER_CELERY__TIME_LIMIT_S="30",
                       LEXLEDGER_CELERY__SOFT_TIME_LIMIT_S="10",
                       LEXLEDGER_LLM__BASE_URL=model.base_url,
                       LEXLEDGER_LLM__TIMEOUT_S="120",
                       LEXLEDGER_LLM__MAX_RETRIES="0")
        url = stack.start_api(env)
        stack.start_worker(env, concurrency=1)
        headers = {"Authorization": f"Bearer {make_key('acme')}"}
        pdf = (samples_dir / "thai-lease.pdf").read_bytes()
        response = httpx.post(f"{url}/v1/documents", headers=headers, timeout=60,
                              files={"files": ("lease.pdf", pdf)})
        [doc] = response.json()["documents"]

        def finished() -> dict | None:
            body = httpx.get(f"{url}/v1/documents/{doc['id']}", headers=headers,
                             timeout=10).json()
            return body if body["status"] in ("done", "failed") else None

        body = wait_for(finished, 120, "the document to stop")
    assert body["status"] == "failed"
    assert body["failure_reason"] == "processing stopped after the 10 s time limit"
    stages = {s["name"]: s for s in body["job"]["stages"]}
    assert stages["ingest"]["status"] == "done"
    assert stages["analysis"]["status"] == "failed"
    assert stages["analysis"]["error"] == body["failure_reason"]
    assert stages["verify"]["status"] == "pending"
    assert script.steps() == ["DocumentType"]  # nothing ran after the limit
