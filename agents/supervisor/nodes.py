"""The supervisor's router: sends a triaged document to the specialist agent it needs."""

from __future__ import annotations

from typing import Literal

from agents.supervisor.state import DocumentState

LEGAL_TYPES = ("contract", "lease", "nda")


def route_by_type(state: DocumentState) -> Literal["legal", "financial", "verify"]:
    """Contracts, leases and NDAs go to the legal agent, financial reports to the financial
    agent, anything else straight to verification."""
    doc_type = state.get("doc_type", "other")
    if doc_type in LEGAL_TYPES:
        return "legal"
    if doc_type == "financial_report":
        return "financial"
    return "verify"
