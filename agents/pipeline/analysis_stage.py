"""The analysis and verify stages: run the supervisor graph (triage -> legal or financial
agent -> verification) for a job and store one result per job. The graph is checkpointed in the
project database under the job id, so a worker killed mid-graph resumes from the last finished
step. The graph pauses before verification so the stage bookkeeping (analysis done, verify
running) is committed in between. Safe to run twice: a finished job is skipped and the result
row is unique per job."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from langchain_core.runnables import RunnableConfig
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.ingest import EXTRACTOR_OCR
from agents.llm import AgentContext
from agents.retrieval import index_document
from agents.supervisor.checkpoint import open_checkpointer
from agents.supervisor.graph import VERIFY_NODE, build_graph
from app.models import Document, Page, Result, StageName
from app.services.jobs import finish_job, finish_stage, is_stage_done, load_job, start_stage

log = logging.getLogger(__name__)

RESULT_SCHEMA_VERSION = 2
DETERMINISTIC_MODEL = "deterministic-rules"
T = TypeVar("T")


def run_analysis(session: Session, job_id: str,
                 make_context: Callable[[], AgentContext] = AgentContext.from_settings) -> bool:
    """Runs analysis then verification for ``job_id``; False when there was nothing to do.
    ``make_context`` gives the chat model; it is called inside each event loop the graph runs
    in, since a client's pooled connections cannot outlive their loop."""
    with session.begin():
        job = load_job(session=session, job_id=job_id, lock=True)
        if job is None or job.status in ("cancelled", "failed", "done"):
            return False
        if not is_stage_done(job, StageName.INGEST):
            log.warning("job %s: analysis requested before ingest finished", job_id)
            return False
        document = session.get(Document, job.document_id)
        if document is None:
            return False
        page_rows = list(session.scalars(
            select(Page).where(Page.document_id == document.id).order_by(Page.number)))
        pages = [(p.number, p.text) for p in page_rows]
        # the quality summary lists the pages OCR read beside the flags
        flags = {p.number: list(p.flags) + ([EXTRACTOR_OCR] if p.extractor == EXTRACTOR_OCR else [])
                 for p in page_rows}
        analysed = is_stage_done(job, StageName.ANALYSIS)
        if not analysed:
            start_stage(session=session, job=job, document=document, name=StageName.ANALYSIS)
        document_facts = {"id": str(document.id), "filename": document.filename,
                          "sha256": document.sha256, "pages": document.page_count}

    thread = str(job_id)
    if not analysed:
        state = _run(_advance(thread, {"pages": pages, "llm_log": []}, make_context,
                              stop_before_verify=True))
        with session.begin():
            job = load_job(session=session, job_id=job_id, lock=True)
            document = session.get(Document, uuid.UUID(str(document_facts["id"]))) if job else None
            if job is None or document is None:
                return False
            finish_stage(session=session, job=job, name=StageName.ANALYSIS,
                         detail=f"type: {state.get('doc_type')}")
            document.doc_type = state.get("doc_type")
            document.language = state.get("language")
            start_stage(session=session, job=job, document=document, name=StageName.VERIFY)

    state = _run(_advance(thread, None, make_context, stop_before_verify=False))
    result = assemble_result(state, document_facts, flags)
    report = result["verification"]

    document_id = uuid.UUID(str(document_facts["id"]))
    with session.begin():
        job = load_job(session=session, job_id=job_id, lock=True)
        document = session.get(Document, document_id) if job else None
        if job is None or document is None:
            return False
        existing = session.scalar(select(Result).where(Result.job_id == job.id))
        if existing is None:
            session.add(Result(document_id=document.id, job_id=job.id,
                               model=result["model"], data=result))
        else:
            existing.data, existing.model = result, result["model"]

    # questions can use the document as soon as it is done: index its chunks, statements,
    # clauses and the spans the agents cited (a failure here only delays that to the first
    # question, which indexes what is missing)
    try:
        index_document(session, document_id)
    except Exception:
        log.exception("indexing document %s failed; it is indexed on first use", document_id)

    with session.begin():
        job = load_job(session=session, job_id=job_id, lock=True)
        document = session.get(Document, document_id) if job else None
        if job is None or document is None:
            return False
        finish_stage(session=session, job=job, name=StageName.VERIFY, detail=(
            f"{report['citations']['verified']}/{report['citations']['checked']} citations, "
            f"{report['values']['verified']}/{report['values']['checked']} values verified"))
        finish_job(session=session, job=job, document=document)
    return True


async def _advance(thread: str, initial: dict[str, Any] | None,
                   make_context: Callable[[], AgentContext], *,
                   stop_before_verify: bool) -> dict[str, Any]:
    """Runs the job's graph from its last checkpoint (or from ``initial`` when it has none)
    up to verification, or to the end; returns the state reached."""
    context = make_context()
    try:
        return await _advance_with(thread, initial, context,
                                   stop_before_verify=stop_before_verify)
    finally:
        await context.aclose()


async def _advance_with(thread: str, initial: dict[str, Any] | None, context: AgentContext,
                        *, stop_before_verify: bool) -> dict[str, Any]:
    async with open_checkpointer() as saver:
        graph = build_graph(saver)
        config: RunnableConfig = {"configurable": {"thread_id": thread}}
        snapshot = await graph.aget_state(config)
        finished = bool(snapshot.values) and not snapshot.next
        paused = tuple(snapshot.next) == (VERIFY_NODE,)
        if finished or (stop_before_verify and paused):
            return dict(snapshot.values)
        payload = initial if not snapshot.values else None
        if payload is None and not snapshot.values:
            raise RuntimeError(f"no checkpoint to resume for job {thread}")
        await graph.ainvoke(payload, config, context=context,
                            interrupt_before=[VERIFY_NODE] if stop_before_verify else None)
        return dict((await graph.aget_state(config)).values)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Runs ``coroutine`` to completion from synchronous code, also when the caller is itself
    inside an event loop (an eager task called from async code): then on its own thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc

    worker = threading.Thread(target=target, name="analysis-graph")
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def assemble_result(state: dict[str, Any], document: dict[str, Any],
                    flags: dict[int, list[str]]) -> dict[str, Any]:
    """The stored result (schema: docs/result.schema.json) from the graph's final state."""
    calls = list(state.get("llm_log", []))
    answered = [c for c in calls if c["status"] == "ok"]
    statuses = {c["status"] for c in calls}
    if answered:
        status = "used"
    elif "unavailable" in statuses:
        status = "unavailable"
    elif statuses <= {"disabled"}:
        status = "disabled"
    else:
        status = "not_used"
    notes = {
        "used": "the model chose, confirmed or summarised the values marked source=model",
        "unavailable": "no model endpoint answered (after retries): deterministic results only",
        "disabled": "model calls are switched off: deterministic results only",
        "not_used": "the model's answers did not validate: deterministic results only",
    }
    models = sorted({c["model"] for c in answered})
    return {
        "schema_version": RESULT_SCHEMA_VERSION,
        "document": document,
        "model": ", ".join(models) if models else DETERMINISTIC_MODEL,
        "llm": {"status": status, "note": notes[status], "models": models, "calls": calls},
        "language": state.get("language"),
        "doc_type": state.get("triage") or {"value": "other", "citations": []},
        "legal": state.get("legal"),
        "financial": state.get("financial"),
        "quality": _quality_summary(flags),
        "verification": state.get("verification") or {},
    }


def _quality_summary(flags: dict[int, list[str]]) -> dict[str, list[int]]:
    summary: dict[str, list[int]] = {}
    for number in sorted(flags):
        for flag in flags[number]:
            summary.setdefault(flag, []).append(number)
    return summary
