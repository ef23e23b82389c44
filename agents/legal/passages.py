"""A contract cut into the passages clauses are judged on: sentences (or list items) with their
page, character span and the heading of the numbered section they sit under ("12.3 Governing
Law.", "ARTICLE VII - INSURANCE", "Section 9.4 Assignment"). Long sentences are cut at their
semicolons so that one passage says one thing; every span indexes the stored page text, so a
passage can be cited and verified as it is."""

from __future__ import annotations

import re
from dataclasses import dataclass

Pages = list[tuple[int, str]]

MAX_CHARS = 700
MIN_CHARS = 25
# "12.3 Governing Law." / "Section 9.4 Assignment" / "ARTICLE VII INSURANCE" / "(b) Audit."
_HEADING = re.compile(
    r"(?:^|\n)[ \t]*(?:(?:section|article|clause)\s+)?(?:\d{1,2}(?:\.\d{1,2}){0,3}\.?|"
    r"[IVXL]{1,6}\.|\([a-z]\)|[a-z]\.)[ \t]+(?P<title>[A-Z][A-Za-z,;&/'’\- ]{2,60}?)"
    r"(?:\.(?=\s)|:|\n|[ \t]+-|$)", re.IGNORECASE)
_CAPS_HEADING = re.compile(r"(?:^|\n)[ \t]*(?P<title>[A-Z][A-Z,;&/'’\- ]{3,60})[ \t]*(?=\n)")
_BOUNDARY = re.compile(r"(?<=[.;:])\s+(?=[(\[]?[A-Z0-9(])|\n\s*\n|(?<=\.)\n|"
                       r"\n(?=[ \t]*(?:\(?[a-z0-9ivx]{1,4}[.)]|\d{1,2}(?:\.\d{1,2})+)\s)")


@dataclass(frozen=True)
class Passage:
    """One sentence or list item of a page, and the section heading above it."""

    page: int
    start: int
    end: int
    text: str
    heading: str


def split_passages(pages: Pages) -> list[Passage]:
    """Every page's passages in reading order; a heading carries over to the next page."""
    passages: list[Passage] = []
    heading = ""
    for number, text in pages:
        headings = sorted([(m.start("title"), _title(m.group("title")))
                           for m in _HEADING.finditer(text)] +
                          [(m.start("title"), _title(m.group("title")))
                           for m in _CAPS_HEADING.finditer(text)])
        cursor, index = 0, 0
        for start, end in _spans(text):
            while index < len(headings) and headings[index][0] <= start + 40:
                heading = headings[index][1]
                index += 1
            passages.append(Passage(number, start, end, text[start:end], heading))
            cursor = end
        del cursor
    return passages


def _title(raw: str) -> str:
    return re.sub(r"\s+", " ", raw).strip(" .,;:-").casefold()[:60]


def _spans(text: str) -> list[tuple[int, int]]:
    cuts = [0] + [m.end() for m in _BOUNDARY.finditer(text)] + [len(text)]
    spans: list[tuple[int, int]] = []
    pending: tuple[int, int] | None = None
    for left, right in zip(cuts, cuts[1:], strict=False):
        while left < right and text[left].isspace():
            left += 1
        stop = right
        while stop > left and text[stop - 1].isspace():
            stop -= 1
        if stop <= left:
            continue
        if pending is not None:  # a fragment too short to stand alone joins the next one
            left = pending[0]
            pending = None
        if stop - left < MIN_CHARS:
            pending = (left, stop)
            continue
        spans += _cut_long(text, left, stop)
    if pending is not None:
        spans.append(pending)
    return spans


def _cut_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A passage over MAX_CHARS cut after a semicolon or comma, else at a space."""
    out = []
    while end - start > MAX_CHARS:
        window = text[start:start + MAX_CHARS]
        cut = max(window.rfind("; "), window.rfind(";\n"))
        if cut < MAX_CHARS // 3:
            cut = max(window.rfind(", "), window.rfind(" "))
        if cut <= 0:
            cut = MAX_CHARS - 1
        out.append((start, start + cut + 1))
        start += cut + 1
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        out.append((start, end))
    return out
