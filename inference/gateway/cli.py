"""``lexledger-inference gateway``: runs the gateway (one uvicorn worker per process; scale out
with more replicas behind a load balancer, sharing limits through Redis), and
``lexledger-inference gateway-stub``, the fast fake upstream the benchmark and tests use."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from app.core.settings import get_settings
from inference.gateway.app import create_app
from inference.gateway.config import load_config
from inference.gateway.stub import serve as serve_stub

app = typer.Typer()


@app.command("gateway")
def gateway(
    config: Annotated[Path | None, typer.Option(help="backends.yaml (default: settings)")] = None,
    host: Annotated[str | None, typer.Option(help="interface to bind (default: settings)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default: settings)")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "warning",
) -> None:
    """Serve the OpenAI-compatible gateway."""
    settings = get_settings()
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    gateway_config = load_config(config or settings.gateway.config_path)
    uvicorn.run(create_app(gateway_config, settings), host=host or settings.gateway.host,
                port=port or settings.gateway.port, log_level=log_level, access_log=False,
                loop="uvloop", http="httptools", lifespan="on",
                # the gateway reads no client address, so uvicorn need not parse forwarding headers
                proxy_headers=False)


@app.command("gateway-stub")
def gateway_stub(
    port: Annotated[int, typer.Option(help="loopback port")],
    model: Annotated[str, typer.Option(help="model name the stub serves")] = "stub-model",
    chunks: Annotated[int, typer.Option(help="tokens per answer")] = 16,
) -> None:
    """Serve a fast fake OpenAI-compatible upstream (benchmarks and tests)."""
    serve_stub(port, model, chunks)


if __name__ == "__main__":
    # `python -m inference.gateway.cli gateway ...` starts without importing the engine and FP8
    # tools (torch, transformers) that the combined `lexledger-inference` command loads
    app()
