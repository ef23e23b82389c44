"""The legal agent's state: the document's pages and language (from the supervisor), the
candidates its deterministic tools found, and the finished ``legal`` section of the result.
Every value in it is plain JSON, so a checkpoint can hold it."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict


class LegalState(TypedDict, total=False):
    pages: list[tuple[int, str]]
    language: str
    doc_type: str
    legal_candidates: dict[str, list[dict[str, Any]]]
    legal_amounts: dict[str, list[dict[str, Any]]]
    legal_fields: dict[str, Any]
    clause_candidates: dict[str, list[dict[str, Any]]]
    legal: dict[str, Any]
    llm_log: Annotated[list[dict[str, Any]], operator.add]


class LegalOutput(TypedDict, total=False):
    """What the agent hands back to the supervisor."""

    legal: dict[str, Any]
    llm_log: list[dict[str, Any]]
