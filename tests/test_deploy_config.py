"""docker-compose.yml must describe a deployment that can start: every service's command is a
real entry point of this project whose arguments its own parser accepts, and every LEXLEDGER_*
variable names a real setting."""

from __future__ import annotations

import importlib
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from pydantic import BaseModel

from app.core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]


def _services() -> dict[str, dict[str, Any]]:
    """The services that run this project's images (Postgres and Redis run their own)."""
    return {name: spec for name, spec in COMPOSE["services"].items()
            if "command" in spec and "build" in spec}


def _click_command(script: str) -> Any:
    module_name, attr = SCRIPTS[script].split(":")
    module = importlib.import_module(module_name)
    return typer.main.get_command(module.app)


def _parse(command: Any, args: list[str]) -> None:
    """Parses ``args`` the way the real command would (Typer's own Click parser), descending
    into sub-commands; raises a usage error for an unknown command or option."""
    context = command.make_context(command.name or "cmd", list(args), resilient_parsing=False)
    if hasattr(command, "resolve_command"):  # a group: the rest belongs to a sub-command
        pending = list(getattr(context, "_protected_args", [])) + list(context.args)
        assert pending, f"{command.name}: a sub-command is required"
        name, sub, rest = command.resolve_command(context, pending)
        assert sub is not None, f"unknown sub-command {name!r}"
        _parse(sub, rest)


def test_all_project_services_are_described():
    assert {"api", "worker-ingest", "worker-analysis", "worker-interactive", "gateway", "flower",
            "vllm", "migrate"} <= set(_services())
    assert COMPOSE["services"]["vllm"]["profiles"] == ["gpu"]


@pytest.mark.parametrize("service", sorted(_services()))
def test_service_command_is_a_real_entry_point(service):
    argv = _services()[service]["command"]
    program, args = argv[0], argv[1:]
    if program == "celery":
        assert args[:2] == ["-A", "app.worker"], "Celery services must load app.worker"
        assert importlib.import_module("app.worker").celery_app.main == "lexledger"
        assert args[2] in {"worker", "flower", "beat", "inspect"}
        if args[2] == "flower":
            importlib.import_module("flower")
        return
    assert program in SCRIPTS, f"{service}: {program} is not a console script of this project"
    _parse(_click_command(program), args)


def _setting_exists(name: str) -> bool:
    path = name.removeprefix("LEXLEDGER_").lower().split("__")
    model: type[BaseModel] = Settings
    for i, part in enumerate(path):
        field = model.model_fields.get(part)
        if field is None:
            return False
        annotation = field.annotation
        if i < len(path) - 1:
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                return False
            model = annotation
    return True


def _environment_names() -> set[str]:
    names: set[str] = set()
    anchors = [COMPOSE.get("x-app", {})] + list(COMPOSE["services"].values())
    for spec in anchors:
        env = spec.get("environment") or {}
        names |= set(env if isinstance(env, dict) else (e.split("=", 1)[0] for e in env))
    return {n for n in names if n.startswith("LEXLEDGER_")}


def test_every_environment_name_is_a_setting():
    names = _environment_names()
    assert names, "compose sets no LEXLEDGER_ variables"
    unknown = sorted(n for n in names if not _setting_exists(n))
    assert not unknown, f"not settings: {unknown}"


def test_env_example_lists_only_real_settings():
    lines = (ROOT / ".env.example").read_text().splitlines()
    names = [line.split("=", 1)[0] for line in lines if line and not line.startswith("#")]
    assert names
    assert [n for n in names if not _setting_exists(n)] == []


def test_the_unknown_setting_check_can_fail():
    assert not _setting_exists("LEXLEDGER_DB__NOPE")
    assert not _setting_exists("LEXLEDGER_NOTHING")


def test_the_command_check_can_fail():
    with pytest.raises(Exception, match="No such option"):
        _parse(_click_command("lexledger"), ["worker", "--no-such-option"])
    with pytest.raises(Exception, match="No such command"):
        _parse(_click_command("lexledger"), ["no-such-command"])
    with pytest.raises(Exception, match="No such option"):
        _parse(_click_command("lexledger-inference"), ["serve", "--profile", "x", "--bogus"])


def test_inference_command_table_names_every_command():
    from inference.cli import COMMANDS, build_app

    for module in set(COMMANDS.values()):
        names = {c.name for c in build_app([module]).registered_commands}
        assert names == {c for c, m in COMMANDS.items() if m == module}, module


def test_gateway_command_starts_without_torch():
    code = ("import sys; sys.argv = ['lexledger-inference', 'gateway', '--help'];"
            "from inference.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=ROOT)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr[-2000:]


def test_env_example_lists_every_setting():
    def names(model: type[BaseModel], prefix: str) -> set[str]:
        found: set[str] = set()
        for key, field in model.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                found |= names(annotation, f"{prefix}{key.upper()}__")
            else:
                found.add(f"{prefix}{key.upper()}")
        return found

    lines = (ROOT / ".env.example").read_text().splitlines()
    listed = {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}
    assert sorted(names(Settings, "LEXLEDGER_") - listed) == []
