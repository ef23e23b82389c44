"""The ingest core's entry points: ``inspect_pdf`` (structure), ``extract_pages`` (gated page
text, yielded page by page) and ``PageExtraction`` (the same with the parsing child's cost
recorded, for the benchmark and the memory tests). Every parse runs in a sandboxed child process
bounded by the ``LimitSettings`` passed in, so a hostile file costs a failed document, never the
worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from agents.ingest import parsers
from agents.ingest.model import PageText, PdfInfo
from agents.ingest.sandbox import ChildStats, run_isolated
from app.core.errors import CorruptDocument
from app.core.settings import LimitSettings


def inspect_pdf(path: Path, *, limits: LimitSettings) -> PdfInfo:
    """Read the PDF's page count, encryption, metadata and outline.

    Raises ``PasswordRequired``, ``TooManyPages``, ``CorruptDocument`` or
    ``ResourceLimitExceeded`` with a message fit to store as the document's failure reason.
    """
    _require_file(path)
    results = run_isolated(
        lambda: [parsers.read_structure(path, max_pages=limits.max_pages)],
        memory_bytes=limits.parse_memory_bytes,
        timeout_s=limits.parse_timeout_s,
    )
    info: PdfInfo = next(iter(results))
    for _ in results:  # drain to the child's "done" so it is reaped cleanly
        pass
    return info


def extract_pages(
    path: Path, *, limits: LimitSettings, first_page: int = 1
) -> Iterator[PageText]:
    """Yield each page's gated text from ``first_page`` (1-based) on, one page at a time.

    Parsing runs in a child process; only the page being yielded is held here, so memory stays
    flat however long the document is. Stopping early ends the child.
    """
    yield from PageExtraction(path, limits=limits, first_page=first_page)


class PageExtraction:
    """An iterable over a PDF's pages that also records the parsing child's cost in ``stats``."""

    def __init__(self, path: Path, *, limits: LimitSettings, first_page: int = 1) -> None:
        self.path = path
        self.limits = limits
        self.first_page = first_page
        self.stats = ChildStats()

    def __iter__(self) -> Iterator[PageText]:
        _require_file(self.path)
        path, max_pages, first_page = self.path, self.limits.max_pages, self.first_page
        yield from run_isolated(
            lambda: parsers.extract_page_texts(path, max_pages=max_pages, first_page=first_page),
            memory_bytes=self.limits.parse_memory_bytes,
            timeout_s=self.limits.parse_timeout_s,
            stats=self.stats,
        )


def _require_file(path: Path) -> None:
    if not Path(path).is_file():
        raise CorruptDocument(f"corrupt: no file at {Path(path).name!r}")
