"""Liveness (``/healthz``), readiness (``/readyz``: database, broker, inference endpoint, OCR)
and Prometheus metrics (``/metrics``). Readiness fails (503) when the database or the broker is
down; an unreachable model endpoint only degrades it, because the pipeline still produces its
deterministic results without one. OCR is reported, not required: without it, pages with no text
layer are flagged ``needs_ocr`` as before."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from app.core.db import get_engine
from app.core.ocr import availability as ocr_availability
from app.core.settings import get_settings
from app.worker import celery_app

router = APIRouter(tags=["health"])

PROBE_TIMEOUT_S = 2.0


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _check_database() -> dict[str, Any]:
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"ok": True}
    except Exception as exc:  # any failure means "not ready"; say which
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


def _check_broker() -> dict[str, Any]:
    if celery_app.conf.task_always_eager:
        return {"ok": True, "mode": "in-process"}
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=PROBE_TIMEOUT_S)
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


def _check_inference() -> dict[str, Any]:
    llm = get_settings().llm
    if not llm.enabled:
        return {"ok": False, "error": "disabled in settings"}
    try:
        response = httpx.get(f"{llm.base_url.rstrip('/')}/models", timeout=PROBE_TIMEOUT_S,
                             headers={"Authorization": f"Bearer {llm.api_key}"})
        return {"ok": response.status_code == 200, "status": response.status_code}
    except httpx.HTTPError as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


def _check_ocr() -> dict[str, Any]:
    settings = get_settings().ocr
    if settings.mode == "off":
        return {"ok": False, "mode": "off", "error": "turned off in settings"}
    folder, error = ocr_availability(settings.tessdata_dir)
    if folder is None:
        return {"ok": False, "mode": settings.mode, "error": error}
    return {"ok": True, "mode": settings.mode, "languages": settings.languages,
            "dpi": settings.dpi}


@router.get("/readyz")
def readyz() -> JSONResponse:
    checks = {"database": _check_database(), "broker": _check_broker(),
              "inference": _check_inference(), "ocr": _check_ocr()}
    ready = checks["database"]["ok"] and checks["broker"]["ok"]
    status = "ready" if ready and checks["inference"]["ok"] else (
        "degraded" if ready else "not_ready")
    return JSONResponse({"status": status, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics", response_class=PlainTextResponse,
            responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {}}}})
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
