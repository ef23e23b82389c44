"""Page text, meant to run inside the sandboxed child (agents.ingest.sandbox): PDFium reads each
page, one at a time, the quality gate flags it, and pypdf is the second extractor for pages PDFium
reads badly (or for every page when PDFium cannot open the file). Also the helpers both this and
agents.ingest.structure use to open files and turn library exceptions into domain errors with
messages a person can act on.
"""

from __future__ import annotations

import encodings.utf_16_le  # noqa: F401 - PDFium's text codec, imported before any fork
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pypdf.filters  # noqa: F401 - imported once here, not again in every parsing child
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pypdf.errors import FileNotDecryptedError, LimitReachedError

from agents.ingest import layout, quality
from agents.ingest.model import (
    EXTRACTOR_PDFIUM,
    EXTRACTOR_PYPDF,
    GARBLED,
    SECOND_EXTRACTOR,
    THAI_MANGLED,
    PageText,
)
from agents.ingest.ocr import DocumentOcr, OcrOptions
from agents.ingest.sandbox import Allowance
from app.core.errors import CorruptDocument, PasswordRequired, ResourceLimitExceeded, TooManyPages

PASSWORD_MESSAGE = "encrypted: password required (upload a copy without a password)"


def extract_page_texts(path: Path, *, max_pages: int, first_page: int = 1,
                       ocr: OcrOptions | None = None) -> Iterator[PageText | Allowance]:
    """Yield every page from ``first_page`` on, gated, one page in memory at a time.

    PDFium reads the pages; when it cannot open the file at all pypdf reads every page instead.
    With ``ocr``, a page without a usable text layer is read by OCR (agents.ingest.ocr), each
    such page announced by an ``Allowance`` of its OCR time first.
    """
    fallback = _PypdfPages(path)
    try:
        document = open_pdfium(path)
    except CorruptDocument as pdfium_error:
        yield from _extract_with_pypdf_only(fallback, pdfium_error, max_pages, first_page)
        return
    try:
        page_count = len(document)
        if page_count > max_pages:
            raise TooManyPages(f"too many pages: {page_count} > limit {max_pages}")
        reader = DocumentOcr(ocr) if ocr is not None else None
        for index in range(max(first_page, 1) - 1, page_count):
            page = _extract_page(document, fallback, index)
            if reader is not None and reader.wants(page):
                yield Allowance(reader.options.page_timeout_s)
                page = reader.read(document, page)
            yield page
    finally:
        document.close()


def _extract_with_pypdf_only(
    fallback: _PypdfPages, pdfium_error: CorruptDocument, max_pages: int, first_page: int
) -> Iterator[PageText]:
    try:
        page_count = fallback.page_count()
    except (PasswordRequired, ResourceLimitExceeded):
        raise
    except Exception as exc:  # any pypdf failure here means neither extractor can read it
        because = pdfium_error.message.removeprefix("corrupt: PDFium cannot read the file ")
        raise CorruptDocument(
            f"corrupt: no extractor can read the file (PDFium: {because.strip('()')}; "
            f"pypdf: {reason(exc)})"
        ) from None
    if page_count > max_pages:
        raise TooManyPages(f"too many pages: {page_count} > limit {max_pages}")
    for index in range(max(first_page, 1) - 1, page_count):
        text, flags, _ = quality.gate(fallback.text(index, pdfium_error), has_images=False)
        yield PageText(index + 1, text, (*flags, SECOND_EXTRACTOR), EXTRACTOR_PYPDF)


def open_pdfium(path: Path) -> pdfium.PdfDocument:
    """Open with PDFium (which tries the empty password itself) or raise the domain error."""
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            raise PasswordRequired(PASSWORD_MESSAGE) from None
        raise CorruptDocument(f"corrupt: PDFium cannot read the file ({reason(exc)})") from None


def _extract_page(document: pdfium.PdfDocument, fallback: _PypdfPages, index: int) -> PageText:
    number = index + 1
    try:
        raw, has_images = _pdfium_page_text(document, index)
    except pdfium.PdfiumError as pdfium_error:
        raw_second = fallback.text(index, pdfium_error)
        text, flags, _ = quality.gate(raw_second, has_images=False)
        return PageText(number, text, (*flags, SECOND_EXTRACTOR), EXTRACTOR_PYPDF)
    text, flags, _ = quality.gate(raw, has_images=has_images)
    if GARBLED not in flags and THAI_MANGLED not in flags:
        return PageText(number, text, flags, EXTRACTOR_PDFIUM)
    try:
        raw_second = fallback.text(index, None)
    except (CorruptDocument, ResourceLimitExceeded):
        return PageText(number, text, (*flags, SECOND_EXTRACTOR), EXTRACTOR_PDFIUM)
    second_text, second_flags, _ = quality.gate(raw_second, has_images=has_images)
    first_exact = quality.measure(raw, exact=True)
    if quality.better_reading(first_exact, quality.measure(raw_second, exact=True)):
        return PageText(number, second_text, (*second_flags, SECOND_EXTRACTOR), EXTRACTOR_PYPDF)
    return PageText(number, text, (*flags, SECOND_EXTRACTOR), EXTRACTOR_PDFIUM)


def _pdfium_page_text(document: pdfium.PdfDocument, index: int) -> tuple[str, bool]:
    page = document[index]
    try:
        textpage = page.get_textpage()
        try:
            raw = textpage.get_text_bounded()
            raw = layout.table_text(textpage, raw) or raw
        finally:
            textpage.close()
        # only a page with (almost) no text is worth the walk over its objects
        has_images = False
        if len(raw) < 4 * quality.SCAN_MAX_LETTERS:
            has_images = any(
                True for _ in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=2)
            )
        return raw, has_images
    finally:
        page.close()


class _PypdfPages:
    """pypdf as the second extractor, opened only when a page first needs it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.reader: pypdf.PdfReader | None = None

    def page_count(self) -> int:
        """How many pages pypdf sees (opens the reader)."""
        if self.reader is None:
            self.reader = open_pypdf(self.path)
        return len(self.reader.pages)

    def text(self, index: int, pdfium_error: Exception | None) -> str:
        """Page ``index``'s raw text by pypdf, or the domain error explaining why not."""
        try:
            if self.reader is None:
                self.reader = open_pypdf(self.path)
            return self.reader.pages[index].extract_text() or ""
        except (PasswordRequired, ResourceLimitExceeded):
            raise
        except LimitReachedError as exc:
            raise limit_error(exc) from None
        except Exception as exc:  # a broken page is reported, not raised raw
            if pdfium_error is None:
                raise CorruptDocument(f"corrupt: pypdf cannot read page {index + 1}") from None
            raise CorruptDocument(
                f"corrupt: page {index + 1} cannot be read by PDFium ({reason(pdfium_error)}) "
                f"or pypdf ({reason(exc)})"
            ) from None


def open_pypdf(path: Path) -> pypdf.PdfReader:
    """Open with pypdf (non-strict, so it repairs what it can), trying the empty password."""
    reader = pypdf.PdfReader(str(path), strict=False)
    if reader.is_encrypted:
        try:
            decrypted = reader.decrypt("")
        except FileNotDecryptedError:
            raise PasswordRequired(PASSWORD_MESSAGE) from None
        if decrypted == pypdf.PasswordType.NOT_DECRYPTED:
            raise PasswordRequired(PASSWORD_MESSAGE)
    return reader


def limit_error(exc: LimitReachedError) -> ResourceLimitExceeded:
    """The domain error for one of pypdf's own safety limits."""
    detail = str(exc).rstrip(".")
    if "depth" in detail:
        return ResourceLimitExceeded(f"nesting limit: the PDF is nested too deeply ({detail})")
    return ResourceLimitExceeded(f"parse limit: the PDF exceeds a parser limit ({detail})")


def reason(exc: BaseException) -> str:
    """A library exception's message, without the libraries' boilerplate."""
    text = str(exc).strip() or type(exc).__name__
    text = text.removeprefix("Failed to load document ").strip("().").removeprefix("PDFium: ")
    return text or type(exc).__name__
