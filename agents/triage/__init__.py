"""Triage: what kind of document this is (contract, lease, NDA, financial report, other)."""

from agents.triage.rules import DOC_TYPES, Evidence, TriageResult, classify_by_keywords

__all__ = ["DOC_TYPES", "Evidence", "TriageResult", "classify_by_keywords"]
