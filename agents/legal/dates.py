"""The agreement's dates: when it was made, when it takes effect and when its term ends, in every
common written form ("dated as of February 4, 2020", "the 19th day of December, 2018",
"12/19/2018", "Dated 29/3/18", Thai dates with Buddhist-era years). Each date is scored by the
words around it; an effective date defined as the agreement's own date ("the date first written
above") takes that date; a date left blank ("dated as of ______, 2020") is reported as unknown,
never guessed from some other date in the document."""

from __future__ import annotations

import re

from agents.legal.tools import Candidate, Pages, candidate, citation, ranked
from agents.verify.values import find_dates

DATE_CUES: dict[str, list[tuple[str, float]]] = {
    "agreement_date": [
        (r"entered into(?:\s+\w+){0,2}\s+(?:as of|on)\s*$", 5), (r"\bdated\s*(?:as of\s*)?$", 4),
        (r"\bmade(?:\s+\w+){0,3}\s+(?:as of|on)\s*$", 4), (r"as of\s*$", 1),
        (r"ทำขึ้น.{0,60}เมื่อวันที่\s*$", 5), (r"ลงวันที่\s*$", 4),
    ],
    "effective_date": [
        (r"effective(?: date)?(?: on| as of| as from| from)?[:\s]*$", 5), (r"takes? effect on\s*"
                                                                           r"$", 5),
        (r"commenc\w*(?: on)?\s*$", 4), (r"\bstart\w*(?: on)?\s*$", 2),
        (r"เริ่ม(?:ตั้งแต่)?(?:วันที่)?\s*$", 5), (r"มีผล(?:ใช้บังคับ)?(?:ตั้งแต่)?(?:วันที่)?\s"
                                                   r"*$", 5),
    ],
    "expiration_date": [
        (r"\bend(?:s|ing)? on\s*$", 5), (r"expir\w*(?: on)?\s*$", 5),
        (r"\buntil\s*$", 3), (r"termination date[:\s]*$", 4), (r"สิ้นสุด(?:วันที่)?\s*$", 5),
        (r"ถึงวันที่\s*$", 3),
    ],
}
# a cue right after the date, e.g. 'December 1, 2006 (the "Commencement Date")'
DATE_AFTER_CUES = {
    "effective_date": r"^\W{0,6}(?:the\s+)?[\"“](?:effective|commencement) date",
    "expiration_date": r"^\W{0,6}(?:the\s+)?[\"“](?:termination|expiration) date",
    "agreement_date": r"^\W{0,6}(?:the\s+)?[\"“](?:agreement|execution) date",
}
_DATE_CUES = {field: [(re.compile(p, re.IGNORECASE | re.DOTALL), w) for p, w in cues]
              for field, cues in DATE_CUES.items()}
_DATE_AFTER = {f: re.compile(p, re.IGNORECASE) for f, p in DATE_AFTER_CUES.items()}

_BLANK_DATE = re.compile(
    r"(?:dated|made|entered\s+into|effective|executed)(?:\s+(?:and\s+)?(?:effective\s+)?"
    r"(?:as\s+of|on|this))?[\s:]*(?:the\s+)?(?:_{2,}|\[\s*(?:●|•|\*+|date)?\s*\]|"
    r"\.{4,})[^.\n]{0,40}?(?:\d{4}|20__|19__)?", re.IGNORECASE)
_EFFECTIVE_IS_AGREEMENT_DATE = re.compile(
    r"effective\s+(?:date|as\s+of)[”\"]?\s*(?:\)|shall\s+mean|means|is)?[^.]{0,80}?"
    r"(?:date\s+(?:first\s+)?(?:written|set\s+forth|stated)\s+above|date\s+hereof|"
    r"date\s+of\s+(?:this|the)\s+agreement|execution\s+date|date\s+of\s+execution|"
    r"(?:last|later)\s+(?:of\s+the\s+)?(?:dates?\s+)?(?:signed|signature))|"
    r"entered\s+into\s+and\s+(?:is\s+)?effective\s+as\s+of", re.IGNORECASE)
HEAD_PAGES = 2
_OWN_LINE_DATE = re.compile(r"^[ \t]*(?P<label>(?:date|dated)\s*:\s*)?(?P<date>[^\n]{6,30}?)"
                            r"[ \t]*$", re.IGNORECASE | re.MULTILINE)
OPENING_CHARS = 3000


def find_role_dates(pages: Pages) -> dict[str, list[Candidate]]:
    """Agreement, effective and expiration date candidates: every date, scored by the words
    just before it ('entered into as of', 'commence on', 'สิ้นสุดวันที่') and after it."""
    fields: dict[str, list[Candidate]] = {field: [] for field in _DATE_CUES}
    for number, text in pages:
        for found in find_dates(text):
            # "entered into as of the 31st day of July": the article does not change the cue
            before = re.sub(r"(?i)\bthe\s*$", "", text[max(0, found.start - 90):found.start])
            after = text[found.end:found.end + 40]
            for field, cues in _DATE_CUES.items():
                score = sum(w for pattern, w in cues if pattern.search(before))
                if _DATE_AFTER[field].search(after):
                    score += 6
                if score:
                    score += 1.0 if number <= HEAD_PAGES else 0.0
                    fields[field].append(candidate(found.value, number, text, found.start,
                                                   found.end, score))
    fields["agreement_date"] += _dates_on_their_own_line(pages)
    if fields["agreement_date"]:  # the opening words' date is the likeliest
        earliest = min(fields["agreement_date"], key=_position)
        earliest["score"] += 1.5
    ranked_fields = {field: ranked(items) for field, items in fields.items()}
    blank = _blank_agreement_date(pages)
    if blank is not None:
        best = ranked_fields["agreement_date"][:1]
        if not best or _position(best[0]) > _position(blank):
            ranked_fields["agreement_date"] = [blank]
    if not ranked_fields["agreement_date"] and ranked_fields["effective_date"]:
        # "This Agreement is effective as from the 1st day of January, 2009": the opening
        # words' date is the agreement's date too
        first = ranked_fields["effective_date"][0]
        if _position(first)[0] <= 1 and first["citations"][0]["start"] < OPENING_CHARS:
            ranked_fields["agreement_date"] = [{**first, "score": 1.0}]
    agreement = ranked_fields["agreement_date"]
    if not ranked_fields["effective_date"] and agreement and _effective_is_agreement_date(pages):
        ranked_fields["effective_date"] = [{**agreement[0], "score": 1.0}]
    return ranked_fields


def _dates_on_their_own_line(pages: Pages) -> list[Candidate]:
    """A date alone on a line of the cover page or of the signature pages ("October 29, 2015",
    "Date: 12/19/2018"): the agreement's date when nothing says so in words."""
    out = []
    chosen = pages[:1] + [p for p in pages[-2:] if p not in pages[:1]]
    for number, text in chosen:
        for line in _OWN_LINE_DATE.finditer(text):
            found = find_dates(line.group("date"))
            if len(found) == 1 and found[0].end - found[0].start == len(line.group("date")):
                start = line.start("date")
                score = 1.0 + (0.5 if line.group("label") else 0.0)
                out.append(candidate(found[0].value, number, text, start,
                                     start + len(line.group("date")), score))
    return out


def _position(item: Candidate) -> tuple[int, int]:
    cite = item["citations"][0]
    return cite["page"], cite["start"]


def _blank_agreement_date(pages: Pages) -> Candidate | None:
    """A date left blank in the opening words ("dated as of ________, 2020"): value None."""
    for number, text in pages[:HEAD_PAGES]:
        match = _BLANK_DATE.search(text[:4000])
        if match:
            return {"value": None, "score": 20.0,
                    "citations": [citation(number, text, match.start(), match.end())],
                    "note": "the date is left blank in the document"}
    return None


def _effective_is_agreement_date(pages: Pages) -> bool:
    return any(_EFFECTIVE_IS_AGREEMENT_DATE.search(text) for _, text in pages[:6])
