"""Deterministic triage from headings and keywords, in English, Thai, Chinese and Japanese.
It is the baseline the LLM triage node confirms or overrides, and the whole answer when no model
is reachable. Every decision carries the passages that support it, as page + character spans."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DOC_TYPES = ("contract", "lease", "nda", "financial_report", "other")

# (pattern, weight); weights favour titles and phrases that only one kind of document uses
KEYWORDS: dict[str, list[tuple[str, float]]] = {
    "lease": [
        (r"\blease agreement\b", 6), (r"\blessor\b", 3), (r"\blessee\b", 3),
        (r"\blandlord\b", 2), (r"\btenant\b", 1), (r"\bpremises\b", 2), (r"\brent\b", 1),
        (r"สัญญาเช่า", 6), (r"ผู้ให้เช่า", 3), (r"ผู้เช่า", 2), (r"ค่าเช่า", 2),
    ],
    "nda": [
        (r"\bnon-?disclosure agreement\b", 8), (r"\bconfidentiality agreement\b", 8),
        (r"\bconfidential information\b", 0.5), (r"สัญญาไม่เปิดเผยข้อมูล", 8),
        (r"ข้อมูลที่เป็นความลับ", 0.5),
    ],
    "financial_report": [
        (r"\bbalance sheets?\b", 4), (r"\bstatements? of financial position\b", 4),
        (r"\bincome statements?\b", 4), (r"\bstatements? of (?:comprehensive )?income\b", 4),
        (r"\bstatements? of cash flows?\b", 4), (r"\bstatements? of changes in equity\b", 4),
        (r"\btotal assets\b", 3), (r"\btotal liabilities\b", 3), (r"\bnet income\b", 2),
        (r"\bannual report\b", 4), (r"\bquarterly report\b", 4), (r"\bform 10-[kq]\b", 6),
        # an SEC filing's cover page, whatever exhibits (indentures, agreements) it carries
        (r"\bform (?:8-k|20-f|40-f|6-k)\b", 6), (r"\bcurrent report\b", 4),
        (r"pursuant to section 13 or 15\s*\(d\)", 6), (r"\bcommission file number\b", 4),
        (r"\bsecurities exchange act of 1934\b", 3),
        (r"\b(?:reports?|announces?) (?:\w+ )?(?:quarter|fiscal year|full[- ]year)\b[^.]{0,40}"
         r"results\b", 4),
        (r"งบแสดงฐานะการเงิน", 5), (r"งบกำไรขาดทุน", 5), (r"งบกระแสเงินสด", 5),
        (r"รวมสินทรัพย์", 3), (r"资产负债表", 5), (r"利润表", 5), (r"现金流量表", 5),
        (r"季度报告", 5), (r"貸借対照表", 5), (r"株主資本等変動計算書", 5), (r"株主資本", 3),
        (r"連結", 1),
    ],
    "contract": [
        (r"\bagreement\b", 2), (r"\bcontract\b", 2), (r"\bparties\b", 1), (r"\bwhereas\b", 2),
        (r"\bgoverning law\b", 2), (r"\bhereinafter\b", 2), (r"\bterminat(?:e|ion)\b", 1),
        (r"\bcontractor\b", 2), (r"สัญญา", 2), (r"คู่สัญญา", 2), (r"合同", 3), (r"契約", 3),
    ],
}

# how much of the document to read: the first pages carry the title and the parties
PAGES_READ = 6
# a specialised kind (lease, NDA) wins over "contract" once it has this much support
SPECIALISED_MIN_SCORE = 6.0
OTHER_MAX_SCORE = 4.0

_COMPILED = {kind: [(re.compile(p, re.IGNORECASE), w) for p, w in pats]
             for kind, pats in KEYWORDS.items()}


@dataclass(frozen=True)
class Evidence:
    page: int
    start: int
    end: int
    text: str


@dataclass
class TriageResult:
    doc_type: str
    scores: dict[str, float]
    evidence: list[Evidence] = field(default_factory=list)


def classify_by_keywords(pages: list[tuple[int, str]]) -> TriageResult:
    """Scores every kind over the first pages (matches on page 1 count double) and picks the
    best, preferring a lease or NDA over a plain contract when either is well supported."""
    scores = dict.fromkeys(KEYWORDS, 0.0)
    evidence: dict[str, list[Evidence]] = {kind: [] for kind in KEYWORDS}
    for number, text in pages[:PAGES_READ]:
        boost = 2.0 if number == 1 else 1.0
        for kind, patterns in _COMPILED.items():
            for pattern, weight in patterns:
                matches = list(pattern.finditer(text))
                if not matches:
                    continue
                # diminishing returns: a word repeated on every line is still one signal
                scores[kind] += weight * boost * min(len(matches), 3) ** 0.5
                first = matches[0]
                evidence[kind].append(Evidence(number, first.start(), first.end(),
                                               first.group(0)))
    best = max(scores, key=lambda kind: scores[kind])
    for specialised in ("lease", "nda"):
        if scores[specialised] >= SPECIALISED_MIN_SCORE and best == "contract":
            best = specialised
    if scores[best] < OTHER_MAX_SCORE:
        return TriageResult("other", scores, [])
    ranked = sorted(evidence[best], key=lambda e: (e.page, e.start))
    return TriageResult(best, scores, ranked[:5])
