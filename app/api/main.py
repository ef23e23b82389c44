"""The FastAPI application: routers, error handlers, metrics and the upload size guard.
Run it with ``lexledger api`` (uvicorn) or any ASGI server: ``app.api.main:app``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from starlette.responses import Response

from app.api.errors import error_response, install_error_handlers
from app.api.metrics import record_request, register_collectors
from app.api.routes import batches as batches_routes
from app.api.routes import documents, health, queries
from app.api.routes import line as line_routes
from app.core.logging import configure_logging
from app.core.settings import get_settings
from app.web import routes as web_routes

# multipart framing around the files themselves
MULTIPART_OVERHEAD = 1024 * 1024


def create_app() -> FastAPI:
    settings = get_settings()
    configure_logging(settings.log_level)
    app = FastAPI(title="LexLedger", version="0.1.0",
                  description="Legal and financial document analysis API")
    install_error_handlers(app)
    register_collectors()
    app.middleware("http")(record_request)

    max_body = (settings.limits.max_upload_bytes * settings.limits.max_files_per_request
                + MULTIPART_OVERHEAD)

    @app.middleware("http")
    async def refuse_oversized_bodies(request: Request,
                                      call_next: Callable[[Request], Awaitable[Response]]
                                      ) -> Response:
        # refuse before the body is read and spooled; each file is also checked on its own
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > max_body:
            return error_response(413, f"request body of {int(length)} bytes is over the "
                                  f"{max_body} byte limit", "invalid_request_error",
                                  "file_too_large")
        return await call_next(request)

    app.include_router(health.router)
    app.include_router(documents.router)
    app.include_router(queries.router)
    app.include_router(line_routes.router)
    app.include_router(batches_routes.router)
    app.include_router(web_routes.router)
    return app


app = create_app()
