"""A segment's or a region's figure, read from the tables of a filing's segment note: "net sales
of the Greater China segment in 2015" is the "Net sales" row under the "Greater China:" subheading,
and "net revenue in the United Kingdom" the "United Kingdom" row under "Net revenues by
Geography:". The question says both the segment and the measure, so a cell qualifies when every
word of its row's label is in the question and its subheading shares words with it; the cell
whose labels share the most words with the question wins. Columns come from the header lines
above the row on its page (years, and the durations that span them)."""

from __future__ import annotations

import re

from agents.financial.figures import DURATIONS, Column, Figure, asked_period, columns, describe
from agents.financial.tools import Pages, is_header, parse_item, read_unit
from agents.legal.tools import citation

# a page of segment or geographic information
SEGMENT_PAGE = re.compile(r"\bsegments?\b|\bgeograph|\bregions?\b|\bdivisions?\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z]+")
_STOP = {"and", "of", "the", "by", "for", "in", "to", "a", "an", "on", "at", "or", "its", "our",
         "total"}
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_YEARS_LINE = re.compile(r"^(?:[^\d]*\b(?:19|20)\d\d\b)+[^\d]*$")
# the share of a subheading's words the question must say for its rows to count
SUBHEADING_SHARE = 0.6
_DURATION = re.compile(r"months ended|years? ended|quarter|fiscal", re.IGNORECASE)


def _words(text: str) -> set[str]:
    """Lower-case words, a plural's "s" dropped, without the words every label shares."""
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w
            for w in _WORD.findall(text.casefold())} - _STOP


def find_segment_figure(question: str, pages: Pages) -> Figure | None:
    """The segment-table cell the question asks for, or None. Segments are rows under a
    subheading ("Greater China:" then "Net sales ..."), a subheading's rows ("Net revenues by
    Geography:" then "United Kingdom ..."), or columns named one word each ("Activision
    Blizzard King Total") under a period ("Three Months Ended June 30, 2023")."""
    asked = _words(question)
    year, months, point = asked_period(question)
    best: tuple[int, Figure] | None = None
    for number, text in pages:
        if not SEGMENT_PAGE.search(text):
            continue
        header: list[str] = []
        in_header = False
        subheading = ""
        names: list[str] = []  # the lines since the header that may name the columns
        offset = 0
        for line in text.split("\n"):
            line_start, offset = offset, offset + len(line) + 1
            stripped = line.strip()
            if _is_period_line(stripped):
                header = [*header, stripped] if in_header else [stripped]
                in_header, names = True, []
                continue
            in_header = False
            item = parse_item(stripped)
            if item is None:
                if stripped.endswith(":"):
                    subheading = stripped.rstrip(":")
                elif stripped:
                    names.append(stripped)
                continue
            label, values, printed = item
            # the subheading names the segment (or the measure) beyond the row's own words
            row = _words(label)
            above = _words(subheading) - row
            if not row or not row <= asked:
                continue
            cells = _cells(header, values, names, asked, above)
            if cells is None:
                continue
            score, indexes, periods = cells
            score += len(row)
            for index in indexes:
                column = periods[index]
                value = values[index]
                if not column.fits(year, months, point) or value is None:
                    continue
                if best is None or score > best[0]:
                    start = line_start + line.index(stripped)
                    heading = subheading if above & asked else ""
                    best = (score, Figure(
                        line="segment", label=f"{heading}: {label}".strip(": "),
                        value=float(value), printed=printed[index],
                        unit=read_unit(text[:start]),
                        period=describe(column) if column.months else str(column.year),
                        statement="segment information", page=number,
                        citation=citation(number, text, start, start + len(stripped))))
                break
    return best[1] if best else None


def _is_period_line(line: str) -> bool:
    """A header line: dates, years, or a duration ("Three Months Ended June 30, 2023")."""
    return is_header(line) or bool(_YEARS_LINE.match(line)) or bool(
        _DURATION.search(line) and len(line) < 90 and parse_item(line) is None)


def _cells(header: list[str], values: list[float | None], names: list[str], asked: set[str],
           above: set[str]) -> tuple[int, list[int], list[Column]] | None:
    """(score, the columns to try, every column's period) for a row whose label the question
    says: all columns when its subheading shares words with the question, or the one column
    whose one-word name the question says."""
    if above and len(above & asked) >= SUBHEADING_SHARE * len(above):
        periods = columns(header, len(values))
        return (len(above & asked), list(range(len(values))), periods) if periods else None
    named = next(([i for i, token in enumerate(line.split()) if _words(token) and
                   _words(token) <= asked] for line in names
                  if len(line.split()) == len(values)), [])
    years = [int(y) for y in _YEAR.findall(" ".join(header))]
    if len(named) != 1 or len(years) != 1:
        return None
    durations = [m for pattern, m in DURATIONS if pattern.search(" ".join(header))]
    column = Column(years[0], durations[0] if durations else None)
    return 1, named, [column] * len(values)
