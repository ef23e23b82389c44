"""The web page's routes under ``/web``: sign in with an API key (kept in an HttpOnly,
SameSite=Strict cookie), the documents and batches lists with live status, uploads, the document
page with its result and highlighted citations, the batch page with cancel, retry and export, and
questions about a document. Pages are rendered on the server; ``static/app.js`` polls small HTML
fragments and posts the few actions. State-changing posts must carry ``X-LexLedger-Web: 1``, which
a page on another site cannot send without a CORS preflight that fails."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from app.api.deps import PageNumber, SessionDep
from app.core.errors import AuthenticationFailed, LexLedgerError, NotFound
from app.exports import MEDIA_TYPES, export_batch
from app.models import DocumentStatus
from app.services import batches as batch_service
from app.services import documents as document_service
from app.services.tenants import Caller, authenticate
from app.web.i18n import LANGUAGES, pick_language, translator
from app.web.render import highlight, page_flags, result_sections, section_title

HERE = Path(__file__).parent
KEY_COOKIE = "lexledger_key"
LANG_COOKIE = "lang"
WEB_HEADER = "x-lexledger-web"
STATIC_FILES = {"app.js": "text/javascript", "style.css": "text/css"}

router = APIRouter(prefix="/web", include_in_schema=False)
templates = Jinja2Templates(directory=str(HERE / "templates"))


def _language(request: Request) -> str:
    return pick_language(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


def _render(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    lang = _language(request)
    context.update(lang=lang, t=translator(lang), languages=LANGUAGES,
                   section_title=section_title)
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def _caller(request: Request, session: SessionDep) -> Caller | None:
    key = request.cookies.get(KEY_COOKIE)
    if not key:
        return None
    try:
        return authenticate(session, key)
    except AuthenticationFailed:
        return None


def _require_web_header(request: Request) -> JSONResponse | None:
    if request.headers.get(WEB_HEADER) != "1":
        return JSONResponse({"error": {"message": "missing X-LexLedger-Web header",
                                       "type": "invalid_request_error", "code": "csrf"}},
                            status_code=403)
    return None


def _to_login() -> RedirectResponse:
    return RedirectResponse("/web/login", status_code=303)


@router.get("/static/{name}")
def static(name: str) -> Response:
    if name not in STATIC_FILES:
        return Response(status_code=404)
    # small files, read whole: no file streaming for two assets of a few KiB
    return Response((HERE / "static" / name).read_bytes(), media_type=STATIC_FILES[name],
                    headers={"Cache-Control": "public, max-age=300"})


@router.get("/login")
def login_form(request: Request) -> Response:
    return _render(request, "login.html", error=None)


@router.post("/login")
def login(request: Request, session: SessionDep,
          api_key: Annotated[str, Form()]) -> Response:
    try:
        authenticate(session, api_key.strip())
    except AuthenticationFailed:
        return _render(request, "login.html", status_code=401, error="bad_key")
    response = RedirectResponse("/web", status_code=303)
    response.set_cookie(KEY_COOKIE, api_key.strip(), httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/web")
    return response


@router.post("/logout")
def logout() -> Response:
    response = _to_login()
    response.delete_cookie(KEY_COOKIE, path="/web")
    return response


@router.get("/lang/{lang}")
def choose_language(lang: str, next: str = "/web") -> Response:
    target = next if next.startswith("/web") else "/web"  # never an open redirect
    response = RedirectResponse(target, status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, samesite="lax", max_age=365 * 24 * 3600)
    return response


@router.get("")
def home(request: Request, session: SessionDep) -> Response:
    caller = _caller(request, session)
    if caller is None:
        return _to_login()
    return _render(request, "home.html")


@router.get("/fragments/documents")
def documents_fragment(request: Request, session: SessionDep) -> Response:
    caller = _caller(request, session)
    if caller is None:
        return Response(status_code=401)
    items, total = document_service.list_documents(session, caller, limit=50, offset=0)
    return _render(request, "_documents.html", documents=items, total=total)


@router.get("/fragments/batches")
def batches_fragment(request: Request, session: SessionDep) -> Response:
    caller = _caller(request, session)
    if caller is None:
        return Response(status_code=401)
    summaries = []
    for batch in batch_service.list_batches(session, caller, limit=20):
        summaries.append(batch_service.batch_summary(session, caller, batch.id))
    return _render(request, "_batches.html", batches=summaries)


@router.post("/upload")
def upload(request: Request, session: SessionDep,
           files: Annotated[list[UploadFile], File()]) -> Response:
    """One PDF becomes a document; several (or a zip) become a batch. Answers with where to go."""
    if (refused := _require_web_header(request)) is not None:
        return refused
    caller = _caller(request, session)
    if caller is None:
        return JSONResponse({"error": {"message": "sign in first"}}, status_code=401)
    parts = [(f.filename, f.file) for f in files]
    try:
        if len(parts) == 1 and not (parts[0][0] or "").lower().endswith(".zip"):
            outcome = document_service.upload_documents(session, caller, parts)[0]
            return JSONResponse({"location": f"/web/documents/{outcome.document.id}"})
        created = batch_service.create_batch(session, caller, parts)
    except LexLedgerError as exc:
        return JSONResponse({"error": {"message": exc.message, "code": exc.code}},
                            status_code=exc.status_code)
    return JSONResponse({"location": f"/web/batches/{created.batch.id}"})


@router.get("/documents/{document_id}")
def document_page(request: Request, session: SessionDep, document_id: uuid.UUID) -> Response:
    caller = _caller(request, session)
    if caller is None:
        return _to_login()
    try:
        document, job = document_service.document_with_job(session, caller, document_id)
    except NotFound:
        return _render(request, "missing.html", status_code=404)
    data: dict[str, Any] = {}
    if document.status == DocumentStatus.DONE:
        try:
            data = document_service.get_result(session, caller, document_id).data
        except NotFound:
            data = {}
    return _render(request, "document.html", document=document, job=job, data=data,
                   sections=result_sections(data), flags=page_flags(data),
                   finished=DocumentStatus(document.status).finished,
                   can_ask=_queries_available(request))


@router.get("/documents/{document_id}/status")
def document_status(request: Request, session: SessionDep, document_id: uuid.UUID) -> Response:
    caller = _caller(request, session)
    if caller is None:
        return Response(status_code=401)
    document, job = document_service.document_with_job(session, caller, document_id)
    return _render(request, "_status.html", document=document, job=job,
                   finished=DocumentStatus(document.status).finished)


@router.get("/documents/{document_id}/pages/{number}")
def page_view(request: Request, session: SessionDep, document_id: uuid.UUID, number: PageNumber,
              start: int | None = None, end: int | None = None) -> Response:
    caller = _caller(request, session)
    if caller is None:
        return _to_login()
    try:
        document, _ = document_service.document_with_job(session, caller, document_id)
        page = document_service.get_page(session, caller, document_id, number)
    except NotFound:
        return _render(request, "missing.html", status_code=404)
    before, cited, after = highlight(page.text, start, end)
    return _render(request, "page.html", document=document, page=page, before=before,
                   cited=cited, after=after)


@router.post("/documents/{document_id}/ask")
async def ask(request: Request, document_id: uuid.UUID,
              question: Annotated[str, Form()]) -> Response:
    """Hands the question to ``POST /v1/queries`` with the signed-in key and shows the answer."""
    if (refused := _require_web_header(request)) is not None:
        return refused
    key = request.cookies.get(KEY_COOKIE)
    if not key:
        return Response(status_code=401)
    if not _queries_available(request):
        return _render(request, "_answer.html", answer=None, error="ask_unavailable")
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://web.internal",
                                 timeout=300) as client:
        reply = await client.post("/v1/queries", headers={"Authorization": f"Bearer {key}"},
                                  json={"question": question,
                                        "document_ids": [str(document_id)]})
    body = reply.json() if reply.headers.get("content-type", "").startswith(
        "application/json") else {}
    if reply.status_code >= 400:
        message = (body.get("error") or {}).get("message") or reply.text[:300]
        return _render(request, "_answer.html", answer=None, error=message,
                       document_id=document_id)
    return _render(request, "_answer.html", answer=body, error=None, document_id=document_id)


def _queries_available(request: Request) -> bool:
    # the OpenAPI schema lists every mounted route (and is built once, then cached)
    return "/v1/queries" in request.app.openapi().get("paths", {})


@router.get("/batches/{batch_id}")
def batch_page(request: Request, session: SessionDep, batch_id: uuid.UUID) -> Response:
    caller = _caller(request, session)
    if caller is None:
        return _to_login()
    try:
        summary = batch_service.batch_summary(session, caller, batch_id)
    except NotFound:
        return _render(request, "missing.html", status_code=404)
    return _render(request, "batch.html", batch=summary)


@router.get("/batches/{batch_id}/progress")
def batch_progress(request: Request, session: SessionDep, batch_id: uuid.UUID) -> Response:
    caller = _caller(request, session)
    if caller is None:
        return Response(status_code=401)
    return _render(request, "_batch_progress.html",
                   batch=batch_service.batch_summary(session, caller, batch_id))


@router.post("/batches/{batch_id}/{action}")
def batch_action(request: Request, session: SessionDep, batch_id: uuid.UUID,
                 action: str) -> Response:
    if (refused := _require_web_header(request)) is not None:
        return refused
    caller = _caller(request, session)
    if caller is None:
        return Response(status_code=401)
    if action == "cancel":
        batch_service.cancel_batch(session, caller, batch_id)
    elif action == "retry":
        batch_service.retry_batch(session, caller, batch_id)
    else:
        return Response(status_code=404)
    return JSONResponse({"location": f"/web/batches/{batch_id}"})


@router.get("/batches/{batch_id}/export")
def batch_export(request: Request, session: SessionDep, batch_id: uuid.UUID,
                 format: str = "csv") -> Response:
    caller = _caller(request, session)
    if caller is None:
        return _to_login()
    if format not in MEDIA_TYPES:
        return Response(status_code=400)
    with session.begin():
        batch = batch_service.get_batch(session=session, caller=caller, batch_id=batch_id)
        body = export_batch(session, batch, format)
    return Response(body, media_type=MEDIA_TYPES[format], headers={
        "Content-Disposition": f'attachment; filename="batch-{batch_id}.{format}"'})
