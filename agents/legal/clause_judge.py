"""The model as the clause reviewer: it reads, for every CUAD category, the passages the
classifier ranked highest (above its threshold or not) and judges whether the contract has such
a clause, quoting the passage that says so; it may also name a category for a passage it finds
itself, on any page. A judgement counts only when its quote is on the page it cites (the same
grounding rule as every model answer); a quote that is not there is refused and that category
keeps the classifier's decision."""

from __future__ import annotations

import json
import re
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from agents.legal.tools import Pages, citation
from agents.verify.citations import normalize_for_match

JUDGE_SYSTEM = (
    "You review a contract for a lawyer. For each clause category you get its meaning and the "
    "contract's passages most likely to be such a clause, with their page numbers. Decide for "
    "every category whether the contract contains such a clause. When it does, quote the "
    "words that show it exactly as written (at least eight words, from one page) and give that "
    "page. You may name a category for a passage that is not among its candidates if you "
    "quote it exactly. Never invent a quote. Answer with JSON only."
)
# what each category means, in a line, for the model (written for this project)
CATEGORY_MEANINGS = {
    "Expiration Date": "when the initial term ends, or how long the agreement lasts",
    "Renewal Term": "the agreement renews or can be extended for a further term",
    "Notice Period to Terminate Renewal": "notice needed to stop the agreement from renewing",
    "Governing Law": "which jurisdiction's law governs the agreement",
    "Most Favored Nation": "a party gets terms at least as good as those given to others",
    "Competitive Restriction Exception": "an exception to a non-compete, exclusivity or "
                                         "other restriction on competing",
    "Non-Compete": "a party may not compete, or sell competing products, in some market",
    "Exclusivity": "exclusive dealing: an exclusive appointment, licence, supply or purchase",
    "No-Solicit of Customers": "a party may not solicit the other's customers",
    "No-Solicit of Employees": "a party may not solicit or hire the other's employees",
    "Non-Disparagement": "a party may not disparage the other",
    "Termination for Convenience": "a party may terminate without cause, for any reason",
    "Rofr/Rofo/Rofn": "a right of first refusal, first offer or first negotiation",
    "Change of Control": "rights or consequences when a party changes control or merges",
    "Anti-Assignment": "assignment needs consent or notice, or is forbidden",
    "Revenue/Profit Sharing": "royalties or a share of revenue or profit is paid",
    "Price Restrictions": "limits on raising or setting prices",
    "Minimum Commitment": "a minimum amount to buy, pay or sell",
    "Volume Restriction": "a cap or limit on quantity, use or volume",
    "IP Ownership Assignment": "intellectual property created is owned by or assigned to a "
                               "party",
    "Joint IP Ownership": "intellectual property is jointly owned",
    "License Grant": "a licence is granted",
    "Non-Transferable License": "a licence that may not be transferred or sublicensed",
    "Affiliate License-Licensor": "a licence covering the licensor's affiliates' rights",
    "Affiliate License-Licensee": "a licence extending to the licensee's affiliates",
    "Unlimited/All-You-Can-Eat-License": "a licence without limits on users, copies or use",
    "Irrevocable or Perpetual License": "a licence that is irrevocable or perpetual",
    "Source Code Escrow": "source code deposited with an escrow agent",
    "Post-Termination Services": "obligations or rights that continue after termination "
                                 "(transition, sell-off, records kept)",
    "Audit Rights": "a party may audit or inspect the other's books, records or premises",
    "Uncapped Liability": "liability that is not limited: carve-outs from the limitation",
    "Cap on Liability": "a limit on liability or an exclusion of some damages",
    "Liquidated Damages": "fixed damages or penalties payable on breach",
    "Warranty Duration": "how long a warranty lasts",
    "Insurance": "a party must carry insurance",
    "Covenant Not to Sue": "a party agrees not to sue or not to challenge the other's rights",
    "Third Party Beneficiary": "a third party may enforce the agreement",
}
PASSAGES_PER_CATEGORY = 2
PASSAGE_CHARS = 500
MIN_QUOTE_CHARS = 20


class ClauseJudgement(BaseModel):
    category: str = Field(description="the category name, exactly as given", max_length=60)
    present: bool = Field(description="whether the contract contains such a clause")
    page: int = Field(description="the page the quote is on; 0 when not present")
    quote: str = Field(description="the words that show the clause, copied exactly; empty "
                                   "when not present", max_length=600)


class ClauseJudgements(BaseModel):
    judgements: list[ClauseJudgement] = Field(max_length=60)


def judge_messages(candidates: dict[str, list[dict[str, Any]]]) -> list[BaseMessage]:
    """One message listing every category with its best passages."""
    listing = {category: {"meaning": CATEGORY_MEANINGS.get(category, category),
                          "passages": [{"page": c["page"], "text": c["text"][:PASSAGE_CHARS]}
                                       for c in items[:PASSAGES_PER_CATEGORY]]}
               for category, items in candidates.items()}
    return [SystemMessage(JUDGE_SYSTEM), HumanMessage(
        "Categories and candidate passages:\n" + json.dumps(listing, ensure_ascii=False,
                                                            indent=1))]


def locate_quote(pages: Pages, page: int, quote: str) -> dict[str, Any] | None:
    """The citation of ``quote`` on ``page`` (whitespace, case and Unicode forms ignored), or
    None when the page does not say it."""
    text = dict(pages).get(page)
    if text is None or len(normalize_for_match(quote)) < MIN_QUOTE_CHARS:
        return None
    words = re.findall(r"\w+|[^\w\s]", quote)
    if not words:
        return None
    pattern = re.compile(r"\s*".join(re.escape(w) for w in words), re.IGNORECASE)
    match = pattern.search(text)
    if match is None:
        return None
    return citation(page, text, match.start(), match.end())


def apply_judgements(inventory: list[dict[str, Any]], answer: ClauseJudgements, pages: Pages,
                     model: str, judged: set[str]) -> list[dict[str, Any]]:
    """The inventory with the model's grounded judgements; a refused one is recorded on its
    category (``refused``) and leaves the classifier's decision in place. Categories answered
    from the extracted fields (``judged`` excludes them) are left as they are."""
    by_category = {c["category"].casefold(): c for c in inventory}
    for judgement in answer.judgements:
        entry = by_category.get(judgement.category.strip().casefold())
        if entry is None or entry["category"] not in judged:
            continue
        if not judgement.present:
            entry.update(present=False, pages=[], citations=[], source="model", model=model)
            continue
        cite = locate_quote(pages, judgement.page, judgement.quote)
        if cite is None:
            entry["refused"] = (f"the model's quote is not on page {judgement.page}; the "
                                "classifier's decision stands")
            continue
        entry.update(present=True, pages=[cite["page"]], citations=[cite], source="model",
                     model=model)
    return inventory
