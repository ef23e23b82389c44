"""The FastAPI application: routers, error handlers, metrics and the upload size guard.
Run it with ``lexledger api`` (uvicorn) or any ASGI server: ``app.api.main:app``."""

from __future__ import annotations

from fastapi import FastAPI

from app.api.errors import install_error_handlers
from app.api.metrics import RequestMetrics, register_collectors
from app.api.routes import batches as batches_routes
from app.api.routes import documents, health, queries
from app.api.routes import line as line_routes
from app.api.size_guard import BodySizeGuard
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
    # plain ASGI middlewares: no per-request task or body copy, which the webhook's ack time
    # under load depends on
    max_body = (settings.limits.max_upload_bytes * settings.limits.max_files_per_request
                + MULTIPART_OVERHEAD)
    app.add_middleware(BodySizeGuard, max_body=max_body)
    app.add_middleware(RequestMetrics)

    app.include_router(health.router)
    app.include_router(documents.router)
    app.include_router(queries.router)
    app.include_router(line_routes.router)
    app.include_router(batches_routes.router)
    app.include_router(web_routes.router)
    return app


app = create_app()
