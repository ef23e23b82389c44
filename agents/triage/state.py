"""The triage step's state: the pages in, the decision, the type and language out, and the
model-call log it appends to."""

from __future__ import annotations

from typing import Any, TypedDict


class TriageState(TypedDict, total=False):
    pages: list[tuple[int, str]]
    triage: dict[str, Any]
    doc_type: str
    language: str
    llm_log: list[dict[str, Any]]
