"""The HTTP API (FastAPI): thin route handlers that parse the request, call a service and shape
the response. Errors are mapped in one place (``app.api.errors``)."""
