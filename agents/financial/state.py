"""The financial agent's state: pages and language from the supervisor, the statements its
tools found, and the finished ``financial`` section of the result. Plain JSON throughout, so a
checkpoint can hold it."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict


class FinancialState(TypedDict, total=False):
    pages: list[tuple[int, str]]
    language: str
    doc_type: str
    statements: list[dict[str, Any]]
    financial: dict[str, Any]
    llm_log: Annotated[list[dict[str, Any]], operator.add]


class FinancialOutput(TypedDict, total=False):
    """What the agent hands back to the supervisor."""

    financial: dict[str, Any]
    llm_log: list[dict[str, Any]]
