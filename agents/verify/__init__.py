"""Verification: every citation in a result is checked against the text of the page it cites."""

from agents.verify.citations import normalize_for_match, verify_citations

__all__ = ["normalize_for_match", "verify_citations"]
