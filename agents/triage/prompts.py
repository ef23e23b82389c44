"""What the triage step asks the model: confirm or correct the document type the keyword
triage proposed, by calling a tool with the type and a quote from the first pages."""

from __future__ import annotations

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

TRIAGE_SYSTEM = (
    "You sort business documents (English, Thai, Chinese, Japanese) into one type: contract, "
    "lease, nda, financial_report or other. A keyword count proposes a type; confirm it or "
    "correct it. Call the tool with the type and a short quote, copied exactly from the "
    "document, that shows it."
)
EXCERPT_CHARS = 3000


def triage_messages(first_pages: str, proposed: str) -> list[BaseMessage]:
    """The opening of the document and the keyword triage's proposal."""
    return [SystemMessage(TRIAGE_SYSTEM), HumanMessage(
        f"Proposed type: {proposed}\n\nDocument opening:\n{first_pages[:EXCERPT_CHARS]}")]
