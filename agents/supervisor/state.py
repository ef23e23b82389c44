"""The supervisor graph's state, checkpointed after every step under the job id: the pages,
the triage decision, the specialists' sections, the verification report and the log of model
calls (which model answered which step, and how). Plain JSON throughout."""

from __future__ import annotations

from typing import Any, TypedDict


class DocumentState(TypedDict, total=False):
    pages: list[tuple[int, str]]
    language: str
    doc_type: str
    triage: dict[str, Any]
    legal: dict[str, Any] | None
    financial: dict[str, Any] | None
    verification: dict[str, Any]
    # written whole by each step (the specialists append to what they are given)
    llm_log: list[dict[str, Any]]
