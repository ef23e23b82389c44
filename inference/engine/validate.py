"""Validating serving profiles against the installed vLLM: every node of every profile is turned
into its real server command line and handed to ``vllm_argcheck.py``, which runs in the vLLM venv
and checks it with vLLM's own parser and configuration classes. The application side never
imports vLLM; it only reads the JSON verdicts back."""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import UpstreamUnavailable
from inference.engine.health import log_tail
from inference.engine.launcher import vllm_python
from inference.engine.profiles import ServingProfile

ARGCHECK_SCRIPT = Path(__file__).resolve().parent / "vllm_argcheck.py"
# stands in for node 0's address: the check parses flags, it never connects anywhere
PLACEHOLDER_LEADER = "127.0.0.1"


@dataclass(frozen=True)
class NodeVerdict:
    """vLLM's verdict on one node's command line of one profile."""

    profile: str
    node_rank: int
    argv: list[str]
    problems: list[str]
    gpus: int | None

    @property
    def ok(self) -> bool:
        return not self.problems


def check_profiles(profiles: list[ServingProfile], *, venv: Path | None = None,
                   timeout_s: float = 300.0) -> list[NodeVerdict]:
    """Check every node of every profile with the vLLM in ``venv``; one verdict per node."""
    python = vllm_python(venv)
    requests: dict[str, dict[str, object]] = {}
    for profile in profiles:
        for rank in range(profile.node_count):
            argv = profile.argv(node_rank=rank, leader_address=PLACEHOLDER_LEADER)
            requests[f"{profile.name}#{rank}"] = {
                "argv": argv, "env": profile.env, "gpus_per_node": profile.gpus_per_node}
    with tempfile.TemporaryDirectory(prefix="vllm-argcheck-") as tmp:
        result_path = Path(tmp) / "result.json"
        log_path = Path(tmp) / "argcheck.log"
        with log_path.open("wb") as log:
            completed = subprocess.run(
                [str(python), str(ARGCHECK_SCRIPT), str(result_path)],
                input=json.dumps(requests).encode(), stdout=log, stderr=subprocess.STDOUT,
                timeout=timeout_s, check=False)
        if completed.returncode != 0 or not result_path.is_file():
            raise UpstreamUnavailable(
                f"vLLM argument check failed (exit {completed.returncode})\n{log_tail(log_path)}")
        results = json.loads(result_path.read_text(encoding="utf-8"))
    verdicts = []
    for key, request in requests.items():
        name, rank_text = key.rsplit("#", 1)
        verdicts.append(NodeVerdict(profile=name, node_rank=int(rank_text),
                                    argv=list(request["argv"]),  # type: ignore[call-overload]
                                    problems=results[key]["problems"],
                                    gpus=results[key]["gpus"]))
    return verdicts
