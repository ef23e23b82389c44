"""The parsing work proper, meant to run inside the sandboxed child (agents.ingest.sandbox): the
document's structure through pypdf (metadata, outline, encryption; PDFium as the fallback when
pypdf cannot read the file), and page text through PDFium, one page at a time, gated, with pypdf
as the second extractor for pages PDFium reads badly. Library exceptions are turned into the
domain errors here, with messages a person can act on.
"""

from __future__ import annotations

import encodings.utf_16_le  # noqa: F401 - PDFium's text codec, imported before any fork
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdf
import pypdf.filters  # noqa: F401 - imported once here, not again in every parsing child
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pypdf.errors import FileNotDecryptedError, LimitReachedError

from agents.ingest import quality
from agents.ingest.model import (
    EXTRACTOR_PDFIUM,
    EXTRACTOR_PYPDF,
    GARBLED,
    SECOND_EXTRACTOR,
    THAI_MANGLED,
    PageText,
    PdfInfo,
)
from app.core.errors import CorruptDocument, PasswordRequired, ResourceLimitExceeded, TooManyPages

PASSWORD_MESSAGE = "encrypted: password required (upload a copy without a password)"
MAX_OUTLINE_ENTRIES = 5000
MAX_METADATA_CHARS = 1000
_PDF_DATE = re.compile(
    r"D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?([Zz+\-])?(\d{2})?'?(\d{2})?"
)
_METADATA_KEYS = {
    "/Title": "title",
    "/Author": "author",
    "/Subject": "subject",
    "/Keywords": "keywords",
    "/Creator": "creator",
    "/Producer": "producer",
    "/CreationDate": "creation_date",
    "/ModDate": "modification_date",
}


def read_structure(path: Path, *, max_pages: int) -> PdfInfo:
    """Page count, encryption, metadata and outline of the PDF at ``path``."""
    try:
        info = _structure_with_pypdf(path)
    except (PasswordRequired, ResourceLimitExceeded):
        raise
    except Exception as pypdf_error:  # any pypdf failure falls back to PDFium
        info = _structure_with_pdfium(path, pypdf_error)
    if info.page_count == 0:
        info = _structure_with_pdfium(path, None)
    if info.page_count == 0:
        raise CorruptDocument("corrupt: the PDF has no pages")
    if info.page_count > max_pages:
        raise TooManyPages(f"too many pages: {info.page_count} > limit {max_pages}")
    return info


def extract_page_texts(path: Path, *, max_pages: int, first_page: int = 1) -> Iterator[PageText]:
    """Yield every page from ``first_page`` on, gated, one page in memory at a time.

    PDFium reads the pages; when it cannot open the file at all pypdf reads every page instead.
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
        for index in range(max(first_page, 1) - 1, page_count):
            yield _extract_page(document, fallback, index)
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
            f"pypdf: {_reason(exc)})"
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
        raise CorruptDocument(f"corrupt: PDFium cannot read the file ({_reason(exc)})") from None


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
            self.reader = _open_pypdf(self.path)
        return len(self.reader.pages)

    def text(self, index: int, pdfium_error: Exception | None) -> str:
        """Page ``index``'s raw text by pypdf, or the domain error explaining why not."""
        try:
            if self.reader is None:
                self.reader = _open_pypdf(self.path)
            return self.reader.pages[index].extract_text() or ""
        except (PasswordRequired, ResourceLimitExceeded):
            raise
        except LimitReachedError as exc:
            raise ResourceLimitExceeded(f"parse limit: {exc}") from None
        except Exception as exc:  # a broken page is reported, not raised raw
            if pdfium_error is None:
                raise CorruptDocument(f"corrupt: pypdf cannot read page {index + 1}") from None
            raise CorruptDocument(
                f"corrupt: page {index + 1} cannot be read by PDFium ({_reason(pdfium_error)}) "
                f"or pypdf ({_reason(exc)})"
            ) from None


def _open_pypdf(path: Path) -> pypdf.PdfReader:
    reader = pypdf.PdfReader(str(path), strict=False)
    if reader.is_encrypted:
        try:
            decrypted = reader.decrypt("")
        except FileNotDecryptedError:
            raise PasswordRequired(PASSWORD_MESSAGE) from None
        if decrypted == pypdf.PasswordType.NOT_DECRYPTED:
            raise PasswordRequired(PASSWORD_MESSAGE)
    return reader


def _structure_with_pypdf(path: Path) -> PdfInfo:
    try:
        reader = _open_pypdf(path)
        page_count = len(reader.pages)
        metadata = _pypdf_metadata(reader)
        outline = _pypdf_outline(reader)
    except LimitReachedError as exc:
        raise ResourceLimitExceeded(f"parse limit: {exc}") from None
    except RecursionError:
        raise ResourceLimitExceeded(
            "nesting limit: the PDF's objects are nested too deeply to parse"
        ) from None
    return PdfInfo(page_count, reader.is_encrypted, metadata, outline)


def _pypdf_metadata(reader: pypdf.PdfReader) -> dict[str, str]:
    try:
        raw = reader.metadata or {}
    except Exception:  # a broken Info dictionary is not a broken document
        return {}
    metadata: dict[str, str] = {}
    for key, value in raw.items():
        name = _METADATA_KEYS.get(key, key.lstrip("/").lower())
        text = _clean_metadata(value)
        if text:
            metadata[name] = pdf_date_to_iso(text) if name.endswith("date") else text
    return metadata


def _pypdf_outline(reader: pypdf.PdfReader) -> list[dict[str, Any]]:
    try:
        tree = reader.outline
    except Exception:  # an unreadable outline leaves the pages readable
        return []
    entries: list[dict[str, Any]] = []

    def walk(items: list[Any], level: int) -> None:
        for item in items:
            if len(entries) >= MAX_OUTLINE_ENTRIES:
                return
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            try:
                page = reader.get_destination_page_number(item) + 1
            except Exception:  # a dangling destination is skipped
                continue
            title = _clean_metadata(getattr(item, "title", ""))
            if page >= 1 and title:
                entries.append({"title": title, "page": page, "level": level})

    walk(tree, 1)
    return entries


def _structure_with_pdfium(path: Path, pypdf_error: Exception | None) -> PdfInfo:
    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            raise PasswordRequired(PASSWORD_MESSAGE) from None
        because = f"PDFium: {_reason(exc)}"
        if pypdf_error is not None:
            because += f"; pypdf: {_reason(pypdf_error)}"
        raise CorruptDocument(f"corrupt: no extractor can read the file ({because})") from None
    try:
        metadata = {}
        for key, value in document.get_metadata_dict(skip_empty=True).items():
            name = _METADATA_KEYS.get(f"/{key}", key.lower())
            text = _clean_metadata(value)
            if text:
                metadata[name] = pdf_date_to_iso(text) if name.endswith("date") else text
        outline = _pdfium_outline(document)
        encrypted = bool(pdfium_c.FPDF_GetSecurityHandlerRevision(document.raw) != -1)
        return PdfInfo(len(document), encrypted, metadata, outline)
    finally:
        document.close()


def _pdfium_outline(document: pdfium.PdfDocument) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for bookmark in document.get_toc():
        if len(entries) >= MAX_OUTLINE_ENTRIES:
            break
        dest = bookmark.get_dest()
        page_index = dest.get_index() if dest is not None else None
        title = _clean_metadata(bookmark.get_title())
        if page_index is not None and title:
            level = int(getattr(bookmark, "level", 0)) + 1
            entries.append({"title": title, "page": page_index + 1, "level": level})
    return entries


def _clean_metadata(value: Any) -> str:
    text = unicodedata.normalize("NFC", str(value)).replace("\x00", "").strip()
    return text[:MAX_METADATA_CHARS]


def pdf_date_to_iso(value: str) -> str:
    """``D:20240501120000+07'00'`` -> ``2024-05-01T12:00:00+07:00``; other strings unchanged."""
    match = _PDF_DATE.match(value)
    if not match:
        return value
    year, month, day, hour, minute, second, sign, tz_hour, tz_minute = match.groups()
    iso = f"{year}-{month or '01'}-{day or '01'}T{hour or '00'}:{minute or '00'}:{second or '00'}"
    if sign in ("Z", "z"):
        return iso + "Z"
    if sign in ("+", "-"):
        return f"{iso}{sign}{tz_hour or '00'}:{tz_minute or '00'}"
    return iso


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    text = text.removeprefix("Failed to load document ").strip("().").removeprefix("PDFium: ")
    return text or type(exc).__name__
