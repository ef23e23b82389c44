"""What the legal agent asks the model: pick, for each key field, which numbered candidate
passage is right (quoting the words that show it), and summarise the agreement with page
citations. The model only chooses among passages the tools found; it never invents a value."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

CHOOSE_SYSTEM = (
    "You review contracts and leases (English and Thai). For each field you get numbered "
    "candidate values, each with the passage it was read from. Choose the candidate that is "
    "the correct value of the field, or -1 when none is. Quote, exactly as written in that "
    "candidate's passage, the words that state its value (its 'words', with any words around "
    "them that show it is the right one). Answer with JSON only."
)
SUMMARY_SYSTEM = (
    "You write a short summary of an agreement for a lawyer, in the document's language, from "
    "the extracted facts given to you. Each sentence states facts from the list and cites the "
    "page numbers they come from. Do not add facts that are not in the list. Answer with JSON "
    "only."
)
FIELD_DESCRIPTIONS = {
    "title": "the document's title",
    "agreement_date": "the date the agreement was made or signed",
    "effective_date": "the date the agreement or lease term starts",
    "expiration_date": "the date the (initial) term ends",
    "term": "the length of the (initial) term",
    "governing_law": "the law that governs the agreement",
    "rent": "the monthly rent (first period of any schedule)",
    "premises": "the property or space that is leased",
    "contract_value": "the total amount payable under the contract",
}


def choose_messages(options: dict[str, list[dict[str, Any]]]) -> list[BaseMessage]:
    """One message listing every field's numbered candidates with their passages."""
    listing = {
        field: {"meaning": FIELD_DESCRIPTIONS.get(field, field),
                "candidates": [{"n": n, "value": o["value"], "page": o["page"],
                                "words": o["text"], "passage": o["context"]}
                               for n, o in enumerate(items)]}
        for field, items in options.items()}
    return [SystemMessage(CHOOSE_SYSTEM), HumanMessage(
        "Fields and candidates:\n" + json.dumps(listing, ensure_ascii=False, indent=1))]


def summary_messages(facts: list[dict[str, Any]], language: str) -> list[BaseMessage]:
    """The facts to summarise, each with the page it was found on."""
    return [SystemMessage(SUMMARY_SYSTEM), HumanMessage(
        f"Language: {language}\nFacts:\n" + json.dumps(facts, ensure_ascii=False, indent=1))]
