"""The values the ingest core hands to the pipeline: what a PDF is (``PdfInfo``), the text of one
page with its quality flags (``PageText``) and a slice of that text to index (``TextChunk``). They
are plain frozen dataclasses with no database or library types inside, so they cross the pipe from
the parsing child process and the pipeline stores them as it likes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The quality flags a page can carry (see agents.ingest.quality for when each is set).
NEEDS_OCR = "needs_ocr"
GARBLED = "garbled"
THAI_MANGLED = "thai_mangled"
SECOND_EXTRACTOR = "second_extractor"
# what OCR made of a page (agents.ingest.ocr)
OCR_LOW_CONFIDENCE = "ocr_low_confidence"  # mean word confidence below the setting
OCR_NO_TEXT = "ocr_no_text"  # OCR ran and found no print: a blank page, a photo of nothing
OCR_TIMED_OUT = "ocr_timed_out"  # the page ran out of its OCR time (it still needs OCR)
OCR_REFUSED = "ocr_refused"  # too many pixels to render safely (it still needs OCR)
PAGE_FLAGS = (NEEDS_OCR, GARBLED, THAI_MANGLED, SECOND_EXTRACTOR, OCR_LOW_CONFIDENCE, OCR_NO_TEXT,
              OCR_TIMED_OUT, OCR_REFUSED)

EXTRACTOR_PDFIUM = "pdfium"
EXTRACTOR_PYPDF = "pypdf"
EXTRACTOR_OCR = "ocr"


@dataclass(frozen=True)
class PdfInfo:
    """The document's structure, read before any page text."""

    page_count: int
    encrypted: bool  # also True for empty-password files, which are opened
    metadata: dict[str, str] = field(default_factory=dict)
    outline: list[dict[str, Any]] = field(default_factory=list)  # title, page (1-based), level


@dataclass(frozen=True)
class PageText:
    """One page's NFC-normalized text, which extractor produced it and what is wrong with it."""

    number: int  # 1-based
    text: str
    flags: tuple[str, ...]
    extractor: str
    ocr: OcrReading | None = None  # set when OCR read the page (its text is ``text`` then)


@dataclass(frozen=True)
class OcrWord:
    """One recognised word: ``text[start:end]`` of the page, its box in points from the top-left
    corner of the page as displayed (x0, y0, x1, y1), and Tesseract's confidence (0-100)."""

    start: int
    end: int
    box: tuple[float, float, float, float]
    confidence: float


@dataclass(frozen=True)
class OcrReading:
    """A page as OCR read it. ``text`` is empty when nothing was read; ``note`` says why not
    (the page was refused, or ran out of time)."""

    text: str
    confidence: float | None  # mean word confidence, weighted by word length
    words: tuple[OcrWord, ...] = ()
    languages: str = ""
    dpi: int = 0
    seconds: float = 0.0
    timed_out: bool = False
    refused: bool = False
    note: str | None = None

    def as_record(self) -> dict[str, object]:
        """The JSON form stored with the page."""
        return {
            "confidence": self.confidence,
            "languages": self.languages,
            "dpi": self.dpi,
            "seconds": round(self.seconds, 3),
            "note": self.note,
            "words": [[w.start, w.end, *(round(v, 2) for v in w.box), round(w.confidence, 1)]
                      for w in self.words],
        }


@dataclass(frozen=True)
class TextChunk:
    """A slice of one page's text: ``page.text[char_start:char_end] == text``."""

    page_number: int
    char_start: int
    char_end: int
    text: str
