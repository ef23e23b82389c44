"""The agents inside the pipeline: an upload through the API is analysed by the supervisor
graph in the analysis stage, stored as one result that validates against the documented
schema, and summarised for the CLI. With no model endpoint the result says so and holds the
deterministic analysis; with a (scripted) model endpoint on loopback the result names the model.
Checkpoints: the SQLite saver (embedded default) resumes a graph paused before verification
without redoing earlier steps, and the migration creates its tables."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sqlalchemy import select

from agents.supervisor.checkpoint import open_checkpointer
from agents.supervisor.graph import VERIFY_NODE, build_graph
from app.core.db import session_scope
from app.core.settings import get_settings
from app.models import Result
from app.result_summary import summary_lines
from tests.agents_support import (
    MODEL_NAME,
    Script,
    ScriptedServer,
    confirm_type,
    judge_nothing,
    pages_of,
    pick,
    scripted,
    summarise_facts,
)
from tests.live import free_port

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "docs" /
                     "result.schema.json").read_text())


def upload_and_result(client: Any, auth: dict[str, str], path: Path) -> dict[str, Any]:
    response = client.post("/v1/documents", headers=auth,
                           files={"files": (path.name, path.read_bytes(), "application/pdf")})
    assert response.status_code == 202, response.text
    [doc] = response.json()["documents"]
    body = client.get(f"/v1/documents/{doc['id']}/result", headers=auth)
    assert body.status_code == 200, body.text
    return body.json()["result"]


@pytest.mark.parametrize("name", ["services-agreement.pdf", "thai-lease.pdf",
                                  "financial-statement.pdf", "thai-financial-statement.pdf"])
def test_upload_stores_a_schema_valid_result_saying_the_model_was_unavailable(
        client, auth, samples_dir: Path, name: str):
    result = upload_and_result(client, auth, samples_dir / name)
    jsonschema.validate(result, SCHEMA)
    assert result["llm"]["status"] == "unavailable"
    assert "no model endpoint answered" in result["llm"]["note"]
    assert result["model"] == "deterministic-rules"
    assert result["verification"]["all_verified"] is True
    rows = dict(summary_lines(result))
    assert rows["Model"] == ("deterministic-rules: no model endpoint answered (after retries): "
                             "deterministic results only")
    if name == "thai-lease.pdf":
        assert rows["Parties"].startswith("ผู้ให้เช่า: นางสาวพิมพ์ชนก ศรีสุวรรณ (p. 1)")
        assert "expires 2027-05-31 (p. 1)" in rows["Dates"]
        assert "THB 35,000.00 monthly" in rows["Key amounts"]
    if name == "financial-statement.pdf":
        assert "total assets 113,200.00 (p. 1)" in rows["Key amounts"]
        assert rows["Reconciliation"].endswith("0 failed, 0 not checkable")
    if name == "services-agreement.pdf":
        assert rows["Clauses"] == "21 of 41 CUAD categories present"
        assert "renews automatically" in rows["Risk flags"]
    with session_scope() as session:
        stored = session.scalar(select(Result).where(Result.document_id == result["document"]
                                                     ["id"]))
        assert stored is not None and stored.model == "deterministic-rules"


@pytest.fixture
def scripted_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[Script]:
    """A scripted model served on loopback and configured as the model endpoint."""
    script = Script({"DocumentType": [confirm_type], "FieldChoices": [pick({})],
                     "ClauseJudgements": [judge_nothing], "Summary": [summarise_facts]})
    with ScriptedServer(script, free_port()) as server:
        monkeypatch.setenv("LEXLEDGER_LLM__BASE_URL", server.base_url)
        get_settings.cache_clear()
        try:
            yield script
        finally:
            monkeypatch.undo()
            get_settings.cache_clear()


def test_a_model_endpoint_on_loopback_is_used_and_named(client, auth, samples_dir: Path,
                                                        scripted_endpoint: Script):
    # two documents in one process: each analysis runs in its own event loop, and the second
    # must not trip over connections pooled by the first
    first = upload_and_result(client, auth, samples_dir / "services-agreement.pdf")
    assert first["llm"]["status"] == "used"
    result = upload_and_result(client, auth, samples_dir / "thai-lease.pdf")
    jsonschema.validate(result, SCHEMA)
    assert scripted_endpoint.steps() == ["DocumentType", "FieldChoices", "ClauseJudgements",
                                         "Summary"] * 2
    assert (result["llm"]["status"], result["model"]) == ("used", MODEL_NAME)
    fields = result["legal"]["fields"]
    assert fields["rent"]["source"] == "model" and fields["rent"]["model"] == MODEL_NAME
    assert fields["rent"]["value"]["amount"] == 35000 and fields["rent"]["verified"]
    assert result["legal"]["summary"]["source"] == "model"
    assert dict(summary_lines(result))["Model"].startswith(MODEL_NAME)


def test_sqlite_checkpoints_resume_before_verify_without_redoing_steps(tmp_path: Path,
                                                                     samples_dir: Path):
    url = f"sqlite:///{tmp_path / 'embedded.db'}"
    script = Script({"DocumentType": [confirm_type], "FieldChoices": [pick({})],
                     "ClauseJudgements": [judge_nothing], "Summary": [summarise_facts]})
    config: dict[str, Any] = {"configurable": {"thread_id": "job-1"}}
    pages = list(pages_of(samples_dir / "thai-lease.pdf"))

    async def first() -> tuple[str, ...]:
        async with open_checkpointer(url) as saver:
            graph = build_graph(saver)
            await graph.ainvoke({"pages": pages, "llm_log": []}, config,
                                context=scripted(script), interrupt_before=[VERIFY_NODE])
            return tuple((await graph.aget_state(config)).next)

    async def resume() -> dict[str, Any]:
        async with open_checkpointer(url) as saver:  # a new process would open it anew
            graph = build_graph(saver)
            return await graph.ainvoke(None, config, context=scripted(script))

    assert asyncio.run(first()) == (VERIFY_NODE,)
    asked = len(script.requests)
    state = asyncio.run(resume())
    assert len(script.requests) == asked == 4  # nothing before verification ran again
    assert state["verification"]["all_verified"] is True
    with sqlite3.connect(tmp_path / "embedded.db") as conn:
        threads = {row[0] for row in conn.execute("SELECT thread_id FROM checkpoints")}
    assert threads == {"job-1"}


def test_migration_creates_the_checkpoint_tables(database: str):
    from sqlalchemy import inspect

    from app.core.db import get_engine

    tables = set(inspect(get_engine()).get_table_names())
    assert {"checkpoints", "checkpoint_blobs", "checkpoint_writes",
            "checkpoint_migrations"} <= tables


def test_summary_names_a_subtotal_that_no_lines_add_up_to() -> None:
    """A filing whose subtotal matches no run of the lines above it (no single difference) is
    summarised, not a crash of `lexledger process`."""
    check = {"check": "Total assets = sum of the lines above", "ok": False, "difference": None}
    off = {"check": "Net income = revenue - expenses", "ok": False, "difference": 12.5}
    result = {"financial": {"reconciliation": {"passed": 3, "failed": 2, "unchecked": 0,
                                               "checks": [check, off]}}}
    text = dict(summary_lines(result))["Reconciliation"]
    assert "Total assets = sum of the lines above (no combination" in text
    assert "Net income = revenue - expenses by 12.5" in text
