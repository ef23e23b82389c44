"""How values are read out of page text: numbers (thousands separators, parentheses and
minus/dash signs, Thai and full-width digits, Japanese ``△`` negatives), amounts with a currency,
durations ("thirty-six (36) months", "๓ ปี"), and dates in English and Thai (Thai month names,
Buddhist-era years: พ.ศ. 2567 = 2024 CE). The extracting agents find values with these readers
and the verification agent reads the cited text again with the same ones, so a value is only
confirmed when the cited span really says it."""

from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙０１２３４５６７８９", "01234567890123456789")
BUDDHIST_ERA_OFFSET = 543
# a jurisdiction's plain name -> other ways agreements write it (matched case-insensitively)
JURISDICTION_ALIASES: dict[str, tuple[str, ...]] = {
    "United States": ("United States of America", "U.S.A.", "USA", "U.S."),
    "Taiwan": ("Republic of China", "R.O.C.", "ROC"),
    "China": ("People's Republic of China", "PRC", "P.R.C.", "Mainland China"),
    "United Kingdom": ("UK", "U.K."),
    "Hong Kong": ("Hong Kong Special Administrative Region", "HKSAR"),
    "Thailand": ("กฎหมายไทย", "ประเทศไทย", "Thai law", "Kingdom of Thailand"),
}

MONTHS_EN = {name: i for i, name in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"), start=1)}
MONTHS_EN.update({name[:3]: i for name, i in list(MONTHS_EN.items())})
MONTHS_EN["sept"] = 9
MONTHS_TH = {name: i for i, name in enumerate(
    ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม", "สิงหาคม",
     "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม"), start=1)}

_D = r"[0-9๐-๙]"
_MONTH_EN = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|" \
            r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
_MONTH_TH = "|".join(MONTHS_TH)
DATE_PATTERNS = [
    # February 15, 2024 / March 1 2024
    re.compile(rf"\b(?P<month>{_MONTH_EN})\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+"
               rf"(?P<year>\d{{4}})\b", re.IGNORECASE),
    # 13 May 2013 / 1st of March, 2024 / the 19th day of December, 2018
    re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:day\s+)?(?:of\s+)?"
               rf"(?P<month>{_MONTH_EN}),?\s+(?:of\s+)?(?P<year>\d{{4}})\b", re.IGNORECASE),
    # 12/19/2018 (US), 29/3/18 (day first when the first number cannot be a month), 2018-12-19
    re.compile(r"(?<![\d/.-])(?P<first>\d{1,2})/(?P<second>\d{1,2})/(?P<year>\d{4}|\d{2})"
               r"(?![\d/])"),
    re.compile(r"(?<![\d/.-])(?P<year>(?:19|20)\d{2})-(?P<month>\d{2})-(?P<day>\d{2})(?![\d-])"),
    # 15 พฤษภาคม พ.ศ. 2567 / ๒๐ กุมภาพันธ์ ๒๕๖๘ / 15 พฤษภาคม ค.ศ. 2024
    re.compile(rf"(?P<day>{_D}{{1,2}})\s*(?P<month>{_MONTH_TH})\s*(?P<era>พ\.\s?ศ\.|ค\.\s?ศ\.)?"
               rf"\s*(?P<year>{_D}{{4}})"),
]
_AMOUNT_NUMBER = rf"{_D}{{1,3}}(?:,{_D}{{3}})+(?:\.{_D}+)?|{_D}+(?:\.{_D}+)?"
AMOUNT_PATTERNS = [
    (re.compile(rf"(?:USD|US\$|U\.S\.\s?\$)\s?(?P<n>{_AMOUNT_NUMBER})"), "USD"),
    (re.compile(rf"\$\s?(?P<n>{_AMOUNT_NUMBER})"), "USD"),
    (re.compile(rf"(?:THB|฿)\s?(?P<n>{_AMOUNT_NUMBER})"), "THB"),
    (re.compile(rf"(?P<n>{_AMOUNT_NUMBER})\s?(?:บาท|baht|THB)", re.IGNORECASE), "THB"),
    (re.compile(rf"(?P<n>{_AMOUNT_NUMBER})\s?(?:US dollars|dollars|USD)", re.IGNORECASE), "USD"),
    (re.compile(rf"(?:RMB|CNY|人民币)\s?(?P<n>{_AMOUNT_NUMBER})"), "CNY"),
    (re.compile(rf"(?:JPY|¥|￥)\s?(?P<n>{_AMOUNT_NUMBER})"), "JPY"),
]
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "eighteen": 18,
    "twenty": 20, "twenty-four": 24, "thirty": 30, "thirty-six": 36, "forty-five": 45,
    "sixty": 60, "ninety": 90, "one hundred twenty": 120,
}
_UNITS = {"day": "days", "days": "days", "week": "weeks", "weeks": "weeks", "month": "months",
          "months": "months", "year": "years", "years": "years", "วัน": "days",
          "สัปดาห์": "weeks", "เดือน": "months", "ปี": "years"}
DURATION_PATTERN = re.compile(
    rf"(?:\b(?P<word>[a-z]+(?:-[a-z]+)?)\s+\(\s*(?P<paren>\d+)\s*\)|(?P<num>{_D}+))\s*"
    r"(?P<unit>business days?|calendar days?|days?|weeks?|months?|years?|วัน|สัปดาห์|เดือน|ปี)"
    r"(?:[’']s?)?(?![a-zA-Z])",
    re.IGNORECASE)


@dataclass(frozen=True)
class Found:
    """A value read from page text, with the exact span it was read from."""

    value: Any
    start: int
    end: int
    text: str


def to_ascii_digits(text: str) -> str:
    """Thai (๐-๙) and full-width digits as ASCII digits."""
    return text.translate(THAI_DIGITS)


def parse_number(token: str) -> float | None:
    """Reads one number as printed in a statement or contract: ``1,234``, ``(1,234)`` and
    ``△1,234`` and ``-1,234`` are negative; ``-``, ``―`` and ``—`` alone mean nothing there
    (``None``); Thai and full-width digits are accepted."""
    raw = to_ascii_digits(token.strip()).replace("，", ",").replace("．", ".")
    if raw in {"", "-", "―", "—", "–", "－", "−"}:
        return None
    negative = False
    if raw.startswith("(") and raw.endswith(")"):
        negative, raw = True, raw[1:-1]
    if raw[:1] in {"△", "▲", "-", "−", "－", "–"}:
        negative, raw = True, raw[1:]
    raw = raw.replace(",", "")
    if not re.fullmatch(r"\d+(?:\.\d+)?", raw):
        return None
    value = float(raw)
    return -value if negative else value


def find_dates(text: str) -> list[Found]:
    """Every calendar date in ``text`` as ISO ``YYYY-MM-DD``; Buddhist-era years (written with
    พ.ศ., or any Thai-month year above 2400) are converted to the Common Era."""
    found: list[Found] = []
    taken: set[int] = set()
    for pattern in DATE_PATTERNS:
        for match in pattern.finditer(text):
            if match.start() in taken:
                continue
            iso = _date_of(match)
            if iso is None:
                continue
            taken.add(match.start())
            found.append(Found(iso, match.start(), match.end(), match.group(0)))
    return sorted(found, key=lambda f: f.start)


def _date_of(match: re.Match[str]) -> str | None:
    groups = match.groupdict()
    if groups.get("first"):
        return _numeric_date(int(groups["first"]), int(groups["second"]), groups["year"])
    if groups["month"].isdigit():
        return _iso(int(groups["year"]), int(groups["month"]), int(groups["day"]))
    month_name = match.group("month").rstrip(".")
    month = MONTHS_TH.get(month_name) or MONTHS_EN.get(month_name.lower())
    day = int(to_ascii_digits(match.group("day")))
    year = int(to_ascii_digits(match.group("year")))
    era = (match.groupdict().get("era") or "").replace(" ", "")
    if era == "พ.ศ." or (month_name in MONTHS_TH and year > 2400 and era != "ค.ศ."):
        year -= BUDDHIST_ERA_OFFSET
    return _iso(year, month or 0, day)


def _numeric_date(first: int, second: int, year_text: str) -> str | None:
    """M/D/Y as in US agreements, D/M/Y when the first number cannot be a month or the year is
    Buddhist-era (Thai documents write the day first); two-digit years are 20xx below 70."""
    year = int(year_text)
    if len(year_text) == 2:
        year += 2000 if year < 70 else 1900
    day_first = first > 12 or year > 2400
    if year > 2400:
        year -= BUDDHIST_ERA_OFFSET
    month, day = (second, first) if day_first else (first, second)
    return _iso(year, month, day)


def _iso(year: int, month: int, day: int) -> str | None:
    if not 1900 <= year <= 2200:
        return None
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def find_amounts(text: str) -> list[Found]:
    """Every amount with a currency: value ``{"amount": float, "currency": "USD"|"THB"|...}``.
    A number followed or preceded by a currency word or sign counts; bare numbers do not."""
    found: dict[int, Found] = {}
    for pattern, currency in AMOUNT_PATTERNS:
        for match in pattern.finditer(text):
            number = parse_number(match.group("n"))
            if number is None or any(f.start <= match.start("n") < f.end
                                     for f in found.values()):
                continue
            found[match.start()] = Found({"amount": number, "currency": currency},
                                         match.start(), match.end(), match.group(0))
    return sorted(found.values(), key=lambda f: f.start)


def find_durations(text: str) -> list[Found]:
    """Every duration: value ``{"amount": int, "unit": "days"|"weeks"|"months"|"years"}``;
    "thirty-six (36) months" takes the figure in brackets, "๓ ปี" reads the Thai digit."""
    # several finders read the same page: parse it once, hand out copies
    return [Found(copy.copy(f.value), f.start, f.end, f.text) for f in _durations(text)]


@lru_cache(maxsize=256)
def _durations(text: str) -> tuple[Found, ...]:
    found: list[Found] = []
    for match in DURATION_PATTERN.finditer(text):
        if match.group("paren"):
            amount = int(match.group("paren"))
        elif match.group("num"):
            amount = int(float(to_ascii_digits(match.group("num"))))
        else:
            continue
        unit = match.group("unit").lower().split()[-1]
        found.append(Found({"amount": amount, "unit": _UNITS[unit]}, match.start(), match.end(),
                           match.group(0)))
    return tuple(found)


def words_to_number(word: str) -> int | None:
    """A spelled-out count ("ninety") as an int, for the handful of words contracts use."""
    return NUMBER_WORDS.get(word.lower())
