"""Governing law: which jurisdiction's law governs the agreement, read from the clause that says
so ("governed by the laws of the State of New York", "construed in accordance with Ohio law",
"The laws of the State of New York ... govern", "บังคับตามกฎหมายไทย") and normalised to the
jurisdiction's plain name (New York, England and Wales, Spain, Taiwan, Thailand). Laws a party
is organised under, patent or bankruptcy laws and the like are not the governing law."""

from __future__ import annotations

import re

from agents.legal.tools import Candidate, Pages, candidate, clean, ranked, sentence_bounds
from agents.verify.values import JURISDICTION_ALIASES

_LAW = (r"(?:the\s+)?(?P<law>(?-i:(?:[A-Z]\.){2,}|[A-Z][\w&'’\-]*(?:\s+(?:of\s+|and\s+)?"
        r"[A-Z][\w&'’\-.]*){0,7}))")
_ENGLISH = [
    # governed by / construed in accordance with (the internal) laws of X
    (re.compile(r"(?:governed|construed|interpreted|enforced|determined)\b[^.;]{0,100}?"
                rf"\blaws?\s+(?:in force\s+)?(?:of|in)\s+{_LAW}", re.IGNORECASE), 5.0),
    # governed by Ohio law / in accordance with English law
    (re.compile(r"(?:governed|construed|interpreted)\s+(?:by|in accordance with|under)\s+"
                r"(?:and\s+construed\s+in\s+accordance\s+with\s+)?(?:the\s+)?"
                r"(?P<law>[A-Z][\w\-]*(?:\s+[A-Z][\w\-]*){0,3})\s+law\b"), 5.0),
    # The laws of the State of New York (...) govern
    (re.compile(rf"\blaws?\s+of\s+{_LAW}[^.;]{{0,90}}?\bgovern", re.IGNORECASE), 4.5),
    # courts ... pursuant to the laws of X (a dispute clause without a governing-law sentence)
    (re.compile(rf"(?:pursuant to|under|in accordance with)\s+the\s+laws?\s+of\s+{_LAW}",
                re.IGNORECASE), 1.5),
]
_THAI = re.compile(r"(?:บังคับ(?:แห่ง|ตาม)?|ใช้)\s*(?P<law>กฎหมายไทย|กฎหมายแห่งประเทศไทย)")
_NOT_GOVERNING = re.compile(r"(?:organi[sz]ed|incorporated|existing|standing|formed|registered|"
                            r"patent|bankruptcy|insolvency|securities|tax|labou?r|employment|"
                            r"compensation)\W+(?:\w+\W+){0,7}$", re.IGNORECASE)
_LAW_TAIL = re.compile(r"\s+(?:without|and\s+(?:the|any|all|its|shall|will)|applicable|excluding|"
                       r"as\s|that|which|except|shall|will|govern\w*|in\s|notwithstanding|"
                       r"regardless|other than|for\s|with(?:out)?\s).*$", re.IGNORECASE | re.DOTALL)
_HEADING = re.compile(r"governing\s+law|applicable\s+law|choice\s+of\s+law|กฎหมายที่ใช้บังคับ",
                      re.IGNORECASE)


def find_governing_law(pages: Pages) -> list[Candidate]:
    """Which law governs, normalised ('the State of New York' -> 'New York'), best first; a
    sentence under a 'Governing Law' heading or that says 'govern' ranks first."""
    out: list[Candidate] = []
    for number, text in pages:
        for pattern, weight in _ENGLISH:
            for match in pattern.finditer(text):
                if _NOT_GOVERNING.search(text[max(0, match.start() - 60):match.start("law")]):
                    continue
                law = normalize_jurisdiction(match.group("law"))
                if not law:
                    continue
                start, end = sentence_bounds(text, match.start(), match.end(), limit=200)
                around = text[max(0, start - 80):end]
                score = weight + (1.5 if _HEADING.search(around) else 0.0) + (
                    0.5 if re.search(r"govern", around, re.IGNORECASE) else 0.0)
                law_start = match.start("law")
                out.append(candidate(law, number, text, law_start, match.end("law"), score))
        for match in _THAI.finditer(text):
            out.append(candidate("Thailand", number, text, match.start("law"), match.end("law"),
                                 5.0))
    return ranked(out, limit=3)


def normalize_jurisdiction(law: str) -> str | None:
    """A jurisdiction as people name it: 'the State of New York' -> 'New York', 'NEW YORK
    STATE' -> 'New York', 'the United States of America' -> 'United States', 'R.O.C.' ->
    'Taiwan'; None when nothing like a place is left."""
    value = clean(_LAW_TAIL.sub("", law.replace("\n", " ")))
    value = re.split(r"(?<=[a-z]{2})\.\s", value)[0].rstrip(".,;")
    value = re.sub(r"(?i)^(?:the\s+)?(?:internal\s+|substantive\s+|applicable\s+)?"
                   r"(?:laws?\s+of\s+)?(?:the\s+)?", "", value)
    for candidate_name in (value, _without_state(value)):
        dotted = candidate_name if candidate_name.endswith(".") else candidate_name + "."
        for name, aliases in JURISDICTION_ALIASES.items():
            if candidate_name.casefold() == name.casefold() or any(
                    a.casefold() in (candidate_name.casefold(), dotted.casefold())
                    for a in aliases):
                return name
    value = _without_state(value)
    if value.upper() == value and len(value) > 4 and "." not in value:
        value = value.title()
    if not re.search(r"[A-Za-z]{2}", value) or len(value) > 60 or re.match(
            r"(?i)(?:any|such|each|that|this|which|its|their|a|an)\b", value):
        return None
    return value


def _without_state(value: str) -> str:
    value = re.sub(r"(?i)^(?:state|commonwealth|province|canton|emirate|kingdom|"
                   r"federal republic)\s+of\s+(?:the\s+)?", "", value)
    return re.sub(r"(?i)\s+state$", "", value)
