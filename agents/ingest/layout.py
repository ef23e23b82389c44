"""A page's text rebuilt from where its characters sit, for pages that are tables. PDFium's text
order follows the content stream, which in many typeset filings runs a statement's rows into one
another ("Net sales $ 233,715 $ 182,795 Cost of sales 140,089 ..."); regrouping the characters
by their baseline gives one line per printed row, so a row's label and its figures stay
together. Only a page whose figures read better that way gets the rebuilt text; prose keeps the
stream order (a two-column page would otherwise interleave its columns)."""

from __future__ import annotations

import ctypes
import re
import unicodedata
from dataclasses import dataclass, replace

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

# a page is worth regrouping only when its text carries this many figures
MIN_FIGURES = 20
# ... and this many lines that run several rows into one, or that hold one bare figure
RUN_ON_LINES = 3
BARE_FIGURE_LINES = 4
RUN_ON_FIGURES = 5
# ... and the regrouped text has this many more rows of "label  figure  figure"
MIN_GAIN_ROWS = 4
# characters whose vertical centres differ by less than this share of their height share a row
ROW_TOLERANCE = 0.5
# a horizontal gap wider than this share of the character height separates two words
WORD_GAP = 0.25
_FIGURE = re.compile(r"\(?-?\d[\d,]*(?:\.\d+)?\)?")
# "... 170,910 Cost of sales 140,089": a row's figures, then the next row's label and figures
_LABEL_BETWEEN_FIGURES = re.compile(r"\d\)?\s+[A-Za-z][a-z]+(?:[ ,'’-]+[A-Za-z][a-z]+)+\s+"
                                    r"\$?\s?\(?\d")
# a line of figures and nothing else: a column typeset (or OCR'd) apart from its labels
_FIGURES_ONLY = re.compile(r"(?:\$\s?)?\(?-?\d[\d,]*(?:\.\d+)?\)?%?"
                           r"(?:\s+(?:\$\s?)?\(?-?\d[\d,]*(?:\.\d+)?\)?%?)*")
_ROW_OF_FIGURES = re.compile(r"[^\d\s$()—–-].*?(?:\s+\$?\s?\(?-?\d[\d,]*(?:\.\d+)?\)?|\s+[—–-])"
                             r"{2,}\s*$")


@dataclass(frozen=True)
class _Glyph:
    char: str
    left: float
    right: float
    middle: float
    height: float
    # the character before it in the text stream was a space or line break
    word_start: bool


def figure_rows(text: str) -> int:
    """How many lines of ``text`` read as a table row: a label followed by two or more figures."""
    return sum(1 for line in text.split("\n") if _ROW_OF_FIGURES.match(line.strip()))


def runs_rows_together(text: str) -> bool:
    """Whether the stream text looks like a table read badly: many figures, on lines that each
    hold several rows ("Net sales $ 233,715 $ 182,795 Cost of sales 140,089 ...") or on lines
    of figures alone (a table typeset column by column, or its columns read apart from its
    labels). Prose with figures in it does neither."""
    lines = text.split("\n")
    counts = [len(_FIGURE.findall(line)) for line in lines]
    if sum(counts) < MIN_FIGURES:
        return False
    run_on = sum(1 for line, count in zip(lines, counts, strict=True)
                 if count >= RUN_ON_FIGURES and _LABEL_BETWEEN_FIGURES.search(line))
    bare = sum(1 for line in lines if _FIGURES_ONLY.fullmatch(line.strip()))
    return run_on >= RUN_ON_LINES or bare >= BARE_FIGURE_LINES


def table_text(textpage: pdfium.PdfTextPage, stream_text: str) -> str | None:
    """The page's text one printed row per line, when the page is a table whose rows the stream
    order runs together; None when the stream text is as good."""
    if not runs_rows_together(stream_text):
        return None
    rebuilt = rows_text(textpage)
    if figure_rows(rebuilt) < figure_rows(stream_text) + MIN_GAIN_ROWS:
        return None
    return rebuilt


def rows_text(textpage: pdfium.PdfTextPage) -> str:
    """The page's characters grouped into rows by their vertical centre (top to bottom), each
    row read left to right with a space where the gap between two characters is a word gap."""
    glyphs = _glyphs(textpage)
    glyphs.sort(key=lambda g: -g.middle)
    rows: list[list[_Glyph]] = []
    centre = 0.0
    for glyph in glyphs:
        if rows and abs(centre - glyph.middle) < ROW_TOLERANCE * glyph.height:
            rows[-1].append(glyph)
            continue
        rows.append([glyph])
        centre = glyph.middle
    lines = []
    for row in rows:
        row.sort(key=lambda g: g.left)
        parts = [row[0].char]
        for before, glyph in zip(row, row[1:], strict=False):
            if glyph.word_start or \
                    glyph.left - before.right > WORD_GAP * max(glyph.height, before.height):
                parts.append(" ")
            parts.append(glyph.char)
        lines.append("".join(parts).strip())
    return "\n".join(line for line in lines if line)


def _glyphs(textpage: pdfium.PdfTextPage) -> list[_Glyph]:
    # the loose box spans the font's ascent to descent and the glyph's advance, so a comma
    # sits on its digits' row and letters of one word touch
    box = pdfium_c.FS_RECTF()
    glyphs: list[_Glyph] = []
    raw = textpage.raw
    word_start = True
    for index in range(pdfium_c.FPDFText_CountChars(raw)):
        code = pdfium_c.FPDFText_GetUnicode(raw, index)
        if code <= 0x20:
            word_start = True
            continue
        char = chr(code)
        if glyphs and unicodedata.category(char) == "Mn":
            # a Thai vowel or tone mark stays with the letter it sits on, whatever its box
            glyphs[-1] = replace(glyphs[-1], char=glyphs[-1].char + char)
            continue
        if not pdfium_c.FPDFText_GetLooseCharBox(raw, index, ctypes.byref(box)):
            continue
        height = box.top - box.bottom
        if height <= 0:
            continue
        glyphs.append(_Glyph(char, box.left, box.right, (box.top + box.bottom) / 2, height,
                             word_start))
        word_start = False
    return glyphs
