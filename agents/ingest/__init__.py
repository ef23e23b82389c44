"""LexLedger's PDF ingest core: structure, gated page text and chunks with exact offsets, parsed
in a sandboxed child process. Pure document processing; the pipeline (app/) stores what it returns.
"""

from agents.ingest.chunking import chunk_page
from agents.ingest.model import (
    EXTRACTOR_OCR,
    EXTRACTOR_PDFIUM,
    EXTRACTOR_PYPDF,
    GARBLED,
    NEEDS_OCR,
    OCR_LOW_CONFIDENCE,
    OCR_NO_TEXT,
    OCR_REFUSED,
    OCR_TIMED_OUT,
    PAGE_FLAGS,
    SECOND_EXTRACTOR,
    THAI_MANGLED,
    OcrReading,
    OcrWord,
    PageText,
    PdfInfo,
    TextChunk,
)
from agents.ingest.reader import PageExtraction, PdfReading, extract_pages, inspect_pdf, read_pdf

__all__ = [
    "EXTRACTOR_OCR",
    "EXTRACTOR_PDFIUM",
    "EXTRACTOR_PYPDF",
    "GARBLED",
    "NEEDS_OCR",
    "OCR_LOW_CONFIDENCE",
    "OCR_NO_TEXT",
    "OCR_REFUSED",
    "OCR_TIMED_OUT",
    "PAGE_FLAGS",
    "SECOND_EXTRACTOR",
    "THAI_MANGLED",
    "OcrReading",
    "OcrWord",
    "PageExtraction",
    "PageText",
    "PdfReading",
    "PdfInfo",
    "TextChunk",
    "chunk_page",
    "extract_pages",
    "inspect_pdf",
    "read_pdf",
]
