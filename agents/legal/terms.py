"""The legal agent's finders for obligations: renewal (automatic or not, renewal term, notice),
notice periods, who may terminate and on what basis, the liability cap and when payment is due.
Like ``agents.legal.tools``, each returns ranked candidates with page + span citations."""

from __future__ import annotations

import re

from agents.legal.tools import Candidate, Pages, candidate, citation, clean, ranked, sentence_bounds
from agents.verify.values import find_durations


def find_renewal(pages: Pages) -> list[Candidate]:
    """Renewal: automatic or on request, the renewal term and the notice needed to stop or ask
    for it. Value: ``{"automatic", "renewal_term", "notice"}`` (durations or None)."""
    out = []
    pattern = re.compile(r"renew\w*|ต่อสัญญา|ต่ออายุ", re.IGNORECASE)
    for number, text in pages:
        for match in pattern.finditer(text):
            start, end = sentence_bounds(text, match.start(), match.end())
            sentence = text[start:end]
            if not re.search(r"\bterm\b|ต่อสัญญา|notice|แจ้ง", sentence, re.IGNORECASE):
                continue
            durations = find_durations(sentence)
            term = next((d.value for d in durations if d.value["unit"] != "days"), None)
            notice = next((d.value for d in durations if d.value["unit"] == "days"), None)
            automatic = bool(re.search(r"automatic|renews? (?:itself )?for successive|"
                                       r"โดยอัตโนมัติ", sentence, re.IGNORECASE))
            if term is None and notice is None:
                continue
            score = 2.0 + automatic * 2 + (term is not None) + (notice is not None)
            out.append(candidate({"automatic": automatic, "renewal_term": term,
                                  "notice": notice}, number, text, start, end, score))
    return ranked(out, limit=3)


def find_notice_periods(pages: Pages, topic: str) -> list[Candidate]:
    """Notice periods in days for ``topic`` ('termination' or 'renewal'): the durations in the
    sentences that speak of that topic and of notice."""
    topic_pattern = {"termination": r"terminat|บอกเลิก", "renewal": r"renew|ต่อสัญญา"}[topic]
    out = []
    for number, text in pages:
        for found in find_durations(text):
            if found.value["unit"] != "days":  # type: ignore[index]
                continue
            start, end = sentence_bounds(text, found.start, found.end, limit=250)
            sentence = text[start:end]
            if re.search(topic_pattern, sentence, re.IGNORECASE) and re.search(
                    r"notice|แจ้ง", sentence, re.IGNORECASE):
                out.append(candidate(found.value, number, text, found.start, found.end, 2.0))
    return ranked(out, limit=4)


def find_termination_rights(pages: Pages) -> list[Candidate]:
    """Who may terminate and how: for convenience, for breach, on notice. Value:
    ``{"party", "basis", "notice"}``."""
    # the party is case-sensitive (a capitalised defined term), the verb is not
    rights = re.compile(
        r"(?P<who>(?i:either party|each party)|(?:[Tt]he\s+)?[A-Z][a-z]+|ผู้ให้เช่า|ผู้เช่า|คู่สัญญา"
        r"(?:ฝ่ายใดฝ่ายหนึ่ง)?)\s*(?i:may|shall have the right to|มีสิทธิ|อาจ)\s*"
        r"(?:บอกเลิกสัญญา|(?i:terminate)\b)")
    out = []
    following = {number: text for number, text in pages}
    for number, text in pages:
        for match in rights.finditer(text):
            start, end = sentence_bounds(text, match.start(), match.end(), limit=300)
            sentence = text[start:end]
            cites = [citation(number, text, start, end)]
            if not sentence.rstrip().endswith(".") and end >= len(text.rstrip()) and \
                    (after := following.get(number + 1)):
                # the sentence runs on to the next page: cite both parts
                stop = min([i for i in (after.find(". "), after.find(".\n")) if i != -1],
                           default=min(len(after), 300) - 1) + 1
                sentence += " " + after[:stop]
                cites.append(citation(number + 1, after, 0, stop))
            basis = ("convenience" if re.search(r"for convenience|for any reason|without "
                                                r"cause|ก่อนครบกำหนด", sentence, re.IGNORECASE)
                     else "breach" if re.search(r"breach|default|ผิดนัด|ผิดสัญญา", sentence,
                                                re.IGNORECASE) else "other")
            days = [d.value for d in find_durations(sentence)
                    if d.value["unit"] == "days"]  # type: ignore[index]
            who = clean(match.group("who"))
            out.append({"value": {"party": who, "basis": basis,
                                  "notice": days[0] if days else None},
                        "score": 2.0 + (basis != "other"), "citations": cites})
    return ranked(out, limit=6)


def find_liability_cap(pages: Pages) -> list[Candidate]:
    """A limit on liability: the sentence saying total liability shall not exceed (or is
    limited to) something."""
    pattern = re.compile(r"liability[^.]{0,160}?(?:shall not|will not|not to|does not)\s+exceed|"
                         r"liability[^.]{0,80}?(?:shall|will) be limited to|ความรับผิด[^\n]{0,80}"
                         r"(?:ไม่เกิน|จำกัด)", re.IGNORECASE | re.DOTALL)
    out = []
    for number, text in pages:
        for match in pattern.finditer(text):
            start, end = sentence_bounds(text, match.start(), match.end())
            out.append(candidate(clean(text[start:end])[:300], number, text, start, end, 3.0))
    return ranked(out, limit=3)


def find_payment_terms(pages: Pages) -> list[Candidate]:
    """When payment is due: 'payable within thirty (30) days', 'ภายในวันที่ ๕ ของทุกเดือน'."""
    pattern = re.compile(r"(?:payable|due|paid)\s+(?:within|on or before)[^.]{0,60}|"
                         r"ภายในวันที่\s*[0-9๐-๙]+\s*ของทุกเดือน|due and payable[^.]{0,80}",
                         re.IGNORECASE)
    out = []
    for number, text in pages:
        for match in pattern.finditer(text):
            out.append(candidate(clean(match.group(0)), number, text, match.start(),
                                 match.end(), 2.0))
    return ranked(out, limit=3)
