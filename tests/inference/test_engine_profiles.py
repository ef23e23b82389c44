"""The serving profiles: each checked file loads, says what a DeepSeek-V3 FP8 deployment must
say, renders to the command line vLLM will run, and is accepted by the installed vLLM's own
argument parser; a profile vLLM would reject is reported, not deployed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from app.core.errors import InvalidInput, NotFound
from inference.engine.launcher import server_command
from inference.engine.profiles import (
    VLLM_SERVER_MODULE,
    ServingProfile,
    load_profile,
    load_profiles,
    profile_names,
)
from inference.engine.validate import NodeVerdict, check_profiles

GPU_PROFILES = ["deepseek-v3-fp8-h100-2x8", "deepseek-v3-fp8-h200-latency",
                "deepseek-v3-fp8-h200-throughput"]


def _flag(argv: list[str], name: str) -> str | None:
    """The value after ``--name`` in ``argv`` (``""`` for a bare switch, None when absent)."""
    if f"--{name}" not in argv:
        return None
    index = argv.index(f"--{name}")
    following = argv[index + 1] if index + 1 < len(argv) else "--"
    return "" if following.startswith("--") else following


def test_every_required_profile_is_checked_in() -> None:
    assert profile_names() == sorted([*GPU_PROFILES, "tiny-cpu"])


@pytest.mark.parametrize("name", GPU_PROFILES)
def test_gpu_profiles_serve_deepseek_v3_fp8_with_tool_calls(name: str) -> None:
    profile = load_profile(name)
    argv = profile.argv(leader_address="10.1.2.3")
    assert _flag(argv, "model") == "deepseek-ai/DeepSeek-V3"
    # the official checkpoint is block-FP8 already: a --quantization flag would re-quantize it
    assert _flag(argv, "quantization") is None
    assert _flag(argv, "served-model-name") == "deepseek-v3"
    assert _flag(argv, "tool-call-parser") == "deepseek_v3"
    assert _flag(argv, "enable-auto-tool-choice") == ""
    assert _flag(argv, "enable-expert-parallel") == ""
    assert int(_flag(argv, "max-model-len") or 0) >= 65536
    assert _flag(argv, "kv-cache-dtype") in {"auto", "fp8"}


def test_h200_latency_is_tp8_and_throughput_is_dp8() -> None:
    latency = load_profile("deepseek-v3-fp8-h200-latency").argv()
    throughput = load_profile("deepseek-v3-fp8-h200-throughput").argv()
    assert _flag(latency, "tensor-parallel-size") == "8"
    assert _flag(latency, "data-parallel-size") is None
    assert _flag(throughput, "data-parallel-size") == "8"
    assert _flag(throughput, "tensor-parallel-size") is None


def test_h100_profile_spans_two_nodes_and_needs_the_leader_address() -> None:
    profile = load_profile("deepseek-v3-fp8-h100-2x8")
    assert profile.node_count == 2
    with pytest.raises(InvalidInput, match="leader-address"):
        profile.argv(node_rank=0)
    leader = profile.argv(node_rank=0, leader_address="10.1.2.3")
    worker = profile.argv(node_rank=1, leader_address="10.1.2.3")
    assert _flag(leader, "data-parallel-address") == "10.1.2.3"
    assert _flag(leader, "headless") is None
    assert _flag(worker, "headless") == ""
    assert _flag(worker, "data-parallel-start-rank") == "8"
    with pytest.raises(InvalidInput, match="node rank 2"):
        profile.argv(node_rank=2, leader_address="10.1.2.3")


def test_tiny_cpu_profile_carries_the_measured_cpu_settings() -> None:
    profile = load_profile("tiny-cpu")
    argv = server_command(profile, python=Path("/venv/bin/python"), port=8123)
    assert argv[:3] == ["/venv/bin/python", "-m", VLLM_SERVER_MODULE]
    assert _flag(argv, "enforce-eager") == ""
    assert _flag(argv, "port") == "8123"
    assert _flag(argv, "host") == "127.0.0.1"
    assert json.loads(_flag(argv, "structured-outputs-config") or "{}") == {
        "backend": "guidance", "disable_any_whitespace": True}
    assert profile.env["VLLM_CPU_KVCACHE_SPACE"] == "1"
    assert profile.build_tiny_model


def test_profile_rejects_flags_the_launcher_owns(tmp_path: Path) -> None:
    raw = yaml.safe_load((Path(__file__).parents[2] / "inference/profiles/tiny-cpu.yaml")
                         .read_text())
    raw["args"]["port"] = 9999
    (tmp_path / "tiny-cpu.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(InvalidInput, match="port"):
        load_profile("tiny-cpu", tmp_path)


def test_profile_file_must_match_its_name(tmp_path: Path) -> None:
    raw = yaml.safe_load((Path(__file__).parents[2] / "inference/profiles/tiny-cpu.yaml")
                         .read_text())
    (tmp_path / "renamed.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(InvalidInput, match="must match"):
        load_profile("renamed", tmp_path)
    with pytest.raises(NotFound, match="no serving profile"):
        load_profile("deepseek-v3-fp8-a100", tmp_path)


def _broken_variants() -> list[ServingProfile]:
    """Profiles vLLM must reject, each with one mistake a deployment could really make."""
    base = load_profile("deepseek-v3-fp8-h200-latency")

    def variant(name: str, **changes: object) -> ServingProfile:
        return base.model_copy(update={"name": name, **changes})

    return [
        variant("renamed-flag", args={**base.args, "enable-expert-paralel": True}),
        variant("bad-kv-dtype", kv_cache_dtype="fp7"),
        variant("unknown-parser", tool_call_parser="deepseek_v9"),
        variant("unknown-env", env={"VLLM_USE_DEEP_GEMMM": "1"}),
        variant("too-few-gpus", args={**base.args, "tensor-parallel-size": 4}),
        variant("auto-tools-without-parser", tool_call_parser=""),
    ]


@pytest.fixture(scope="module")
def verdicts(vllm_venv: Path) -> dict[tuple[str, int], NodeVerdict]:
    """vLLM's verdicts on the checked profiles and the broken variants, from one vLLM start."""
    return {(v.profile, v.node_rank): v
            for v in check_profiles([*load_profiles(), *_broken_variants()], venv=vllm_venv)}


@pytest.mark.vllm
def test_installed_vllm_accepts_every_profile(
        verdicts: dict[tuple[str, int], NodeVerdict]) -> None:
    checked = {key: v for key, v in verdicts.items() if key[0] in profile_names()}
    assert set(checked) == {(name, 0) for name in [*GPU_PROFILES, "tiny-cpu"]} | {
        ("deepseek-v3-fp8-h100-2x8", 1)}
    rejected = {f"{name}#{rank}": v.problems for (name, rank), v in checked.items() if not v.ok}
    assert rejected == {}
    for name in GPU_PROFILES:
        assert checked[(name, 0)].gpus == 8


@pytest.mark.vllm
def test_installed_vllm_reports_what_it_would_reject(
        verdicts: dict[tuple[str, int], NodeVerdict]) -> None:
    problems = {name: " ".join(v.problems) for (name, _), v in verdicts.items()}
    assert "enable-expert-paralel" in problems["renamed-flag"]
    assert "fp7" in problems["bad-kv-dtype"]
    assert "deepseek_v9" in problems["unknown-parser"]
    assert "VLLM_USE_DEEP_GEMMM" in problems["unknown-env"]
    assert "4 GPU worker(s)" in problems["too-few-gpus"]
    assert "tool-call-parser" in problems["auto-tools-without-parser"]
