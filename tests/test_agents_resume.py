"""Durable analysis with a real kill: a Celery worker process is SIGKILLed while the legal
agent waits on a (scripted, slow) model endpoint on loopback. The redelivered task resumes the
job's supervisor graph from its last Postgres checkpoint: triage, already done, is not asked
again; the interrupted step runs once more; the document finishes with exactly one result."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text

from app.core.db import session_scope
from app.models import JobStage, Result, StageName
from tests.agents_support import (
    Script,
    ScriptedServer,
    confirm_type,
    judge_nothing,
    pick,
    summarise_facts,
)
from tests.conftest import make_key
from tests.live import free_port, live_env, wait_for

pytestmark = pytest.mark.slow


def checkpoints(job_id: str) -> int:
    with session_scope() as session:
        return int(session.execute(text("SELECT count(*) FROM checkpoints WHERE thread_id = :t"),
                                   {"t": job_id}).scalar_one())


def test_worker_killed_mid_graph_resumes_from_the_last_checkpoint(stack, samples_dir: Path):
    script = Script({"DocumentType": [confirm_type], "FieldChoices": [pick({})],
                     "ClauseJudgements": [judge_nothing], "Summary": [summarise_facts]},
                    first_delay_s={"FieldChoices": 60})
    with ScriptedServer(script, free_port()) as model:
        env = live_env(LEXLEDGER_CELERY__VISIBILITY_TIMEOUT_S="45",
                       LEXLEDGER_CELERY__TIME_LIMIT_S="40",
                       LEXLEDGER_CELERY__SOFT_TIME_LIMIT_S="35",
                       LEXLEDGER_CELERY__UNACKED_RESTORE_INTERVAL_S="1",
                       LEXLEDGER_LLM__BASE_URL=model.base_url,
                       LEXLEDGER_LLM__MAX_RETRIES="0")
        url = stack.start_api(env)
        first = stack.start_worker(env, concurrency=1)
        headers = {"Authorization": f"Bearer {make_key('acme')}"}
        pdf = (samples_dir / "thai-lease.pdf").read_bytes()
        response = httpx.post(f"{url}/v1/documents", headers=headers, timeout=60,
                              files={"files": ("lease.pdf", pdf)})
        [doc] = response.json()["documents"]

        wait_for(lambda: "FieldChoices" in script.steps(), 120,
                 "the legal agent to ask the model")
        assert checkpoints(doc["job_id"]) > 0, "triage must be checkpointed before the kill"
        first.kill(signal.SIGKILL)
        with session_scope() as session:
            stage = session.scalar(select(JobStage).where(JobStage.name == StageName.ANALYSIS))
            assert stage is not None and (stage.status, stage.attempts) == ("running", 1)

        stack.start_worker(env, concurrency=1)

        def done() -> dict | None:
            body = httpx.get(f"{url}/v1/documents/{doc['id']}", headers=headers,
                             timeout=10).json()
            assert body["status"] != "failed", body
            return body if body["status"] == "done" else None

        body = wait_for(done, 180, "the document to finish after the kill")
    stages = {s["name"]: s for s in body["job"]["stages"]}
    assert stages["analysis"]["attempts"] == 2
    assert script.steps().count("DocumentType") == 1, "triage ran again instead of resuming"
    assert script.steps().count("FieldChoices") == 2
    assert script.steps().count("Summary") == 1
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Result)) == 1
        result = session.scalar(select(Result))
        assert result is not None and result.data["llm"]["status"] == "used"
        assert result.data["legal"]["fields"]["rent"]["value"]["amount"] == 35000
