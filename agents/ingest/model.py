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
PAGE_FLAGS = (NEEDS_OCR, GARBLED, THAI_MANGLED, SECOND_EXTRACTOR)

EXTRACTOR_PDFIUM = "pdfium"
EXTRACTOR_PYPDF = "pypdf"


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


@dataclass(frozen=True)
class TextChunk:
    """A slice of one page's text: ``page.text[char_start:char_end] == text``."""

    page_number: int
    char_start: int
    char_end: int
    text: str
