"""The verification node: checks every citation and every value of the triage, legal and
financial sections against the page text and recomputes the arithmetic, marking each item
``verified`` true or false (with the reason) and returning the report. Pure code: verification
never asks the model."""

from __future__ import annotations

import copy
from typing import Any

from agents.verify.citations import verify_citations
from agents.verify.state import VerifyState
from agents.verify.value_checks import verify_values

SECTIONS = ("triage", "legal", "financial")


async def verify(state: VerifyState) -> dict[str, Any]:
    """Marks the sections in a copy of the state and returns them with the report."""
    pages = {int(number): str(text) for number, text in state.get("pages", [])}
    sections = {key: copy.deepcopy(state.get(key)) for key in SECTIONS}
    citations = verify_citations(sections, pages)
    # the triage decision is a classification: its evidence spans are checked as citations
    values = verify_values({key: sections[key] for key in ("legal", "financial")}, pages)
    report = {"citations": citations, "values": values,
              "all_verified": not citations["failed"] and not values["failed"]}
    return {**sections, "verification": report}
