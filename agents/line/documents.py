"""PDFs sent in a LINE chat: downloaded through the SDK's content API, uploaded through the same
path as the web API (validation, dedupe, blob store, job, ingest and analysis), acknowledged
with a reply, and watched until the document is finished; then the user gets a push with the
summary, or with the reason it failed."""

from __future__ import annotations

import asyncio
import io
import time
import uuid
from dataclasses import dataclass
from typing import Any

from linebot.v3.webhooks import FileMessageContent
from sqlalchemy import select

from agents.line.client import LineClient, Recipient
from agents.line.language import Language
from agents.line.messages import canned, doc_type_name, format_citation, split_text
from app.core.db import session_scope
from app.core.errors import DocumentRejected, InvalidInput
from app.core.settings import get_settings
from app.models import Document, DocumentStatus, Result
from app.models.line import LineEvent
from app.services.documents import upload_documents
from app.services.line import line_caller

WATCH_TASK = "lexledger.interactive.line_document_watch"
MAX_SUMMARY_CITATIONS = 3


@dataclass(frozen=True)
class FollowUp:
    """A task to queue once the current one is over (never from inside its event loop: an
    eager Celery would run it right there)."""

    task: str
    args: tuple[Any, ...]
    countdown: float | None = None


async def receive_file(client: LineClient, *, event_id: uuid.UUID, tenant_id: uuid.UUID,
                       user_id: str, recipient: Recipient, message: FileMessageContent,
                       language: Language) -> tuple[str, FollowUp | None]:
    """Uploads a file sent in chat and returns the watch that will push its summary; a file
    that is not a PDF, too large or refused by the upload checks gets a reply saying why."""
    name = message.file_name or "file.pdf"
    if not name.lower().endswith(".pdf"):
        how = await client.send(recipient, [canned("not_a_pdf", language, name=name)],
                                purpose="file")
        return f"refused {name}: not a PDF ({how})", None
    max_bytes = get_settings().limits.max_upload_bytes
    if message.file_size and message.file_size > max_bytes:
        reason = _reason_too_large(message.file_size, max_bytes, language)
        how = await client.send(recipient, [canned("file_failed", language, name=name,
                                                   reason=reason)], purpose="file")
        return f"refused {name}: too large ({how})", None
    content = await client.download(message.id)
    try:
        # off the event loop: with eager Celery the whole pipeline runs inside this call
        document_id = await asyncio.to_thread(_upload, tenant_id, user_id, name, content)
    except (InvalidInput, DocumentRejected) as exc:
        how = await client.send(recipient, [canned("file_failed", language, name=name,
                                                   reason=exc.message)], purpose="file")
        return f"refused {name}: {exc.message} ({how})", None
    with session_scope() as session, session.begin():
        row = session.get(LineEvent, event_id)
        if row is not None:
            row.document_id = document_id
    how = await client.send(recipient, [canned("file_received", language, name=name)],
                            purpose="file")
    deadline = time.time() + get_settings().line.document_watch_s
    return (f"received {name} as document {document_id} ({how})",
            FollowUp(WATCH_TASK, (str(event_id), language, deadline)))


def _upload(tenant_id: uuid.UUID, user_id: str, name: str, content: bytes) -> uuid.UUID:
    with session_scope() as session:
        outcome = upload_documents(session, line_caller(tenant_id, user_id),
                                   [(name, io.BytesIO(content))])[0]
    return outcome.document.id


def _reason_too_large(size: int, limit: int, language: Language) -> str:
    mb, limit_mb = size / 1_048_576, limit / 1_048_576
    if language == "th":
        return f"ไฟล์มีขนาด {mb:.1f} MB เกินขีดจำกัด {limit_mb:.0f} MB"
    return f"the file is {mb:.1f} MB, over the {limit_mb:.0f} MB limit"


async def watch_document(event_id: str, language: Language,
                         deadline: float) -> tuple[str, FollowUp | None]:
    """Pushes the summary (or the failure reason) of the document a file message created once
    it is finished; while it is still being processed, returns the next look instead."""
    with session_scope() as session, session.begin():
        row = session.get(LineEvent, uuid.UUID(event_id))
        if row is None or row.document_id is None:
            return "nothing to watch", None
        document = session.get(Document, row.document_id)
        payload, key = dict(row.payload), row.webhook_event_id
        if document is None:
            return "document deleted", None
        status = DocumentStatus(document.status)
        text = _report(session, document, language) if status.finished else None
    chat_id = _chat_id(payload)
    if chat_id is None:
        return "no chat to push to", None
    recipient = Recipient(chat_id=chat_id, reply_token=None, event_time_ms=None, event_key=key)
    if text is None:
        if time.time() < deadline:
            return "waiting", FollowUp(WATCH_TASK, (event_id, language, deadline),
                                       countdown=get_settings().line.document_poll_s)
        text = canned("file_slow", language, name=_file_name(payload))
    async with LineClient(get_settings().line) as client:
        await client.send(recipient, split_text(text), purpose="summary")
    return text, None


def _report(session: Any, document: Document, language: Language) -> str:
    if document.status != DocumentStatus.DONE:
        reason = document.failure_reason or document.status
        return canned("file_failed", language, name=document.filename, reason=reason)
    result = session.scalar(select(Result).where(Result.document_id == document.id)
                            .order_by(Result.created_at.desc()).limit(1))
    data: dict[str, Any] = dict(result.data) if result is not None else {}
    lines = [canned("summary", language, name=document.filename,
                    doc_type=doc_type_name(document.doc_type, language),
                    pages=document.page_count or 0)]
    summary = data.get("summary")
    if isinstance(summary, dict):
        summary = summary.get(language) or summary.get("text") or summary.get("en")
    if isinstance(summary, str) and summary.strip():
        lines.append(summary.strip())
    evidence = [c for c in data.get("doc_type", {}).get("citations", [])
                if isinstance(c, dict) and c.get("page")][:MAX_SUMMARY_CITATIONS]
    for citation in evidence:
        lines.append(f"• \"{citation.get('text', '')}\" "
                     f"{format_citation(document.filename, int(citation['page']))}")
    flagged = {flag: pages for flag, pages in data.get("quality", {}).items() if pages}
    if flagged:
        label = "หน้าที่ควรตรวจสอบ" if language == "th" else "pages to check"
        lines.append(f"{label}: " + "; ".join(
            f"{flag} p. {', '.join(str(p) for p in pages[:10])}"
            for flag, pages in flagged.items()))
    return "\n".join(lines)


def _chat_id(payload: dict[str, Any]) -> str | None:
    source = payload.get("source") or {}
    return source.get("groupId") or source.get("roomId") or source.get("userId")


def _file_name(payload: dict[str, Any]) -> str:
    return str((payload.get("message") or {}).get("fileName") or "file.pdf")
