"""The progressive canary: a route sends a growing share of its traffic (e.g. 5 -> 20 -> 50 ->
100 %) to a new backend. Each stage needs ``min_sample`` canary requests; the canary is promoted
to the next stage once that sample meets both SLOs (p99 latency, error rate), and rolled back to
0 % the moment the sample can no longer meet them (more errors, or more requests over the latency
SLO, than the whole stage sample may hold). The stage and status are written to a JSON file on
every change, so a restarted gateway carries on where the old one stopped."""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from inference.gateway.config import CanaryConfig

log = logging.getLogger(__name__)


class CanaryStatus(StrEnum):
    RUNNING = "running"
    PROMOTED = "promoted"
    ROLLED_BACK = "rolled_back"


class CanaryStore:
    """The JSON file holding every route's canary state; written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._states: dict[str, dict[str, Any]] = {}
        if path.exists():
            try:
                self._states = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                # a damaged file must not keep the gateway down; the canary starts over
                log.error("canary state file %s unreadable, starting fresh: %s", path, exc)

    def load(self, route: str) -> dict[str, Any] | None:
        return self._states.get(route)

    def save(self, route: str, state: dict[str, Any]) -> None:
        self._states[route] = state
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        tmp.write_text(json.dumps(self._states, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)


@dataclass
class StageSample:
    count: int = 0
    errors: int = 0
    over_latency: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def p99_ms(self) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


class CanaryController:
    """Canary state and decisions for one route."""

    def __init__(self, route: str, config: CanaryConfig, store: CanaryStore) -> None:
        self.route = route
        self.config = config
        self.store = store
        self.stage_index = 0
        self.status = CanaryStatus.RUNNING
        self.reason = "started"
        self.changed_at = time.time()
        self.history: list[dict[str, Any]] = []
        self.sample = StageSample()
        saved = store.load(route)
        if saved and saved.get("backend") == config.backend and saved.get("stages") == list(
                config.stages):
            self.stage_index = min(int(saved["stage_index"]), len(config.stages) - 1)
            self.status = CanaryStatus(saved["status"])
            self.reason = str(saved.get("reason", ""))
            self.changed_at = float(saved.get("changed_at", self.changed_at))
            self.history = list(saved.get("history", []))
        else:
            self._transition(CanaryStatus.RUNNING, 0, "started")

    @property
    def backend(self) -> str:
        return self.config.backend

    @property
    def percent(self) -> float:
        """The share of the route's traffic the canary receives now."""
        if self.status is CanaryStatus.PROMOTED:
            return 100.0
        if self.status is CanaryStatus.ROLLED_BACK:
            return 0.0
        return self.config.stages[self.stage_index]

    def _budget(self, fraction: float) -> int:
        # how many bad requests a full stage sample may hold and still meet the SLO
        return math.floor(fraction * self.config.min_sample + 1e-9)

    def record(self, latency_ms: float, ok: bool) -> None:
        """Counts one canary request and promotes or rolls back when the sample says so."""
        if self.status is not CanaryStatus.RUNNING:
            return
        sample = self.sample
        sample.count += 1
        if ok:
            sample.latencies_ms.append(latency_ms)
            if latency_ms > self.config.max_p99_latency_ms:
                sample.over_latency += 1
        else:
            sample.errors += 1
        if sample.errors > self._budget(self.config.max_error_rate):
            self._transition(CanaryStatus.ROLLED_BACK, self.stage_index,
                             f"error rate SLO broken: {sample.errors} errors in "
                             f"{sample.count} requests (max {self.config.max_error_rate:.2%})")
        elif sample.over_latency > self._budget(0.01):
            self._transition(CanaryStatus.ROLLED_BACK, self.stage_index,
                             f"p99 latency SLO broken: {sample.over_latency} of {sample.count} "
                             f"requests over {self.config.max_p99_latency_ms:g} ms")
        elif sample.count >= self.config.min_sample:
            p99 = sample.p99_ms()
            done = f"stage {self.percent:g}% passed: {sample.count} requests, " \
                   f"{sample.errors} errors, p99 {p99 or 0:.1f} ms"
            if self.stage_index + 1 < len(self.config.stages):
                self._transition(CanaryStatus.RUNNING, self.stage_index + 1, done)
            else:
                self._transition(CanaryStatus.PROMOTED, self.stage_index, done)

    def restart(self) -> None:
        """Starts the canary again from its first stage (after a rollback and a fix)."""
        self._transition(CanaryStatus.RUNNING, 0, "restarted by an operator")

    def _transition(self, status: CanaryStatus, stage_index: int, reason: str) -> None:
        self.status = status
        self.stage_index = stage_index
        self.reason = reason
        self.changed_at = time.time()
        self.sample = StageSample()
        self.history.append({"at": self.changed_at, "status": status.value,
                             "percent": self.percent, "reason": reason})
        self.history = self.history[-50:]
        log.warning("canary %s -> %s: %s at %g%% (%s)", self.route, self.backend, status.value,
                    self.percent, reason)
        self.store.save(self.route, {
            "backend": self.backend, "stages": list(self.config.stages),
            "stage_index": stage_index, "status": status.value, "reason": reason,
            "changed_at": self.changed_at, "history": self.history,
        })

    def snapshot(self) -> dict[str, Any]:
        """What the admin endpoint shows."""
        return {
            "route": self.route, "backend": self.backend, "status": self.status.value,
            "percent": self.percent, "stages": list(self.config.stages),
            "stage_index": self.stage_index, "reason": self.reason,
            "changed_at": self.changed_at,
            "stage_sample": {"count": self.sample.count, "errors": self.sample.errors,
                             "over_latency_slo": self.sample.over_latency,
                             "p99_ms": self.sample.p99_ms(),
                             "min_sample": self.config.min_sample},
            "slo": {"max_p99_latency_ms": self.config.max_p99_latency_ms,
                    "max_error_rate": self.config.max_error_rate},
            "history": self.history,
        }
