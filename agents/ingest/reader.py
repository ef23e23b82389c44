"""The ingest core's entry points: ``inspect_pdf`` (structure), ``extract_pages`` (gated page
text, yielded page by page), ``read_pdf`` (both from one child process: the structure first, then
the pages, saving a fork and a parse per document) and ``PageExtraction`` (pages with the parsing
child's cost recorded, for the benchmark and the memory tests). Every parse runs in a sandboxed
child process bounded by the ``LimitSettings`` passed in, so a hostile file costs a failed
document, never the worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from agents.ingest import parsers, structure
from agents.ingest.model import PageText, PdfInfo
from agents.ingest.ocr import OcrOptions
from agents.ingest.resident import parse_in_resident
from agents.ingest.sandbox import ChildStats
from app.core.errors import CorruptDocument
from app.core.settings import LimitSettings


def inspect_pdf(path: Path, *, limits: LimitSettings) -> PdfInfo:
    """Read the PDF's page count, encryption, metadata and outline.

    Raises ``PasswordRequired``, ``TooManyPages``, ``CorruptDocument`` or
    ``ResourceLimitExceeded`` with a message fit to store as the document's failure reason.
    """
    _require_file(path)
    results = parse_in_resident(
        _structure_work,
        (path, limits.max_pages),
        memory_bytes=limits.parse_memory_bytes,
        timeout_s=limits.parse_timeout_s,
        stats=ChildStats(),
    )
    info: PdfInfo = next(results)
    for _ in results:  # read on to the child's "done" so it stays ready for the next document
        pass
    return info


def extract_pages(
    path: Path, *, limits: LimitSettings, first_page: int = 1, ocr: OcrOptions | None = None
) -> Iterator[PageText]:
    """Yield each page's gated text from ``first_page`` (1-based) on, one page at a time.

    Parsing runs in a child process; only the page being yielded is held here, so memory stays
    flat however long the document is. Stopping early ends the child.
    """
    yield from PageExtraction(path, limits=limits, first_page=first_page, ocr=ocr)


class PageExtraction:
    """An iterable over a PDF's pages that also records the parsing child's cost in ``stats``."""

    def __init__(self, path: Path, *, limits: LimitSettings, first_page: int = 1,
                 ocr: OcrOptions | None = None) -> None:
        self.path = path
        self.limits = limits
        self.first_page = first_page
        self.ocr = ocr
        self.stats = ChildStats()

    def __iter__(self) -> Iterator[PageText]:
        _require_file(self.path)
        yield from parse_in_resident(
            _pages_work,
            (self.path, self.limits.max_pages, self.first_page, self.ocr),
            memory_bytes=self.limits.parse_memory_bytes,
            timeout_s=self.limits.parse_timeout_s,
            stats=self.stats,
        )


def read_pdf(path: Path, *, limits: LimitSettings, first_page: int = 1,
             ocr: OcrOptions | None = None) -> PdfReading:
    """Open the PDF in one sandboxed child: ``.info`` is read now, iterating yields the pages.

    The structure's errors (``PasswordRequired``, ``TooManyPages``, ``CorruptDocument``,
    ``ResourceLimitExceeded``) are raised here, before any page. Use it as a context manager (or
    iterate to the end) so the child is ended however the caller leaves::

        with read_pdf(path, limits=limits) as reading:
            store_page_count(reading.info.page_count)
            for page in reading:
                store(page)
    """
    return PdfReading(path, limits=limits, first_page=first_page, ocr=ocr)


class PdfReading:
    """A PDF being read by its child process: ``info`` first, then the pages in order."""

    def __init__(self, path: Path, *, limits: LimitSettings, first_page: int = 1,
                 ocr: OcrOptions | None = None) -> None:
        _require_file(path)
        self.stats = ChildStats()
        self._items = parse_in_resident(
            _document_work,
            (path, limits.max_pages, first_page, ocr),
            memory_bytes=limits.parse_memory_bytes,
            timeout_s=limits.parse_timeout_s,
            stats=self.stats,
        )
        self.info: PdfInfo = next(self._items)

    def __iter__(self) -> Iterator[PageText]:
        return self._items

    def close(self) -> None:
        """End the child now (pages not yet read are dropped)."""
        self._items.close()

    def __enter__(self) -> PdfReading:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


# The work functions travel to the resident child by name, so they live at module level.


def _structure_work(path: Path, max_pages: int) -> Iterator[PdfInfo]:
    yield structure.read_structure(path, max_pages=max_pages)


def _pages_work(path: Path, max_pages: int, first_page: int,
                ocr: OcrOptions | None) -> Iterator[Any]:
    return parsers.extract_page_texts(path, max_pages=max_pages, first_page=first_page, ocr=ocr)


def _document_work(path: Path, max_pages: int, first_page: int,
                   ocr: OcrOptions | None) -> Iterator[Any]:
    yield structure.read_structure(path, max_pages=max_pages)
    yield from parsers.extract_page_texts(path, max_pages=max_pages, first_page=first_page,
                                          ocr=ocr)


def _require_file(path: Path) -> None:
    if not Path(path).is_file():
        raise CorruptDocument(f"corrupt: no file at {Path(path).name!r}")
