"""The legal agent's deterministic tools: candidate passages for each key field of a contract,
lease or NDA, in English and Thai. Each finder returns ranked candidates, every one a value plus
the page and character span it was read from, so the model only chooses among grounded options
and the verifier can re-read each span. Nothing here calls a model."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

from agents.verify.values import Found, find_amounts, find_durations

Pages = list[tuple[int, str]]
Candidate = dict[str, Any]

# defined-term roles that name a party to the agreement
PARTY_ROLES = (
    "landlord", "tenant", "lessor", "lessee", "provider", "customer", "client", "supplier",
    "vendor", "buyer", "seller", "purchaser", "licensor", "licensee", "company", "contractor",
    "consultant", "employer", "employee", "discloser", "recipient", "disclosing party",
    "receiving party", "distributor", "manufacturer", "borrower", "lender", "service provider",
)
THAI_ROLES = ("ผู้ให้เช่า", "ผู้เช่า", "ผู้ว่าจ้าง", "ผู้รับจ้าง", "ผู้ซื้อ", "ผู้ขาย", "ผู้ให้บริการ",
              "ผู้รับบริการ", "ผู้ให้กู้", "ผู้กู้")
_QUOTE_OPEN, _QUOTE_CLOSE = "[\"“”'‘]", "[\"“”'’]"
_ROLE_TERM = re.compile(rf"\(\s*(?:the\s+)?{_QUOTE_OPEN}(?P<role>[A-Za-z][A-Za-z ]{{2,30}})"
                        rf"{_QUOTE_CLOSE}\s*\)")
_THAI_ROLE_TERM = re.compile(rf"เรียกว่า\s*{_QUOTE_OPEN}(?P<role>{'|'.join(THAI_ROLES)})"
                             rf"{_QUOTE_CLOSE}")
_NAME_LEAD = re.compile(r"(?:\bbetween\b|\band\b)[,:]?\s*",
                        re.IGNORECASE)
_THAI_NAME_LEAD = re.compile(r"(?:ระหว่าง|กับ)\s*")
_THAI_NAME_END = re.compile(r"\s+(?:อยู่บ้านเลขที่|อยู่เลขที่|สำนักงานตั้งอยู่|โดย|ซึ่ง)")
_NAME_END = re.compile(r",\s+(?:a|an)\s|\s+\(|,\s+(?:with|having|whose|located|organized)\s")

AMOUNT_KINDS: list[tuple[str, str]] = [
    ("security_deposit", r"security deposit|deposit|เงินประกัน(?!ภัย)|มัดจำ"),
    ("late_fee", r"late (?:fee|charge)|ค่าปรับ|past due"),
    ("insurance", r"insurance|ประกันภัย|coverage"),
    ("rent", r"\brent\b|ค่าเช่า"),
    ("contract_value", r"amount payable|contract (?:value|price|sum)|total (?:price|value)|"
                       r"มูลค่า(?:สัญญา|รวม)"),
    ("fee", r"\bfees?\b|ค่าบริการ|ค่าจ้าง"),
    ("minimum_commitment", r"minimum (?:annual )?(?:purchase|commitment)"),
]
_AMOUNT_KINDS = [(kind, re.compile(p, re.IGNORECASE)) for kind, p in AMOUNT_KINDS]


def citation(page: int, text: str, start: int, end: int) -> dict[str, Any]:
    """The provenance record every stored value carries: the page and the exact span."""
    return {"page": page, "start": start, "end": end, "text": text[start:end]}


def clean(text: str) -> str:
    """A value as a person writes it: one space between words, NFC, no stray punctuation."""
    text = unicodedata.normalize("NFC", text)
    return re.sub(r"\s+", " ", text).strip(" ,;:\n\"“”")


def sentence_bounds(text: str, start: int, end: int, limit: int = 400) -> tuple[int, int]:
    """The sentence (or table row) around ``start:end``, at most ``limit`` characters each way."""
    left = max(text.rfind(". ", max(0, start - limit), start), text.rfind(".\n", 0, start),
               text.rfind("\n\n", 0, start), start - limit)
    left = max(0, left + 2 if left > start - limit else start - limit)
    stops = [i for i in (text.find(". ", end), text.find(".\n", end)) if i != -1]
    right = min([*stops, len(text) - 1, end + limit]) + 1
    while left < start and text[left].isspace():
        left += 1
    return left, max(right, end)


def candidate(value: Any, page: int, text: str, start: int, end: int,
              score: float) -> Candidate:
    return {"value": value, "score": score, "citations": [citation(page, text, start, end)]}


def ranked(candidates: list[Candidate], limit: int = 5) -> list[Candidate]:
    """Best first; one candidate per distinct value (the best supported one)."""
    best: dict[str, Candidate] = {}
    for item in candidates:
        key = repr(item["value"])
        if key not in best or item["score"] > best[key]["score"]:
            best[key] = item
    return sorted(best.values(), key=lambda c: (-c["score"], c["citations"][0]["page"],
                                                c["citations"][0]["start"]))[:limit]


def find_title(pages: Pages) -> list[Candidate]:
    """The document's title: a short heading line on page 1 that names an agreement."""
    if not pages:
        return []
    number, text = pages[0]
    out: list[Candidate] = []
    offset = 0
    for index, line in enumerate(text.split("\n")):
        stripped = line.strip()
        score = 0.0
        if re.search(r"\b(agreement|lease|contract|deed)\b", stripped, re.IGNORECASE):
            score += 3 + (2 if stripped.isupper() else 0)
        if re.match(r"^สัญญา", stripped):
            score += 5
        if score and 3 <= len(stripped) <= 90 and not stripped.endswith((",", ";")):
            score += max(0.0, 2 - index * 0.1)
            start = offset + line.index(stripped)
            out.append(candidate(clean(stripped), number, text, start, start + len(stripped),
                                 score))
        offset += len(line) + 1
    return ranked(out)


def find_parties(pages: Pages) -> list[Candidate]:
    """Parties with their roles, from defined terms ('... Inc., a Delaware corporation
    ("Tenant")'), Thai 'ซึ่งต่อไปในสัญญานี้เรียกว่า "ผู้เช่า"' and disclosure forms ('Name: ...'
    under 'the contractor'). Value: ``{"name", "role"}``."""
    out: list[Candidate] = []
    for number, text in pages[:4]:
        for match in _ROLE_TERM.finditer(text):
            role = match.group("role").strip()
            if role.lower() not in PARTY_ROLES:
                continue
            found = _name_before(text, match.start(), _NAME_LEAD, _NAME_END)
            if found:
                start, end = found
                score = 4.0 if role.istitle() else 3.0
                out.append(candidate({"name": clean(text[start:end]), "role": role.title()},
                                     number, text, start, match.end(), score))
        for match in _THAI_ROLE_TERM.finditer(text):
            found = _name_before(text, match.start(), _THAI_NAME_LEAD, _THAI_NAME_END)
            if found:
                start, end = found
                out.append(candidate({"name": clean(text[start:end]),
                                      "role": match.group("role")},
                                     number, text, start, match.end(), 4.0))
        for match in re.finditer(r"(?:of|the)\s+(?P<role>contractor|supplier|vendor|"
                                 r"consultant)\s*:?\s*\n\s*Name:\s*(?P<name>[^\n]+)",
                                 text, re.IGNORECASE):
            out.append(candidate({"name": clean(match.group("name")),
                                  "role": match.group("role").title()},
                                 number, text, match.start("name"), match.end("name"), 4.0))
    best: dict[str, Candidate] = {}
    for item in out:  # the first, best-scored mention of each role
        role = item["value"]["role"].lower()
        if role not in best or item["score"] > best[role]["score"]:
            best[role] = item
    return list(best.values())


def _name_before(text: str, end: int, lead: re.Pattern[str],
                 stop: re.Pattern[str]) -> tuple[int, int] | None:
    window_start = max(0, end - 320)
    window = text[window_start:end]
    leads = list(lead.finditer(window))
    if not leads:
        return None
    start = window_start + leads[-1].end()
    stop_match = stop.search(text, start, end)
    name_end = stop_match.start() if stop_match else end
    while name_end > start and text[name_end - 1] in " \n,":
        name_end -= 1
    if not 2 <= name_end - start <= 160:
        return None
    return start, name_end


def find_term(pages: Pages) -> list[Candidate]:
    """The agreement's term or duration ('initial term of thirty-six (36) months', 'Term: A
    period of 24 months', 'Duration: 15 Weeks', 'มีกำหนดระยะเวลา ๓ ปี')."""
    cue = re.compile(r"(?:initial term|\bterm\b[”\"]?|duration|period of the lease|"
                     r"ระยะเวลา(?:การเช่า)?)[^.\n]{0,40}$", re.IGNORECASE)
    out = []
    for number, text in pages:
        for found in find_durations(text):
            before = text[max(0, found.start - 60):found.start]
            if cue.search(before) and not re.search(r"renew|notice|ต่อสัญญา|ล่วงหน้า",
                                                    before, re.IGNORECASE):
                score = 4.0 + (1.0 if re.search(r"initial term|“term”|\"term\"|มีกำหนด",
                                                before, re.IGNORECASE) else 0.0)
                out.append(candidate(found.value, number, text, found.start, found.end, score))
    return ranked(out)


def classify_amount(text: str, found: Found) -> str:
    """What an amount is for, from the words just before it (or its table heading)."""
    before = text[max(0, found.start - 160):found.start]
    best, best_at = "other", -1
    for kind, pattern in _AMOUNT_KINDS:
        for match in pattern.finditer(before):
            if match.start() > best_at:
                best, best_at = kind, match.start()
    return best


def find_amounts_by_kind(pages: Pages) -> dict[str, list[Candidate]]:
    """Every amount with a currency, grouped by what it pays for (rent, fee, deposit, ...).
    Value: ``{"amount", "currency", "period"}``; ``period`` is monthly/annual/one-time/None."""
    kinds: dict[str, list[Candidate]] = {}
    for number, text in pages:
        for found in find_amounts(text):
            kind = classify_amount(text, found)
            value = dict(found.value)  # type: ignore[call-overload]
            value["period"] = _period(text[max(0, found.start - 80):found.end])
            item = candidate(value, number, text, found.start, found.end, 1.0)
            kinds.setdefault(kind, []).append(item)
    return kinds


PERIOD_CUES = {
    "monthly": r"monthly|per month|a month|each month|รายเดือน|เดือนละ|ต่อเดือน",
    "annual": r"annual|per (?:annum|year)|each (?:contract )?year|รายปี|ปีละ|ต่อปี",
    "one-time": r"one-time|one time|lump sum|ครั้งเดียว",
}


def _period(around: str) -> str | None:
    """The payment period whose cue sits closest before the amount (the end of ``around``)."""
    best, best_at = None, -1
    for period, pattern in PERIOD_CUES.items():
        for match in re.finditer(pattern, around, re.IGNORECASE):
            if match.start() > best_at:
                best, best_at = period, match.start()
    return best


def find_rent(pages: Pages) -> list[Candidate]:
    """Rent: amounts under a rent heading or after 'rent'/'ค่าเช่า', earliest period first
    (the first year's monthly rent of a schedule comes first). Per-square-foot rates are left
    out: they are rates, not rent."""
    out = []
    for number, text in pages:
        for found in find_amounts(text):
            before = text[max(0, found.start - 220):found.start]
            if not re.search(r"\brent\b|ค่าเช่า", before, re.IGNORECASE):
                continue
            if re.search(r"per square foot|/\s*sq", before, re.IGNORECASE) and \
                    found.value["amount"] < 100:  # type: ignore[index]
                continue
            value = dict(found.value)  # type: ignore[call-overload]
            value["period"] = _period(before[-120:] + text[found.end:found.end + 20]) or (
                "monthly" if re.search(r"monthly", before, re.IGNORECASE) else None)
            score = 3.0 + (value["period"] == "monthly") - number * 0.05 - found.start * 1e-5
            out.append(candidate(value, number, text, found.start, found.end, score))
    return sorted(out, key=lambda c: -c["score"])[:6]


def find_premises(pages: Pages) -> list[Candidate]:
    """What is leased: 'ตกลงเช่า <premises> จังหวัด...', 'the building located at ...', or the
    defined 'Premises' ('known as suite 1050')."""
    out = []
    for number, text in pages[:4]:
        for match in re.finditer(r"ตกลงเช่า\s*(?P<p>.+?)\s+จังหวัด", text, re.DOTALL):
            out.append(candidate(clean(match.group("p")), number, text, match.start("p"),
                                 match.end("p"), 5))
        for match in re.finditer(r"(?:building|premises|property)\s+located at\s+(?P<p>[^.;]+?)"
                                 r"(?=,\s*commonly|\.\s|;)", text, re.IGNORECASE | re.DOTALL):
            out.append(candidate(clean(match.group("p")), number, text, match.start("p"),
                                 match.end("p"), 4))
        for match in re.finditer(r"known as (?P<p>suite\s+\w+)", text, re.IGNORECASE):
            out.append(candidate(clean(match.group("p")).title(), number, text,
                                 match.start("p"), match.end("p"), 2))
    return ranked(out, limit=4)


def iter_matches(pages: Pages, pattern: re.Pattern[str],
                 accept: Callable[[str], bool] | None = None) -> Iterator[tuple[int, str, int,
                                                                                  int]]:
    """(page, page text, sentence start, sentence end) of every match of ``pattern``."""
    for number, text in pages:
        for match in pattern.finditer(text):
            start, end = sentence_bounds(text, match.start(), match.end(), limit=250)
            if accept is None or accept(text[start:end]):
                yield number, text, start, end
