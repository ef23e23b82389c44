"""OCR for pages whose text layer is missing or unreadable, meant to run inside the parsing child
(agents.ingest.sandbox) like the extractors: PDFium renders the page, Tesseract (through
tesserocr, the C API binding) reads it in Thai and English, and the result keeps each word's box
and confidence so a citation can later be drawn on the page image.

A page is measured before it is rendered: a page whose bitmap would exceed ``max_page_pixels``
even at ``MIN_DPI``, or that carries an image of more than ``max_image_pixels``, is refused with a
reason instead of being decoded. Tesseract stops a page at ``page_timeout_s``; a page that runs
out of time is flagged, never fatal to the document.
"""

from __future__ import annotations

import ctypes
import math
import time
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from agents.ingest import layout, quality, thai
from agents.ingest.model import (
    EXTRACTOR_OCR,
    GARBLED,
    NEEDS_OCR,
    OCR_LOW_CONFIDENCE,
    OCR_NO_TEXT,
    OCR_REFUSED,
    OCR_TIMED_OUT,
    OcrReading,
    OcrWord,
    PageText,
)
from app.core.ocr import availability
from app.core.settings import OcrSettings

if TYPE_CHECKING:
    import pypdfium2 as pdfium
    from tesserocr import PyTessBaseAPI

# below this a page's print is too small for Tesseract to read; a page that cannot be rendered
# this sharp within the pixel budget is refused
MIN_DPI = 100
# a line Tesseract rates this low is specks or texture, not print
MIN_LINE_CONFIDENCE = 50.0
# ... and one rated below this that lies this much inside a more confident neighbour's band is
# marks split off from that line (see _without_strays)
STRAY_MAX_CONFIDENCE = 75.0
STRAY_OVERLAP = 0.3
# a scan this close to the render resolution is rendered at its own (see _render_plan)
NATIVE_TOLERANCE = 0.1


@dataclass(frozen=True)
class OcrOptions:
    """What the parsing child needs to OCR a document's pages (a picklable copy of the settings).

    ``languages`` are Tesseract's, used when the document gives no hint: a document whose text
    pages hold no Thai is read with ``eng`` alone, about 15 % faster."""

    tessdata: str
    force: bool = False
    dpi: int = 150
    languages: str = "tha+eng"
    page_timeout_s: float = 60.0
    max_page_pixels: int = 40_000_000
    max_image_pixels: int = 100_000_000
    min_confidence: float = 60.0


@dataclass
class LanguageHint:
    """What the document's readable pages say about its languages, updated page by page."""

    default: str
    thai_seen: bool = False
    latin_letters: int = 0

    def observe(self, text: str) -> None:
        # a few Thai letters may be OCR misreading a bullet or a logo; a Thai page has hundreds
        if not self.thai_seen and quality.has_thai(text) and thai.count_thai(text) >= 20:
            self.thai_seen = True
        elif self.latin_letters < 200:
            self.latin_letters += sum(1 for ch in text[:2000] if ch.isascii() and ch.isalpha())

    @property
    def languages(self) -> str:
        if self.thai_seen:
            return "tha+eng"
        return "eng" if self.latin_letters >= 200 else self.default


def options_from(settings: OcrSettings) -> OcrOptions | None:
    """The parsing child's OCR options from the settings, or None when OCR is off or cannot run
    here (``app.core.ocr.availability`` says why)."""
    if settings.mode == "off":
        return None
    folder, _ = availability(settings.tessdata_dir)
    if folder is None:
        return None
    return OcrOptions(
        tessdata=str(folder), force=settings.mode == "force", dpi=settings.dpi,
        languages=settings.languages, page_timeout_s=settings.page_timeout_s,
        max_page_pixels=settings.max_page_pixels, max_image_pixels=settings.max_image_pixels,
        min_confidence=settings.min_confidence)


def read_page(page: pdfium.PdfPage, options: OcrOptions, languages: str) -> OcrReading:
    """OCR one page: measure it, render it, recognise it, and lay the words out as page text."""
    began = time.process_time()
    refusal, scale = _render_plan(page, options)
    if refusal is not None:
        return OcrReading("", None, languages=languages, refused=True, note=refusal)
    dpi = round(scale * 72)
    bitmap = page.render(scale=scale, grayscale=True)
    try:
        image = bitmap.to_pil()
        points_per_pixel = 1 / scale
        api = _engine(options.tessdata, languages)
        api.SetImage(image)
        del image
        if not api.Recognize(timeout=int(options.page_timeout_s * 1000)):
            api.Clear()
            return OcrReading(
                "", None, languages=languages, dpi=dpi, timed_out=True,
                seconds=time.process_time() - began,
                note=f"OCR stopped after the page's {options.page_timeout_s:g} s limit")
        text, words = _layout(api, points_per_pixel)
        api.Clear()
        text, words = _as_table_rows(text, words) or (text, words)
    finally:
        bitmap.close()
    confidence = _mean_confidence(words)
    return OcrReading(text, confidence, tuple(words), languages=languages, dpi=dpi,
                      seconds=time.process_time() - began)


def _render_plan(page: pdfium.PdfPage, options: OcrOptions) -> tuple[str | None, float]:
    """The scale to render at (pixels per point), or the reason the page is refused, decided
    before anything is decoded. A scan whose own resolution is within ``NATIVE_TOLERANCE`` of
    the setting's is rendered at its own, so its pixels are read as they are (resampling by a
    fraction of a percent blurs the small Thai marks enough to lose them); any other page is
    rendered at the setting's resolution, smaller if the page is huge."""
    width, height = page.get_size()
    area = max(width, 1.0) * max(height, 1.0)  # square points
    largest = _largest_image(page)
    scale = options.dpi / 72
    if largest is not None:
        (px_width, px_height), (left, bottom, right, top) = largest
        if px_width * px_height > options.max_image_pixels:
            return (f"page carries an image of {px_width} x {px_height} pixels, more than the "
                    f"{options.max_image_pixels / 1e6:g} megapixels allowed"), 0
        native = px_width / max(right - left, 1.0)
        covers = (right - left) * (top - bottom) >= area / 2
        if covers and abs(native / scale - 1) <= NATIVE_TOLERANCE:
            scale = native
    if area * scale * scale > options.max_page_pixels:
        scale = math.sqrt(options.max_page_pixels / area)
    if scale * 72 < MIN_DPI - 0.5:
        return (f"page of {width:.0f} x {height:.0f} pt is too large to OCR: at {MIN_DPI} DPI it "
                f"would exceed {options.max_page_pixels / 1e6:g} megapixels"), 0
    return None, scale


def _largest_image(
    page: pdfium.PdfPage,
) -> tuple[tuple[int, int], tuple[float, float, float, float]] | None:
    """The page's image with the most pixels: its pixel size and its bounds on the page."""
    import pypdfium2.raw as pdfium_c

    largest = None
    for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=2):
        width, height = ctypes.c_uint(), ctypes.c_uint()
        if pdfium_c.FPDFImageObj_GetImagePixelSize(obj.raw, width, height):
            size = (width.value, height.value)
            if largest is None or size[0] * size[1] > largest[0][0] * largest[0][1]:
                largest = (size, obj.get_bounds())
    return largest


@dataclass
class _Line:
    """One of Tesseract's text lines: its box and confidence, and its pieces (for Thai, each
    glyph cluster is a piece) with their boxes and confidences."""

    box: tuple[int, int, int, int]
    confidence: float
    pieces: list[tuple[str, tuple[int, int, int, int], float]] = field(default_factory=list)

    @property
    def letters(self) -> str:
        return "".join("".join(p[0].split()) for p in self.pieces)


def _layout(api: PyTessBaseAPI, points_per_pixel: float) -> tuple[str, list[OcrWord]]:
    """Page text as Tesseract prints it (its spacing is right for Thai, whose pieces the result
    iterator yields one glyph cluster at a time), minus the stray lines, one line break between
    lines (as a text layer reads), with each word's offsets and box found by walking the pieces
    along the printed line."""
    from tesserocr import RIL, iterate_level

    printed = api.GetUTF8Text().split("\n")
    lines: list[_Line] = []
    iterator = api.GetIterator()
    if iterator is None:
        return "", []
    for result in iterate_level(iterator, RIL.WORD):
        if not lines or result.IsAtBeginningOf(RIL.TEXTLINE):
            lines.append(_Line(result.BoundingBox(RIL.TEXTLINE), result.Confidence(RIL.TEXTLINE)))
        try:
            piece = result.GetUTF8Text(RIL.WORD)
        except RuntimeError:  # an empty piece
            continue
        lines[-1].pieces.append((piece, result.BoundingBox(RIL.WORD), result.Confidence(RIL.WORD)))
    lines = [line for line in lines if line.letters]
    shown = [text for text in printed if text.strip()]
    aligned = len(shown) == len(lines) and all(
        "".join(text.split()) == line.letters for text, line in zip(shown, lines, strict=True))
    if not aligned:  # never seen; keep the text and go without word boxes
        return _normalize(api.GetUTF8Text()), []
    kept = _without_strays(lines)
    parts: list[str] = []
    words: list[OcrWord] = []
    offset = 0
    for index, (text, line) in enumerate(zip(shown, lines, strict=True)):
        if index not in kept:
            continue
        if parts:  # one line break between lines, as PDFium gives a text layer
            parts.append("\n")
            offset += 1
        for w_index, (word, box, confidence) in enumerate(_words(text, line)):
            if w_index:
                parts.append(" ")
                offset += 1
            parts.append(word)
            x0, y0, x1, y1 = (v * points_per_pixel for v in box)
            words.append(OcrWord(offset, offset + len(word), (x0, y0, x1, y1), confidence))
            offset += len(word)
    return "".join(parts), words


def _as_table_rows(text: str, words: list[OcrWord]) -> tuple[str, list[OcrWord]] | None:
    """The page's words one printed row per line, for a table whose columns Tesseract read as
    blocks of their own (every label, then every figure); None when its text reads as well.
    The same test as for a text layer's stream order (agents.ingest.layout)."""
    if not layout.runs_rows_together(text):
        return None
    rows: list[list[OcrWord]] = []
    centre = 0.0
    for word in sorted(words, key=lambda w: (w.box[1] + w.box[3]) / 2):
        middle, height = (word.box[1] + word.box[3]) / 2, word.box[3] - word.box[1]
        if rows and abs(middle - centre) < layout.ROW_TOLERANCE * height:
            rows[-1].append(word)
            continue
        rows.append([word])
        centre = middle
    parts: list[str] = []
    placed: list[OcrWord] = []
    offset = 0
    for row in rows:
        if parts:
            parts.append("\n")
            offset += 1
        for index, word in enumerate(sorted(row, key=lambda w: w.box[0])):
            if index:
                parts.append(" ")
                offset += 1
            token = text[word.start:word.end]
            parts.append(token)
            placed.append(replace(word, start=offset, end=offset + len(token)))
            offset += len(token)
    rebuilt = "".join(parts)
    if layout.figure_rows(rebuilt) < layout.figure_rows(text) + layout.MIN_GAIN_ROWS:
        return None
    return rebuilt, placed


def _without_strays(lines: list[_Line]) -> set[int]:
    """The lines to keep. A stray line is Tesseract's reading of marks it split off from the
    line they belong to (Thai vowels and tone marks above a tightly spaced line), or of specks:
    rated low, or rated below its neighbour while lying mostly inside that neighbour's band."""
    kept = set()
    for index, line in enumerate(lines):
        if line.confidence < MIN_LINE_CONFIDENCE:
            continue
        top, bottom = line.box[1], line.box[3]
        height = max(bottom - top, 1)
        stray = False
        for other in (lines[index - 1] if index else None,
                      lines[index + 1] if index + 1 < len(lines) else None):
            if other is None or other.confidence <= line.confidence:
                continue
            overlap = min(bottom, other.box[3]) - max(top, other.box[1])
            if overlap >= STRAY_OVERLAP * height and line.confidence < STRAY_MAX_CONFIDENCE:
                stray = True
        if not stray:
            kept.add(index)
    return kept


def _words(text: str, line: _Line) -> list[tuple[str, tuple[int, int, int, int], float]]:
    """The printed line's words (runs between spaces), normalized, each with the union of its
    pieces' boxes and their length-weighted confidence."""
    groups: list[list[tuple[str, tuple[int, int, int, int], float]]] = []
    position = 0
    for piece in line.pieces:
        letters = "".join(piece[0].split())
        if not letters:
            continue
        start = position
        while text[start].isspace():
            start += 1
        if start > position or not groups:
            groups.append([])
        groups[-1].append((letters, piece[1], piece[2]))
        position = start + len(letters)
    words = []
    for group in groups:
        word = _normalize("".join(p[0] for p in group))
        if not word:
            continue
        box = (min(p[1][0] for p in group), min(p[1][1] for p in group),
               max(p[1][2] for p in group), max(p[1][3] for p in group))
        weight = sum(len(p[0]) for p in group)
        words.append((word, box, sum(p[2] * len(p[0]) for p in group) / weight))
    return words


def _normalize(text: str) -> str:
    """Text as the gate would leave it: NFC, odd spaces and controls gone, SARA AM joined."""
    return thai.repair_split_sara_am(quality.normalize_text(text))


def _mean_confidence(words: list[OcrWord]) -> float | None:
    weight = sum(w.end - w.start for w in words)
    if not weight:
        return None
    return round(sum(w.confidence * (w.end - w.start) for w in words) / weight, 1)


@lru_cache(maxsize=4)
def _engine(tessdata: str, languages: str) -> PyTessBaseAPI:
    """One Tesseract engine per language set, loaded once per parsing process."""
    from tesserocr import OEM, PSM, PyTessBaseAPI

    api = PyTessBaseAPI(path=tessdata.rstrip("/") + "/", lang=languages, psm=PSM.AUTO,
                        oem=OEM.LSTM_ONLY)
    # inverted (light on dark) text is rare in contracts and statements; the second pass costs
    api.SetVariable("tessedit_do_invert", "0")
    return api


class DocumentOcr:
    """OCR for one document's pages, in page order: which pages need it, in which languages,
    and which reading of a page to keep."""

    def __init__(self, options: OcrOptions) -> None:
        self.options = options
        self.hint = LanguageHint(options.languages)

    def wants(self, page: PageText) -> bool:
        """Whether ``page`` (as its text layer gave it) should be read by OCR."""
        unreadable = NEEDS_OCR in page.flags or GARBLED in page.flags
        if not unreadable:
            self.hint.observe(page.text)
        return unreadable or self.options.force

    def read(self, document: pdfium.PdfDocument, page: PageText) -> PageText:
        """``page`` read again by OCR, keeping whichever reading is better."""
        pdf_page = document[page.number - 1]
        try:
            reading = read_page(pdf_page, self.options, self.hint.languages)
        finally:
            pdf_page.close()
        # a scanned document tells its languages through the pages OCR has read so far
        self.hint.observe(reading.text)
        return choose(page, reading, self.options.min_confidence)


def choose(page: PageText, reading: OcrReading, min_confidence: float) -> PageText:
    """The page as it is kept: OCR's text when the text layer had none, when OCR was forced, or
    when OCR reads a garbled page better; the text layer's otherwise, with what OCR found."""
    if reading.refused or reading.timed_out:
        flag = OCR_REFUSED if reading.refused else OCR_TIMED_OUT
        return replace(page, flags=(*page.flags, flag), ocr=reading)
    if not reading.text:
        flags = tuple(f for f in page.flags if f != NEEDS_OCR)
        return replace(page, flags=(*flags, OCR_NO_TEXT), ocr=reading)
    if NEEDS_OCR not in page.flags and GARBLED in page.flags and not (
        quality.better_reading(quality.measure(page.text, exact=True),
                               quality.measure(reading.text, exact=True))
        and (reading.confidence or 0) >= min_confidence
    ):
        return page  # the text layer, however poor, reads better than the scan
    # the words' offsets are into OCR's text, which is normalized already: gate it for its flags
    _, flags, _ = quality.gate(reading.text, has_images=False)
    if (reading.confidence or 0) < min_confidence:
        flags = (*flags, OCR_LOW_CONFIDENCE)
    return PageText(page.number, reading.text, flags, EXTRACTOR_OCR, ocr=reading)
