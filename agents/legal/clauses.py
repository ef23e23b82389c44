"""The clause inventory over the 41 CUAD categories and the risk flags drawn from it. Each
category has English and Thai patterns; a category is present when a pattern matches, with the
page(s) and the sentence spans that say so, and absent otherwise. The five categories that are
fields (document name, parties, dates) are answered from the extracted fields. Risk flags are
plain rules over fields and clauses, each with a one-line reason and its citations."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from agents.legal.clause_model import FIELD_CATEGORIES as FIELD_ONLY
from agents.legal.clause_model import ClauseModel, shipped_model
from agents.legal.passages import Passage, split_passages
from agents.legal.tools import Pages, citation, iter_matches

CATEGORIES_FILE = Path(__file__).with_name("cuad_categories.txt")
SPANS_PER_CLAUSE = 3

# a term that renews, is extended or runs on indefinitely; a notice period ("sixty (60) days'")
_RENEWS = r"(?:renew|extend|extension|indefinitely|tacit)"
_DURATION = (r"(?:\(?\d+\)?|one|two|three|four|five|six|nine|twelve|thirty|sixty|ninety|"
             r"[a-z]+-[a-z]+)\s*(?:\(\d+\)\s*)?(?:calendar |business )?(?:days?|months?)['’]?")
# category -> patterns (English, Thai); a clause is the sentence around a match
CLAUSE_PATTERNS: dict[str, list[str]] = {
    "Renewal Term": [r"renew\w* (?:automatically|for (?:successive|an additional|a further))",
                     r"(?:renew|extend)\w*\s+(?:automatically\s+)?for\s+(?:an?\s+)?(?:additional|"
                     r"successive|further|subsequent)", r"renewal terms?", r"option to (?:renew|"
                                                                           r"extend)",
                     r"renewed (?:tacitly|automatically)", r"ต่อสัญญา", r"ต่ออายุสัญญา"],
    "Notice Period to Terminate Renewal": [
        r"notice of non-renewal", r"non-renewal[^.]{0,80}notice|notice[^.]{0,120}non-renewal",
        r"(?:renew|extend)\w*[^.]{0,160}unless[^.]{0,120}(?:notice|notif)",
        # a term that renews or runs on until ended by notice, and how long that notice is
        rf"{_RENEWS}[^.]{{0,250}}?{_DURATION}[^.]{{0,40}}(?:notice|notif)",
        rf"{_RENEWS}[^.]{{0,250}}?(?:notice|notif)\w*[^.]{{0,120}}?{_DURATION}[^.]{{0,30}}"
        r"(?:prior|before|in advance)",
        r"notice[^.]{0,80}(?:prior to|before) the (?:end|expir\w*) of the (?:then[- ]current|ini"
        r"tial|"
        r"renewal) term",
        r"แจ้ง[^\n]{0,60}ล่วงหน้า[^\n]{0,40}ก่อนวันสิ้นสุดสัญญา"],
    "Governing Law": [r"governed by[^.]{0,30}laws? of", r"in accordance with the laws? of",
                      r"กฎหมายที่ใช้บังคับ", r"ภายใต้บังคับแห่งกฎหมาย"],
    "Most Favored Nation": [r"most favou?red (?:nation|customer)",
                            r"(?:no )?less favou?rable (?:terms|prices?|pricing)"],
    "Competitive Restriction Exception": [
        r"(?:except|exception|notwithstanding|provided(?:, however,)? that|does not (?:prevent|"
        r"restrict|prohibit|apply))[^.]{0,120}(?:non-compet|compet\w+ (?:restriction|business|"
        r"products?)|exclusivity|restrictive covenant)"],
    "Non-Compete": [r"non-?compet\w*", r"shall not[^.]{0,120}\bcompet(?:e|es|ing|itive)\b",
                    r"competes? directly", r"restrictive covenants?",
                    r"(?:shall|will) not[^.]{0,80}(?:sell|distribute|market|develop|commerciali["
                    r"sz]e)"
                    r"[^.]{0,80}(?:competing|competitive|similar) products?",
                    r"ห้ามประกอบกิจการแข่งขัน"],
    "Exclusivity": [r"(?<!non-)(?<!non)\bexclusive\s+(?:distribut\w+|licen[cs]\w*|rights?|dealing|"
                    r"suppl\w+|provider|basis|territor\w*|agen\w+|resell\w*|appointment|partner|"
                    r"customer|source|vendor)",
                    r"\bexclusivity\b(?!\s+(?:of remed))",
                    r"(?:shall|will) not (?:appoint|grant|authori[sz]e)[^.]{0,60}(?:any )?(?:oth"
                    r"er|third)",
                    r"(?:purchase|buy|obtain|source)[^.]{0,60}exclusively from", r"แต่เพียงผู้เด"
                                                                                 r"ียว"],
    "No-Solicit of Customers": [r"solicit\w*[^.]{0,80}\b(?:customers|clients)\b"],
    "No-Solicit of Employees": [r"solicit\w*[^.]{0,60}(?:for employment|employees?|personnel)",
                                r"(?:hire|employ)[^.]{0,40}employees? of the other"],
    "Non-Disparagement": [r"disparag\w+"],
    "Termination for Convenience": [
        r"(?:may|can|is entitled to|right to)\s+(?:\w+\s+){0,3}terminat\w*[^.]{0,100}"
        r"(?:for (?:its |their )?convenience|for any reason|without cause)",
        r"(?:for convenience|without cause)[^.]{0,60}terminat", r"บอกเลิกสัญญาก่อนครบกำหนด"],
    "Rofr/Rofo/Rofn": [r"right of first (?:refusal|offer|negotiation)",
                       # the first right to an asset the other party gives up: a patent it
                       # decides not to file, prosecute or maintain (as annotators mark it)
                       r"(?:abandon|(?:decides?|elects?|intends?) not to (?:\w+ )?(?:prepare|"
                       r"file|prosecut|maint|pursue))[\s\S]{0,600}?(?:shall (?:thereupon )?have "
                       r"the (?:first )?(?:right|option)|may elect to (?:assume|continue|take "
                       r"over|prosecut|file|maint))",
                       r"first (?:right|option|opportunity) to (?:negotiat|purchase|acquire|offer|"
                       r"bid|match|license)", r"(?:shall|will) first offer",
                       r"before (?:offering|selling|granting|licensing)[^.]{0,100}third part",
                       r"สิทธิ(?:ใน)?การเช่าก่อน"],
    "Change of Control": [r"change (?:of|in) (?:control|ownership)",
                          r"(?:merger|consolidation|acquisition|sale of (?:all or )?substantiall"
                          r"y all)"
                          r"[^.]{0,100}(?:assign|terminat|deemed|consent)",
                          r"controlling interest"],
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
    "Minimum Commitment": [r"minimum (?:annual )?(?:purchases?|commitment|order|volume|spend|"
                           r"guarantee|royalt\w+|quantit\w+|payments?|fees?|revenue|amount)",
                           r"commits? to (?:purchase|buy|minimum)",
                           r"(?:shall|will|agrees? to) (?:purchase|order|buy|pay)[^.]{0,30}(?:at"
                           r" least|"
                           r"a minimum|not less than)"],
    "Volume Restriction": [r"(?:maximum|not (?:to )?exceed|no more than|up to|in excess of)[^.]{"
                           r"0,40}"
                           r"(?:volume|units|quantit\w+|users|copies|seats|capacity|orders?)"],
    "IP Ownership Assignment": [
        r"assigns?\s+to\s+[^.]{0,40}(?:all\s+)?right,? title,? and interest",
        r"(?:shall )?owns? all (?:deliverables|work product|intellectual property)",
        r"ownership of[^.]{0,40}(?:deliverables|work product|inventions)"],
    "Joint IP Ownership": [r"jointly? own\w*", r"joint ownership"],
    "License Grant": [r"(?:hereby )?grants?[^.]{0,80}\blicen[cs]e\b", r"hereby licenses",
                      r"อนุญาตให้ใช้สิทธิ"],
    "Non-Transferable License": [r"non-?transferable", r"non-?sublicensable"],
    "Affiliate License-Licensor": [r"licensor(?:'s|’s)? affiliates", r"affiliates of licensor",
                                   r"(?:owned|controlled) by [A-Z]\w+ (?:or|and) (?:any of )?its "
                                   r"affiliates"],
    "Affiliate License-Licensee": [r"licensee(?:'s|’s)? affiliates[^.]{0,60}(?:use|licen)",
                                   r"licen[cs]e[^.]{0,80}(?:to|for) (?:its|licensee's) "
                                   r"affiliates",
                                   r"(?:grants?|licen[cs]e|sublicens\w+|right)[^.]{0,60}to [A-Z]"
                                   r"[\w&]+ "
                                   r"and its affiliates",
                                   r"sublicens\w+[^.]{0,60}(?:to )?(?:its|their) affiliates"],
    "Unlimited/All-You-Can-Eat-License": [r"unlimited (?:number of )?(?:users|copies|licen)",
                                          r"all[- ]you[- ]can[- ]eat", r"enterprise[- ]wide"],
    "Irrevocable or Perpetual License": [r"(?:irrevocable|perpetual)[^.]{0,60}licen[cs]e"],
    "Source Code Escrow": [r"source code[^.]{0,60}escrow", r"escrow agent"],
    "Post-Termination Services": [
        r"(?:on|upon|after|following)\s+(?:the\s+)?(?:termination|expiration|expiry)[^.]{0,150}"
        r"(?:transition|assistance|continue to (?:provide|perform|sell)|sell[- ]off|wind[- ]down|"
        r"shall continue|remain in (?:full )?(?:force|effect))",
        r"transition (?:assistance|services|period)", r"sell[- ]off period",
        r"for (?:a period of )?[^.]{0,30}(?:years?|months?) (?:thereafter|after (?:the )?"
        r"(?:termination|expiration))"],
    "Audit Rights": [r"audit rights?", r"(?:right to|may|shall permit|permit|entitled to)[^.]{0,80}"
                     r"(?:audit|inspect|examine)", r"(?:books|records)[^.]{0,100}(?:audit|inspec"
                                                   r"t|examin)",
                     r"(?:audit|inspect|examin)\w*[^.]{0,80}(?:books|records|facilities|premises)",
                     r"ตรวจสอบ(?:บัญชี|เอกสาร)"],
    "Uncapped Liability": [r"unlimited liability", r"liability[^.]{0,40}(?:shall|will) not be "
                           r"(?:limited|capped)", r"uncapped",
                           r"(?:limitations?|exclusions?) (?:of|on) (?:liability|damages)[^.]{0,"
                           r"100}"
                           r"(?:shall|will) not apply",
                           r"(?:shall|will) not (?:limit|restrict)[^.]{0,80}(?:liability|indemnif)",
                           r"except (?:for|in (?:cases|the case) of|with respect to)[^.]{0,100}"
                           r"(?:gross negligence|will?ful|fraud|indemnif)[^.]{0,200}(?:liable|"
                           r"liability)"],
    "Cap on Liability": [r"liability[^.]{0,160}?(?:shall|will|does) not\s+exceed",
                         r"liability[^.]{0,80}?(?:shall|will) be limited to",
                         r"(?:maximum|aggregate|total|cumulative) liability",
                         r"in no event (?:shall|will)[^.]{0,80}(?:be )?liable",
                         r"(?:neither party|no party)[^.]{0,40}(?:shall|will) be liable[^.]{0,100}"
                         r"(?:indirect|consequential|special|incidental|punitive|lost profits)",
                         r"sole (?:and exclusive )?remedy|exclusive liability",
                         r"ความรับผิด[^\n]{0,60}ไม่เกิน"],
    "Liquidated Damages": [r"liquidated damages", r"เบี้ยปรับ"],
    "Warranty Duration": [r"warrant\w*[^.]{0,160}(?:for a period of|period of|for)\s+"
                          r"(?:[a-z\-]+\s+)?\(?\d+\)?\s+(?:days|months|years)",
                          r"warranty period"],
    "Insurance": [r"\binsurance\b", r"ประกันภัย"],
    "Covenant Not to Sue": [r"covenants? not to sue", r"agrees? not to (?:sue|bring any "
                            r"(?:action|claim))",
                            r"(?:shall|will) not[^.]{0,80}(?:contest|challenge|dispute|attack)[^"
                            r".]{0,80}"
                            r"(?:validity|ownership|enforceability|rights?)",
                            r"adversely affect[^.]{0,30}validity"],
    "Third Party Beneficiary": [r"third[- ]party beneficiar\w+", r"บุคคลภายนอกผู้รับประโยชน์"],
}
# a sentence that matches and also says this does not count (e.g. "no third party beneficiary")
CLAUSE_NEGATIONS: dict[str, str] = {
    "Third Party Beneficiary": r"\bno (?:person|third|other)|\bnot (?:intended|a) third|"
                               r"nothing in this",
    "Exclusivity": r"non-exclusive|nonexclusive",
    "Notice Period to Terminate Renewal": r"insurance|polic(?:y|ies)|coverage",
    "Termination for Convenience": r"may not be terminated|(?:shall|will) not affect|"
                                   r"without prejudice",
}
# categories the extracted fields answer: category -> field name (an expiration date is also
# judged from the passages that state the term)
FIELD_CATEGORIES = {**FIELD_ONLY, "Expiration Date": "expiration_date"}


@lru_cache
def cuad_categories() -> list[str]:
    """The 41 CUAD category names, in the dataset's order."""
    lines = CATEGORIES_FILE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@lru_cache
def _compiled(category: str) -> list[re.Pattern[str]]:
    return [re.compile(p, re.IGNORECASE) for p in CLAUSE_PATTERNS.get(category, [])]


_CONTENTS_ENTRY = re.compile(r"[A-Za-z]\s*\.{0,40}\s*\d{1,3}\s+(?:\d+\.\d+|section|article)",
                             re.IGNORECASE)
MIN_RULE_WORDS = 6


def _is_heading(text: str) -> bool:
    """A short line whose longer words are all capitalised: a section title, not a clause."""
    words = [w for w in re.findall(r"[^\W\d_][\w'’-]*", text) if len(w) > 3]
    return len(text.split()) <= 12 and bool(words) and all(w[0].isupper() for w in words)


def rule_hits(texts: list[str]) -> list[set[str]]:
    """For each text, the categories whose rule patterns match it (negations applied). A
    heading alone ("10.10 Third-Party Beneficiaries.") or a table-of-contents line says nothing
    about what the contract provides, so neither counts."""
    out: list[set[str]] = []
    for text in texts:
        hits: set[str] = set()
        if len(text.split()) < MIN_RULE_WORDS or _is_heading(text) or \
                len(_CONTENTS_ENTRY.findall(text)) >= 2:
            out.append(hits)
            continue
        for category in CLAUSE_PATTERNS:
            negation = CLAUSE_NEGATIONS.get(category)
            if any(p.search(text) for p in _compiled(category)) and not (
                    negation and re.search(negation, text, re.IGNORECASE)):
                hits.add(category)
        out.append(hits)
    return out


@dataclass(frozen=True)
class Decision:
    """Whether a category is present, the passages that say so (best first) and who decided:
    the learned classifier or, where it has no model for the category, the rules."""

    present: bool
    passages: list[int]
    source: str
    score: float | None = None
    candidates: tuple[int, ...] = ()


def decide_categories(model: ClauseModel | None, passages: list[Passage],
                      hits: list[set[str]]) -> dict[str, Decision]:
    """Every category that is not a field: the classifier's decision where it learned the
    category, else present when a rule matches a passage."""
    scores = model.scores(passages, hits) if model else {}
    decided: dict[str, Decision] = {}
    for category in cuad_categories():
        if category in FIELD_ONLY:
            continue
        learned = model.categories.get(category) if model else None
        if learned is not None and learned.threshold is not None and len(passages):
            own = scores[category]
            order = [int(i) for i in np.argsort(-own)[:SPANS_PER_CLAUSE]]
            chosen = [i for i in order if own[i] >= learned.threshold]
            if not chosen and learned.trust_rules:
                chosen = [i for i, h in enumerate(hits) if category in h][:SPANS_PER_CLAUSE]
            decided[category] = Decision(bool(chosen), chosen, "classifier",
                                         round(float(own[order[0]]), 3), tuple(order))
        else:
            matched = [i for i, h in enumerate(hits) if category in h][:SPANS_PER_CLAUSE]
            decided[category] = Decision(bool(matched), matched, "rules",
                                         candidates=tuple(matched))
    return decided


def review_clauses(pages: Pages, fields: dict[str, Any], language: str = "en",
                   model: ClauseModel | None = None
                   ) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """The clause inventory, and for every category that is not a field the passages most
    likely to be such a clause (cited, best first, whether or not they passed), for a model to
    judge. English contracts are judged by the learned classifier (``model``, by default the
    shipped one); other languages by the rules, which speak Thai as well."""
    if language == "en":
        model = model or shipped_model()
        passages = split_passages(pages)
        hits = rule_hits([p.text for p in passages])
        decided = decide_categories(model, passages, hits)
    else:
        decided = {}
    inventory = []
    for category in cuad_categories():
        citations: list[dict[str, Any]] = []
        source, score = "rules", None
        if category in FIELD_CATEGORIES:
            field = fields.get(FIELD_CATEGORIES[category]) or {}
            items = field if isinstance(field, list) else [field]
            citations = [c for item in items if item.get("value") is not None
                         for c in item.get("citations", [])]
            source = "fields"
        if category in decided and not citations:
            decision = decided[category]
            citations = [citation(passages[i].page, _page_text(pages, passages[i].page),
                                  passages[i].start, passages[i].end)
                         for i in decision.passages if decision.present]
            source, score = decision.source, decision.score
        elif category not in FIELD_CATEGORIES:
            citations = _rule_citations(pages, category)
        citations = citations[:SPANS_PER_CLAUSE]
        entry: dict[str, Any] = {"category": category, "present": bool(citations),
                                 "pages": sorted({c["page"] for c in citations}),
                                 "citations": citations, "source": source}
        if score is not None:
            entry["score"] = score
        inventory.append(entry)
    candidates = {category: [citation(passages[i].page, _page_text(pages, passages[i].page),
                                      passages[i].start, passages[i].end)
                             for i in decision.candidates]
                  for category, decision in decided.items()}
    if not decided:  # the rules' sentences are the candidates
        candidates = {e["category"]: e["citations"] for e in inventory
                      if e["source"] == "rules"}
    return inventory, candidates


def _page_text(pages: Pages, number: int) -> str:
    return next(text for page, text in pages if page == number)


def _rule_citations(pages: Pages, category: str) -> list[dict[str, Any]]:
    negation = CLAUSE_NEGATIONS.get(category)
    citations: list[dict[str, Any]] = []
    seen: set[tuple[int, int]] = set()
    for pattern in _compiled(category):
        accept = (lambda s, n=negation: not re.search(n, s, re.IGNORECASE)) \
            if negation else None
        for number, text, start, end in iter_matches(pages, pattern, accept):
            if (number, start) not in seen:
                seen.add((number, start))
                citations.append(citation(number, text, start, end))
            if len(citations) >= SPANS_PER_CLAUSE:
                return citations
    return citations


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
