"""Which backend serves a request, and in what order the others are tried when it fails. A route
splits its traffic by weight between its primary backends; a running canary takes its current
share first. A conversation id pins the choice: it hashes to a fixed point in [0, 1), and the
canary owns the bottom of that interval, so a conversation that reached the canary stays there as
the canary grows. Backends that failed ``consecutive_failures`` times in a row are cooled down
(tried last) for ``seconds``; one success clears them."""

from __future__ import annotations

import hashlib
import random
import time
from bisect import bisect_right
from itertools import accumulate

from inference.gateway.canary import CanaryController
from inference.gateway.config import CooldownConfig, RouteConfig


class BackendHealth:
    """Consecutive-failure count and cooldown of one backend."""

    __slots__ = ("name", "policy", "consecutive_failures", "cooled_until")

    def __init__(self, name: str, policy: CooldownConfig) -> None:
        self.name = name
        self.policy = policy
        self.consecutive_failures = 0
        self.cooled_until = 0.0

    def cooled_down(self, now: float | None = None) -> bool:
        return (now if now is not None else time.monotonic()) < self.cooled_until

    def record_success(self) -> None:
        self.consecutive_failures = 0
        self.cooled_until = 0.0

    def record_failure(self) -> bool:
        """Counts a failure; True when this failure started a cooldown."""
        self.consecutive_failures += 1
        if self.consecutive_failures >= self.policy.consecutive_failures:
            already = self.cooled_down()
            self.cooled_until = time.monotonic() + self.policy.seconds
            self.consecutive_failures = 0
            return not already
        return False


def conversation_point(conversation_id: str) -> float:
    """A stable point in [0, 1) for a conversation id."""
    digest = hashlib.blake2b(conversation_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


class Route:
    """One public model: its weighted primaries, fallbacks and optional canary."""

    def __init__(self, model: str, config: RouteConfig, health: dict[str, BackendHealth],
                 canary: CanaryController | None) -> None:
        self.model = model
        self.config = config
        self.health = health
        self.canary = canary
        weighted = [(name, w) for name, w in config.backends.items() if w > 0]
        self._names = [name for name, _ in weighted]
        total = sum(w for _, w in weighted)
        self._bounds = [c / total for c in accumulate(w for _, w in weighted)]
        # the order failures move through: heavier primaries first, then the fallbacks
        by_weight = [n for n, _ in sorted(config.backends.items(), key=lambda kv: -kv[1])]
        self._fallback_order = by_weight + [f for f in config.fallbacks if f not in by_weight]

    def _pick_primary(self, point: float) -> str:
        index = bisect_right(self._bounds, point)
        return self._names[min(index, len(self._names) - 1)]

    def candidates(self, conversation_id: str | None = None) -> list[str]:
        """Backends to try for one request, first choice first; cooled-down ones go last."""
        point = conversation_point(conversation_id) if conversation_id else random.random()
        canary = self.canary
        share = canary.percent / 100.0 if canary is not None else 0.0
        if canary is not None and point < share:
            first = canary.backend
        else:
            first = self._pick_primary((point - share) / (1.0 - share) if share < 1 else point)
        ordered = [first] + [n for n in self._fallback_order if n != first]
        now = time.monotonic()
        ready = [n for n in ordered if not self.health[n].cooled_down(now)]
        if len(ready) == len(ordered):
            return ordered
        return ready + [n for n in ordered if n not in ready]
