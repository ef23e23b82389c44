"""``lexledger-inference``: the inference service's command line. Each part of the service
(engine launcher, gateway, FP8 tools, tiny model) registers its own Typer sub-app here."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(help="LexLedger inference service: vLLM engine, gateway and FP8 tools.",
                  no_args_is_help=True)

# module path -> attribute holding a typer.Typer whose commands join the top level
_COMMAND_MODULES = [
    "inference.engine.cli",
    "inference.gateway.cli",
    "inference.fp8.cli",
    "inference.tiny_model.cli",
]

for _module_name in _COMMAND_MODULES:
    try:
        _module = importlib.import_module(_module_name)
    except ModuleNotFoundError as exc:
        if exc.name != _module_name:  # a real missing dependency, not an absent part
            raise
        continue
    app.registered_commands.extend(_module.app.registered_commands)
    app.registered_groups.extend(_module.app.registered_groups)


def main() -> None:
    app()
