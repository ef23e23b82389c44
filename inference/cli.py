"""``lexledger-inference``: the inference service's command line. Each part of the service
(engine launcher, gateway, FP8 tools, tiny model) defines its commands on a Typer app of its own;
only the part that owns the command being run is imported, so the gateway starts without loading
torch (the FP8 tools need it, the gateway does not)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

import typer

# command -> the module whose ``app`` defines it (a test keeps this list true)
COMMANDS = {
    "serve": "inference.engine.cli",
    "profiles": "inference.engine.cli",
    "check-profiles": "inference.engine.cli",
    "bench": "inference.engine.cli",
    "gateway": "inference.gateway.cli",
    "gateway-stub": "inference.gateway.cli",
    "build-tiny-model": "inference.tiny_model.cli",
    "quantize": "inference.fp8.cli",
    "dequantize": "inference.fp8.cli",
    "finetune": "inference.fp8.cli",
    "precision-report": "inference.fp8.cli",
}


def build_app(modules: Iterable[str]) -> typer.Typer:
    """A Typer app holding the commands of ``modules``."""
    import importlib

    app = typer.Typer(help="LexLedger inference service: vLLM engine, gateway and FP8 tools.",
                      no_args_is_help=True, add_completion=False)
    for name in dict.fromkeys(modules):
        part = importlib.import_module(name).app
        app.registered_commands.extend(part.registered_commands)
        app.registered_groups.extend(part.registered_groups)
    return app


def __getattr__(name: str) -> Any:
    if name == "app":  # every command, for help texts and introspection
        return build_app(COMMANDS.values())
    raise AttributeError(name)


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else None
    build_app([COMMANDS[command]] if command in COMMANDS else COMMANDS.values())()
