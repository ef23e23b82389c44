"""Verification: every citation in a result is checked against the text of the page it cites,
every extracted value against its cited text, and every computed number is recomputed."""

from agents.verify.citations import normalize_for_match, verify_citations
from agents.verify.value_checks import verify_values

__all__ = ["normalize_for_match", "verify_citations", "verify_values"]
