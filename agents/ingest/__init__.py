"""LexLedger's PDF ingest core: structure, gated page text and chunks with exact offsets, parsed
in a sandboxed child process. Pure document processing; the pipeline (app/) stores what it returns.
"""

from agents.ingest.chunking import chunk_page
from agents.ingest.model import (
    EXTRACTOR_PDFIUM,
    EXTRACTOR_PYPDF,
    GARBLED,
    NEEDS_OCR,
    PAGE_FLAGS,
    SECOND_EXTRACTOR,
    THAI_MANGLED,
    PageText,
    PdfInfo,
    TextChunk,
)
from agents.ingest.reader import PageExtraction, PdfReading, extract_pages, inspect_pdf, read_pdf

__all__ = [
    "EXTRACTOR_PDFIUM",
    "EXTRACTOR_PYPDF",
    "GARBLED",
    "NEEDS_OCR",
    "PAGE_FLAGS",
    "SECOND_EXTRACTOR",
    "THAI_MANGLED",
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
