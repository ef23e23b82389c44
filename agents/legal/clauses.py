"""The clause inventory over the 41 CUAD categories and the risk flags drawn from it. Each
category has English and Thai patterns; a category is present when a pattern matches, with the
page(s) and the sentence spans that say so, and absent otherwise. The five categories that are
fields (document name, parties, dates) are answered from the extracted fields. Risk flags are
plain rules over fields and clauses, each with a one-line reason and its citations."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from agents.legal.tools import Pages, citation, iter_matches

CATEGORIES_FILE = Path(__file__).with_name("cuad_categories.txt")
SPANS_PER_CLAUSE = 3

# category -> patterns (English, Thai); a clause is the sentence around a match
CLAUSE_PATTERNS: dict[str, list[str]] = {
    "Renewal Term": [r"renew\w* (?:automatically|for (?:successive|an additional|a further))",
                     r"renewal terms?", r"option to (?:renew|extend)", r"ต่อสัญญา", r"ต่ออายุสัญญา"],
    "Notice Period to Terminate Renewal": [
        r"notice of non-renewal", r"non-renewal[^.]{0,80}notice|notice[^.]{0,120}non-renewal",
        r"แจ้ง[^\n]{0,60}ล่วงหน้า[^\n]{0,40}ก่อนวันสิ้นสุดสัญญา"],
    "Governing Law": [r"governed by[^.]{0,30}laws? of", r"in accordance with the laws? of",
                      r"กฎหมายที่ใช้บังคับ", r"ภายใต้บังคับแห่งกฎหมาย"],
    "Most Favored Nation": [r"most favou?red (?:nation|customer)",
                            r"(?:no )?less favou?rable (?:terms|prices?|pricing)"],
    "Competitive Restriction Exception": [
        r"(?:except|exception|notwithstanding)[^.]{0,100}(?:non-compet|compet\w+ (?:restriction|"
        r"business))"],
    "Non-Compete": [r"non-?compet\w*", r"shall not[^.]{0,120}\bcompet(?:e|es|ing)\b",
                    r"competes? directly", r"ห้ามประกอบกิจการแข่งขัน"],
    "Exclusivity": [r"(?<!non-)(?<!non)\bexclusiv(?:e|ely|ity)\b(?!\s+(?:jurisdiction|venue|"
                    r"remedy|of\b|right to (?:sue|bring)))", r"แต่เพียงผู้เดียว"],
    "No-Solicit of Customers": [r"solicit\w*[^.]{0,80}\b(?:customers|clients)\b"],
    "No-Solicit of Employees": [r"solicit\w*[^.]{0,60}(?:for employment|employees?|personnel)",
                                r"(?:hire|employ)[^.]{0,40}employees? of the other"],
    "Non-Disparagement": [r"disparag\w+"],
    "Termination for Convenience": [
        r"terminat\w*[^.]{0,80}(?:for convenience|for any reason|without cause)",
        r"(?:for convenience|without cause)[^.]{0,60}terminat", r"บอกเลิกสัญญาก่อนครบกำหนด"],
    "Rofr/Rofo/Rofn": [r"right of first (?:refusal|offer|negotiation)", r"สิทธิ(?:ใน)?การเช่าก่อน"],
    "Change of Control": [r"change (?:of|in) control", r"merger[^.]{0,60}(?:assign|terminat)"],
    "Anti-Assignment": [
        r"(?:may|shall|will|can)\s?not\s+(?:\w+\s+)?(?:assign|transfer)",
        r"assign\w*[^.]{0,120}without[^.]{0,40}(?:prior )?(?:written )?consent",
        r"โอนสิทธิ(?:การเช่า)?", r"เช่าช่วง"],
    "Revenue/Profit Sharing": [r"(?:revenue|profit)s?[- ]shar\w+",
                               r"percentage of (?:gross|net) (?:revenue|sales|profits?)",
                               r"\broyalt(?:y|ies)\b", r"ส่วนแบ่ง(?:รายได้|กำไร)"],
    "Price Restrictions": [
        r"(?:prices?|fees?|rates?|rent)\s+(?:\w+\s+){0,3}(?:shall|may|will) not (?:be )?"
        r"(?:increase|exceed|raise)", r"price (?:cap|freeze)", r"ไม่เพิ่มขึ้นเกิน"],
    "Minimum Commitment": [r"minimum (?:annual )?(?:purchases?|commitment|order|volume|spend)",
                           r"commits? to (?:purchase|buy|minimum)"],
    "Volume Restriction": [r"(?:maximum|not exceed|no more than)[^.]{0,40}(?:volume|units|"
                           r"quantit\w+|users)"],
    "IP Ownership Assignment": [
        r"assigns?\s+to\s+[^.]{0,40}(?:all\s+)?right,? title,? and interest",
        r"(?:shall )?owns? all (?:deliverables|work product|intellectual property)",
        r"ownership of[^.]{0,40}(?:deliverables|work product|inventions)"],
    "Joint IP Ownership": [r"jointly? own\w*", r"joint ownership"],
    "License Grant": [r"(?:hereby )?grants?[^.]{0,80}\blicen[cs]e\b", r"hereby licenses",
                      r"อนุญาตให้ใช้สิทธิ"],
    "Non-Transferable License": [r"non-?transferable", r"non-?sublicensable"],
    "Affiliate License-Licensor": [r"licensor(?:'s|’s)? affiliates", r"affiliates of licensor"],
    "Affiliate License-Licensee": [r"licensee(?:'s|’s)? affiliates[^.]{0,60}(?:use|licen)",
                                   r"licen[cs]e[^.]{0,80}(?:to|for) (?:its|licensee's) "
                                   r"affiliates"],
    "Unlimited/All-You-Can-Eat-License": [r"unlimited (?:number of )?(?:users|copies|licen)",
                                          r"all[- ]you[- ]can[- ]eat", r"enterprise[- ]wide"],
    "Irrevocable or Perpetual License": [r"(?:irrevocable|perpetual)[^.]{0,60}licen[cs]e"],
    "Source Code Escrow": [r"source code[^.]{0,60}escrow", r"escrow agent"],
    "Post-Termination Services": [
        r"(?:on|upon|after|following)\s+(?:the\s+)?(?:termination|expiration)[^.]{0,120}"
        r"(?:transition|assistance|continue to (?:provide|perform))", r"transition assistance"],
    "Audit Rights": [r"\baudit\w*", r"inspect[^.]{0,40}(?:books|records)",
                     r"ตรวจสอบ(?:บัญชี|เอกสาร)"],
    "Uncapped Liability": [r"unlimited liability", r"liability[^.]{0,40}(?:shall|will) not be "
                           r"(?:limited|capped)", r"uncapped"],
    "Cap on Liability": [r"liability[^.]{0,160}?(?:shall|will|does) not\s+exceed",
                         r"liability[^.]{0,80}?(?:shall|will) be limited to",
                         r"(?:maximum|aggregate) liability", r"ความรับผิด[^\n]{0,60}ไม่เกิน"],
    "Liquidated Damages": [r"liquidated damages", r"เบี้ยปรับ"],
    "Warranty Duration": [r"warrant\w*[^.]{0,160}(?:for a period of|period of|for)\s+"
                          r"(?:[a-z\-]+\s+)?\(?\d+\)?\s+(?:days|months|years)",
                          r"warranty period"],
    "Insurance": [r"\binsurance\b", r"ประกันภัย"],
    "Covenant Not to Sue": [r"covenant not to sue", r"agrees? not to (?:sue|bring any "
                            r"(?:action|claim))"],
    "Third Party Beneficiary": [r"third[- ]party beneficiar\w+", r"บุคคลภายนอกผู้รับประโยชน์"],
}
# a sentence that matches and also says this does not count (e.g. "no third party beneficiary")
CLAUSE_NEGATIONS: dict[str, str] = {
    "Third Party Beneficiary": r"\bno (?:person|third|other)|\bnot (?:intended|a) third|"
                               r"nothing in this",
    "Exclusivity": r"non-exclusive|nonexclusive",
}
# categories the extracted fields answer: category -> field name
FIELD_CATEGORIES = {"Document Name": "title", "Parties": "parties",
                    "Agreement Date": "agreement_date", "Effective Date": "effective_date",
                    "Expiration Date": "expiration_date"}


@lru_cache
def cuad_categories() -> list[str]:
    """The 41 CUAD category names, in the dataset's order."""
    lines = CATEGORIES_FILE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@lru_cache
def _compiled(category: str) -> list[re.Pattern[str]]:
    return [re.compile(p, re.IGNORECASE) for p in CLAUSE_PATTERNS.get(category, [])]


def inventory_clauses(pages: Pages, fields: dict[str, Any]) -> list[dict[str, Any]]:
    """Every CUAD category, present or absent, with up to three cited sentences and the pages
    they are on."""
    inventory = []
    for category in cuad_categories():
        citations: list[dict[str, Any]] = []
        if category in FIELD_CATEGORIES:
            field = fields.get(FIELD_CATEGORIES[category]) or {}
            items = field if isinstance(field, list) else [field]
            citations = [c for item in items for c in item.get("citations", [])]
        else:
            negation = CLAUSE_NEGATIONS.get(category)
            seen: set[tuple[int, int]] = set()
            for pattern in _compiled(category):
                accept = (lambda s, n=negation: not re.search(n, s, re.IGNORECASE)) \
                    if negation else None
                for number, text, start, end in iter_matches(pages, pattern, accept):
                    if (number, start) not in seen:
                        seen.add((number, start))
                        citations.append(citation(number, text, start, end))
                    if len(citations) >= SPANS_PER_CLAUSE:
                        break
                if len(citations) >= SPANS_PER_CLAUSE:
                    break
        citations = citations[:SPANS_PER_CLAUSE]
        inventory.append({"category": category, "present": bool(citations),
                          "pages": sorted({c["page"] for c in citations}),
                          "citations": citations})
    return inventory


def risk_flags(fields: dict[str, Any], clauses: list[dict[str, Any]],
               doc_type: str) -> list[dict[str, Any]]:
    """Rules a reviewer applies first, each with a one-line reason and the passages behind it."""
    present = {c["category"]: c for c in clauses if c["present"]}
    flags: list[dict[str, Any]] = []

    def flag(code: str, severity: str, reason: str, cites: list[dict[str, Any]]) -> None:
        flags.append({"code": code, "severity": severity, "reason": reason,
                      "citations": [dict(c) for c in cites[:2]]})

    if "Uncapped Liability" in present:
        flag("uncapped_liability", "high", "liability is expressly not limited",
             present["Uncapped Liability"]["citations"])
    elif "Cap on Liability" not in present and doc_type in ("contract", "lease"):
        flag("no_liability_cap", "medium", "no clause limits either party's liability", [])
    renewal = (fields.get("renewal") or {}).get("value") or {}
    if renewal.get("automatic"):
        notice = renewal.get("notice")
        window = f"{notice['amount']} days' notice" if notice else "no stated notice period"
        flag("auto_renewal", "high" if notice and notice["amount"] >= 60 else "medium",
             f"renews automatically unless stopped with {window} before the term ends",
             fields["renewal"]["citations"])
    rights = (fields.get("termination_rights") or {}).get("value") or []
    parties = {r["party"].lower() for r in rights if r.get("basis") != "breach"}
    if len(parties) == 1 and not any(p.startswith(("either", "each", "คู่สัญญา"))
                                     for p in parties):
        only = next(iter(parties))
        flag("unilateral_termination", "medium",
             f"only {only} may terminate other than for breach",
             fields["termination_rights"]["citations"])
    for right in rights:
        notice = right.get("notice")
        if right.get("basis") == "convenience" and notice and notice["amount"] < 30:
            flag("short_termination_notice", "medium",
                 f"{right['party']} may terminate for convenience on only {notice['amount']} "
                 "days' notice", fields["termination_rights"]["citations"])
    if "Non-Compete" in present:
        flag("non_compete", "low", "a party is restricted from competing",
             present["Non-Compete"]["citations"])
    if "Liquidated Damages" in present:
        flag("liquidated_damages", "medium", "fixed damages are payable on breach",
             present["Liquidated Damages"]["citations"])
    return flags
