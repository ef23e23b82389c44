"""The support agent's state: the question and its scope going in, the evidence, the answer and
its verified citations coming out."""

from __future__ import annotations

from typing import Any, TypedDict


class Turn(TypedDict):
    question: str
    answer: str


class SupportInput(TypedDict, total=False):
    question: str
    tenant_id: str
    # the scope: these documents, or the tenant's whole library when empty
    document_ids: list[str]
    # earlier turns of the same conversation, oldest first
    history: list[Turn]


class SupportState(SupportInput, total=False):
    language: str
    hits: list[dict[str, Any]]
    found: bool
    # the statement rows that answer a figure question (the first says the answer), or the
    # periods the statements cover
    figure: list[dict[str, Any]]
    covered: list[str]
    # "report.pdf pages 3-9": unreadable pages where the statements asked about may be
    unreadable: list[str]
    answer: str
    citations: list[dict[str, Any]]
    model: str
    # claims the model made that the evidence did not support (kept out of the answer)
    rejected: list[dict[str, Any]]
    model_unavailable: bool


class SupportOutput(TypedDict, total=False):
    language: str
    hits: list[dict[str, Any]]
    found: bool
    answer: str
    citations: list[dict[str, Any]]
    model: str
    rejected: list[dict[str, Any]]
    model_unavailable: bool
