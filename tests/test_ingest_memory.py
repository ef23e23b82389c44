"""Bounded memory: a PDF of hundreds of pages is parsed page by page. The parsing child's peak RSS
stays flat as the page count grows tenfold, and the caller holds only the page it is reading, far
less than the document's text. Both measured, not timed."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from agents.ingest import PageExtraction
from app.core.settings import LimitSettings
from tests import pdf_factory

LIMITS = LimitSettings()
MIB = 1024 * 1024


def consume(path: Path) -> tuple[int, int, int, int]:
    """Read every page, keeping none; return (pages, characters, child peak RSS, caller peak)."""
    extraction = PageExtraction(path, limits=LIMITS)
    tracemalloc.start()
    try:
        pages = characters = 0
        for page in extraction:
            pages += 1
            characters += len(page.text)
        _, caller_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return pages, characters, extraction.stats.peak_rss_bytes, caller_peak


def test_memory_stays_flat_from_60_to_600_pages(tmp_path: Path) -> None:
    short = pdf_factory.write_many_pages(tmp_path / "short.pdf", 60, lines_per_page=100)
    long = pdf_factory.write_many_pages(tmp_path / "long.pdf", 600, lines_per_page=100)

    short_pages, _, short_child_peak, _ = consume(short)
    long_pages, long_chars, long_child_peak, long_caller_peak = consume(long)

    assert (short_pages, long_pages) == (60, 600)
    assert long_chars > 5 * MIB  # the document's text is megabytes...
    assert long_caller_peak < MIB  # ...the caller never held more than a page or two of it
    # ten times the pages, (almost) the same child: PDFium keeps no page once it is closed
    assert long_child_peak - short_child_peak < 16 * MIB
    assert long_child_peak < short_child_peak * 1.25
