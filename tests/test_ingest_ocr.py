"""OCR of pages without a usable text layer, in the sandboxed parsing child: image-only copies of
the project's own samples (and of ../shared/samples) read back in English and Thai, word boxes
where the words are, and every bad page (blank, noise, absurd pixel sizes, out of time) ending
with a flag and a reason instead of an error."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from agents.ingest import (
    EXTRACTOR_OCR,
    GARBLED,
    NEEDS_OCR,
    OCR_NO_TEXT,
    OCR_REFUSED,
    OCR_TIMED_OUT,
    OcrReading,
    PageExtraction,
    PageText,
    extract_pages,
)
from agents.ingest.ocr import OcrOptions, choose, options_from
from app.core.settings import LimitSettings, OcrSettings
from app.samples import generate_samples
from tests import pdf_factory
from tests.conftest import SHARED_SAMPLES

LIMITS = LimitSettings(parse_memory_bytes=512 * 1024 * 1024, parse_timeout_s=60)


@pytest.fixture(scope="module")
def ocr() -> OcrOptions:
    options = options_from(OcrSettings())
    assert options is not None, "Tesseract's eng and tha models are missing: run make setup"
    return options


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict[str, Path]:
    return {p.name: p for p in generate_samples(tmp_path_factory.mktemp("samples"))}


def read(path: Path, options: OcrOptions | None, limits: LimitSettings = LIMITS) -> list:
    return list(extract_pages(path, limits=limits, ocr=options))


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_an_english_scan_reads_back_with_the_contracts_key_terms(ocr, samples, tmp_path):
    source = samples["services-agreement.pdf"]
    scan = pdf_factory.write_scan_of(source, tmp_path / "agreement-scan.pdf")
    assert all(NEEDS_OCR in p.flags for p in read(scan, None))  # no text layer at all

    pages = read(scan, ocr)
    assert [p.extractor for p in pages] == [EXTRACTOR_OCR] * 3
    text = "\n".join(p.text for p in pages)
    for phrase in ("MASTER SERVICES AND SUPPLY AGREEMENT", "February 15, 2024",
                   "governed by the laws of", "Limitation of Liability"):
        assert phrase in text, phrase
    # nothing says the language before the first page is read; after it, English alone
    assert [p.ocr.languages for p in pages] == ["tha+eng", "eng", "eng"]
    for page in pages:
        assert page.flags == () and page.ocr.dpi == ocr.dpi
        assert page.ocr.confidence > 90
        for word in page.ocr.words:  # every word's offsets point at its text
            assert page.text[word.start:word.end].strip() == page.text[word.start:word.end] != ""


def test_word_boxes_lie_on_the_words_of_the_page(ocr, samples, tmp_path):
    source = samples["services-agreement.pdf"]
    page = read(pdf_factory.write_scan_of(source, tmp_path / "scan.pdf"), ocr)[0]
    # where PDFium puts the same word in the original, in points from the top-left corner
    document = pdfium.PdfDocument(str(source))
    textpage = document[0].get_textpage()
    height = document[0].get_height()
    original = textpage.get_text_bounded()
    checked = 0
    for word in page.ocr.words:
        token = page.text[word.start:word.end]
        if len(token) < 6 or original.count(token) != 1:
            continue
        at = original.index(token)
        boxes = [textpage.get_charbox(i) for i in range(at, at + len(token))]
        left, right = min(b[0] for b in boxes), max(b[2] for b in boxes)
        top, bottom = height - max(b[3] for b in boxes), height - min(b[1] for b in boxes)
        x0, y0, x1, y1 = word.box
        assert abs(x0 - left) < 3 and abs(x1 - right) < 3, token
        assert abs(y0 - top) < 4 and abs(y1 - bottom) < 4, token
        checked += 1
    assert checked >= 20


def test_a_thai_scan_reads_back_with_the_leases_key_fields(ocr, samples, tmp_path):
    document = pdfium.PdfDocument(str(samples["thai-lease.pdf"]))
    pages = [document[i].get_textpage().get_text_bounded().splitlines()
             for i in range(len(document))]
    # 300 DPI, office scanners' usual setting
    scan = pdf_factory.write_typeset_scan(tmp_path / "lease-scan.pdf", pages, dpi=300)

    read_back = read(scan, ocr)
    text = squeeze("".join(p.text for p in read_back))
    for phrase in ("สัญญาเช่าอาคารพาณิชย์", "ลานนาดิจิทัลจำกัด", "35,000บาท", "105,000บาท",
                   "1มิถุนายนพ.ศ.2567", "ผู้ให้เช่า", "ผู้เช่า", "จังหวัดเชียงใหม่"):
        assert phrase in text, phrase
    assert "ํา" not in text  # Tesseract's split SARA AM is joined, as for any extractor
    assert all(p.extractor == EXTRACTOR_OCR and p.ocr.confidence > 80 for p in read_back)
    assert {p.ocr.dpi for p in read_back} == {ocr.dpi}


def test_the_documents_own_text_chooses_the_ocr_languages(ocr, tmp_path):
    english = pdf_factory.write_pages_with_scans(tmp_path / "english.pdf", [
        "This agreement is made between the parties named below. " * 8, None])
    assert read(english, ocr)[1].ocr.languages == "eng"
    thai = pdf_factory.write_font_text(tmp_path / "thai.pdf", ["สัญญาเช่าฉบับนี้ทำขึ้นระหว่างคู่สัญญา"])
    mixed = tmp_path / "mixed.pdf"
    from pypdf import PdfWriter
    writer = PdfWriter()
    writer.append(str(thai))
    writer.append(str(pdf_factory.write_scanned_page(tmp_path / "scan.pdf")))
    writer.write(str(mixed))
    assert read(mixed, ocr)[1].ocr.languages == "tha+eng"


def test_blank_and_noise_pages_end_empty_with_a_flag(ocr, tmp_path):
    rng = np.random.default_rng(7)
    blank = Image.new("L", (1654, 2339), 255)
    noise = Image.fromarray(rng.integers(0, 256, (2339, 1654), dtype=np.uint8))
    speckle = Image.fromarray(np.where(rng.random((2339, 1654)) < 0.02, 0, 255).astype(np.uint8))
    path = pdf_factory.write_image_pages(tmp_path / "nothing.pdf", [blank, noise, speckle])
    for page in read(path, ocr):
        assert (page.text, page.flags) == ("", (OCR_NO_TEXT,))
        assert page.ocr is not None and page.ocr.words == ()


def test_an_image_of_absurd_pixel_size_is_refused_before_rendering(ocr, tmp_path):
    path = pdf_factory.write_oversized_image_page(tmp_path / "huge-image.pdf")
    # decoding the image would need 10 GB; the parse may use 64 MiB: nothing is decoded
    lean = LimitSettings(parse_memory_bytes=64 * 1024 * 1024, parse_timeout_s=60)
    (page,) = read(path, ocr, limits=lean)
    assert page.flags == (NEEDS_OCR, OCR_REFUSED)
    assert page.ocr.note == ("page carries an image of 100000 x 100000 pixels, more than the "
                             "100 megapixels allowed")


def test_a_page_too_large_to_render_is_refused(ocr, tmp_path):
    path = tmp_path / "poster.pdf"
    path.write_bytes(pdf_factory.serialize([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 14400 14400] >>",
    ]))
    (page,) = read(path, ocr)
    assert OCR_REFUSED in page.flags
    assert page.ocr.note == ("page of 14400 x 14400 pt is too large to OCR: at 100 DPI it would "
                             "exceed 40 megapixels")


def test_a_page_out_of_ocr_time_is_flagged_and_the_rest_goes_on(ocr, samples, tmp_path):
    scan = pdf_factory.write_scan_of(samples["services-agreement.pdf"], tmp_path / "scan.pdf")
    hurried = dataclasses.replace(ocr, page_timeout_s=0.05)
    pages = read(scan, hurried)
    assert len(pages) == 3
    for page in pages:
        assert page.flags == (NEEDS_OCR, OCR_TIMED_OUT) and page.text == ""
        assert page.ocr.note == "OCR stopped after the page's 0.05 s limit"


def test_a_document_of_ocr_pages_may_take_longer_than_the_parse_limit(ocr, samples, tmp_path):
    # each OCR'd page brings its own time allowance: the document's limit is not the pages' sum
    scan = pdf_factory.write_scan_of(samples["services-agreement.pdf"], tmp_path / "scan.pdf")
    tight = LimitSettings(parse_memory_bytes=512 * 1024 * 1024, parse_timeout_s=1.0)
    pages = read(scan, ocr, limits=tight)
    assert [p.extractor for p in pages] == [EXTRACTOR_OCR] * 3


def test_forced_ocr_reads_pages_that_have_a_text_layer(ocr, samples):
    pages = read(samples["services-agreement.pdf"], dataclasses.replace(ocr, force=True))
    assert [p.extractor for p in pages] == [EXTRACTOR_OCR] * 3
    assert "MASTER SERVICES AND SUPPLY AGREEMENT" in pages[0].text


def test_ocr_off_leaves_scans_flagged(samples, tmp_path):
    scan = pdf_factory.write_scan_of(samples["services-agreement.pdf"], tmp_path / "scan.pdf")
    assert options_from(OcrSettings(mode="off")) is None
    assert all(p.flags == (NEEDS_OCR,) and p.ocr is None for p in read(scan, None))


@pytest.mark.skipif(not SHARED_SAMPLES.is_dir(), reason="needs the shared sample PDFs")
def test_scans_of_the_shared_samples_read_back_close_to_their_text_layers(ocr, tmp_path):
    source = SHARED_SAMPLES / "office-lease.pdf"
    document = pdfium.PdfDocument(str(source))
    original = squeeze(document[0].get_textpage().get_text_bounded())
    scan = pdf_factory.write_scan_of(source, tmp_path / "lease-scan.pdf")
    page = next(iter(extract_pages(scan, limits=LIMITS, ocr=ocr)))
    words = re.findall(r"[A-Za-z]{5,}", original)
    found = sum(1 for w in words if w in squeeze(page.text))
    assert found >= 0.95 * len(words)


@pytest.mark.slow
def test_memory_stays_flat_over_a_500_page_scan(ocr, tmp_path):
    short = pdf_factory.write_scanned_register(tmp_path / "short.pdf", 50)
    long = pdf_factory.write_scanned_register(tmp_path / "long.pdf", 500)
    peaks = []
    for path, count in ((short, 50), (long, 500)):
        extraction = PageExtraction(path, limits=LIMITS, ocr=ocr)
        numbers = [p.number for p in extraction if p.extractor == EXTRACTOR_OCR
                   and f"Register page {p.number}: received THB {p.number * 125:,}" in p.text]
        assert numbers == list(range(1, count + 1))
        peaks.append(extraction.stats.peak_rss_bytes)
    # ten times the pages, the same child: no page's image or OCR result is kept
    assert peaks[1] - peaks[0] < 32 * 1024 * 1024


def test_a_garbled_text_layer_is_replaced_when_ocr_reads_the_page_better(ocr, tmp_path):
    lines = ["Schedule A. The monthly fee is USD 48,500.00 payable within thirty days.",
             "Either party may terminate this agreement on ninety days' written notice."]
    path = pdf_factory.write_unmapped_text_page(tmp_path / "unmapped.pdf", lines)
    [unread] = read(path, None)
    assert GARBLED in unread.flags and "Schedule" not in unread.text
    [page] = read(path, ocr)
    assert page.extractor == EXTRACTOR_OCR and page.flags == ()
    assert page.text == "\n".join(lines)


def test_a_garbled_page_keeps_its_text_layer_unless_ocr_reads_it_better_and_surely():
    layer = PageText(2, "Rent " + pdf_factory.GARBLED_RUN + " 12", (GARBLED,), "pdfium")
    unsure = OcrReading("Rent 12", 41.0, languages="eng", dpi=150)
    assert choose(layer, unsure, min_confidence=60) is layer
    fewer_letters = OcrReading("R", 95.0, languages="eng", dpi=150)
    assert choose(layer, fewer_letters, min_confidence=60) is not layer  # no garbage wins
    sure = OcrReading("Rent 12", 96.0, languages="eng", dpi=150)
    kept = choose(layer, sure, min_confidence=60)
    assert (kept.text, kept.flags, kept.extractor) == ("Rent 12", (), EXTRACTOR_OCR)
