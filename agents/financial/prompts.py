"""What the financial agent asks the model: a short summary of the figures code has already
extracted and computed, each sentence citing its pages. The model never does the arithmetic."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

SUMMARY_SYSTEM = (
    "You summarise a company's financial statements for an analyst, in the document's "
    "language, using only the figures, ratios and checks given to you (they were computed by "
    "code; do not recompute them). Each sentence cites the page numbers its figures come from. "
    "Answer with JSON only."
)


def summary_messages(facts: dict[str, Any], language: str) -> list[BaseMessage]:
    """The extracted figures, ratios and reconciliation results to summarise."""
    return [SystemMessage(SUMMARY_SYSTEM), HumanMessage(
        f"Language: {language}\nFigures:\n" + json.dumps(facts, ensure_ascii=False, indent=1))]
