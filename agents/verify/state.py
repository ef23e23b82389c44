"""The verification agent's state: the pages, the sections other agents produced (triage,
legal, financial), and the verification report. Plain JSON, so a checkpoint can hold it."""

from __future__ import annotations

from typing import Any, TypedDict


class VerifyState(TypedDict, total=False):
    pages: list[tuple[int, str]]
    triage: dict[str, Any]
    legal: dict[str, Any] | None
    financial: dict[str, Any] | None
    verification: dict[str, Any]
