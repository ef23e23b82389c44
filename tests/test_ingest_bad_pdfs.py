"""Every bad PDF the ingest core can meet, each with the exact error or flag it gets: passwords,
truncation, a broken xref, non-PDF bytes, too many pages, a decompression bomb, deeply nested
objects, a scan with no text layer, garbled glyphs, mangled Thai, and a parse that runs too long.
The test process itself must survive all of them: the parsing happens in a sandboxed child."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from agents.ingest import (
    GARBLED,
    NEEDS_OCR,
    SECOND_EXTRACTOR,
    THAI_MANGLED,
    PageExtraction,
    extract_pages,
    inspect_pdf,
    read_pdf,
)
from app.core.errors import (
    CorruptDocument,
    PasswordRequired,
    ResourceLimitExceeded,
    TooManyPages,
)
from app.core.settings import LimitSettings
from tests import pdf_factory

LIMITS = LimitSettings(parse_memory_bytes=256 * 1024 * 1024, parse_timeout_s=60)


def read_all(path: Path, limits: LimitSettings = LIMITS) -> list:
    return list(extract_pages(path, limits=limits))


def test_empty_password_pdf_is_opened_and_reported_encrypted(tmp_path: Path) -> None:
    path = pdf_factory.write_encrypted(tmp_path / "empty-password.pdf", user_password="")
    info = inspect_pdf(path, limits=LIMITS)
    assert info.encrypted is True
    assert info.page_count == 2
    pages = read_all(path)
    assert [p.number for p in pages] == [1, 2]
    assert pages[1].text.startswith("Page 2 line 1: the lessee shall pay rent of USD 201")


def test_password_protected_pdf_needs_the_password(tmp_path: Path) -> None:
    path = pdf_factory.write_encrypted(tmp_path / "locked.pdf", user_password="hunter2")
    with pytest.raises(PasswordRequired, match=r"^encrypted: password required"):
        inspect_pdf(path, limits=LIMITS)
    with pytest.raises(PasswordRequired, match=r"^encrypted: password required"):
        read_all(path)


def test_file_missing_its_last_bytes_is_recovered(tmp_path: Path) -> None:
    path = pdf_factory.write_truncated(tmp_path / "cut-tail.pdf", drop_bytes=10)
    assert inspect_pdf(path, limits=LIMITS).page_count == 3
    pages = read_all(path)
    assert [p.number for p in pages] == [1, 2, 3]
    assert pages[2].text.startswith("Page 3 line 1:")


def test_file_cut_in_half_is_corrupt(tmp_path: Path) -> None:
    path = pdf_factory.write_truncated(tmp_path / "cut-half.pdf", keep_fraction=0.5)
    message = r"^corrupt: no extractor can read the file \(PDFium: .+; pypdf: .+\)$"
    with pytest.raises(CorruptDocument, match=message):
        inspect_pdf(path, limits=LIMITS)
    with pytest.raises(CorruptDocument, match=message):
        read_all(path)


def test_corrupt_xref_is_rebuilt(tmp_path: Path) -> None:
    path = pdf_factory.write_corrupt_xref(tmp_path / "bad-xref.pdf")
    assert inspect_pdf(path, limits=LIMITS).page_count == 3
    pages = read_all(path)
    assert [p.text.splitlines()[0] for p in pages] == [
        pdf_factory.page_lines(n, 20)[0] for n in (1, 2, 3)
    ]


def test_bytes_that_are_not_a_pdf_are_corrupt(tmp_path: Path) -> None:
    path = pdf_factory.write_not_a_pdf(tmp_path / "junk.pdf")
    with pytest.raises(CorruptDocument, match=r"^corrupt: "):
        inspect_pdf(path, limits=LIMITS)
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with pytest.raises(CorruptDocument, match=r"^corrupt: "):
        read_all(empty)


def test_too_many_pages_is_refused_before_any_text(tmp_path: Path) -> None:
    path = pdf_factory.write_many_pages(tmp_path / "thousands.pdf", 3000, lines_per_page=2)
    limits = LIMITS.model_copy(update={"max_pages": 2000})
    with pytest.raises(TooManyPages, match=r"^too many pages: 3000 > limit 2000$"):
        inspect_pdf(path, limits=limits)
    with pytest.raises(TooManyPages, match=r"^too many pages: 3000 > limit 2000$"):
        next(iter(extract_pages(path, limits=limits)))


def test_thousands_of_pages_within_the_limit_are_all_read(tmp_path: Path) -> None:
    path = pdf_factory.write_many_pages(tmp_path / "thousands.pdf", 2500, lines_per_page=2)
    limits = LIMITS.model_copy(update={"max_pages": 2500})
    assert inspect_pdf(path, limits=limits).page_count == 2500
    numbers = [p.number for p in read_all(path, limits)]
    assert numbers == list(range(1, 2501))


def test_decompression_bomb_stops_at_the_memory_limit(tmp_path: Path) -> None:
    path = pdf_factory.write_decompression_bomb(tmp_path / "bomb.pdf", inflated_bytes=2 << 30)
    assert path.stat().st_size < 64 * 1024
    with pytest.raises(ResourceLimitExceeded, match=r"^parse memory limit: .*256 MiB"):
        read_all(path)
    # the same construction at a harmless size is an ordinary page: the limit is what stopped it
    small = pdf_factory.write_decompression_bomb(tmp_path / "small.pdf", inflated_bytes=4 << 20)
    assert [p.text for p in read_all(small)] == ["Harmless looking page"]


def test_deeply_nested_arrays_do_not_stop_the_page(tmp_path: Path) -> None:
    path = pdf_factory.write_nested_arrays(tmp_path / "arrays.pdf", depth=200_000)
    assert [p.text for p in read_all(path)] == ["Nested arrays inside"]


def test_deeply_nested_page_tree_is_a_resource_limit(tmp_path: Path) -> None:
    path = pdf_factory.write_nested_page_tree(tmp_path / "tree.pdf", depth=5_000)
    # the tree's /Count is readable; the page under 5,000 levels is not
    assert inspect_pdf(path, limits=LIMITS).page_count == 1
    with pytest.raises(ResourceLimitExceeded, match=r"^nesting limit: .*page tree depth"):
        read_all(path)


def test_parse_time_limit(tmp_path: Path) -> None:
    path = pdf_factory.write_many_pages(tmp_path / "slow.pdf", 1500)
    limits = LIMITS.model_copy(update={"parse_timeout_s": 0.2})
    with pytest.raises(ResourceLimitExceeded, match=r"^parse time limit: .* 0.2 s"):
        read_all(path, limits)


def test_scanned_page_needs_ocr(tmp_path: Path) -> None:
    path = pdf_factory.write_scanned_page(tmp_path / "scan.pdf")
    [scan] = read_all(path)
    assert scan.flags == (NEEDS_OCR,)
    assert scan.text == ""


def test_garbled_page_is_flagged_after_trying_pypdf(tmp_path: Path) -> None:
    path = pdf_factory.write_garbled_page(tmp_path / "garbled.pdf")
    readable, garbled = read_all(path)
    assert readable.flags == ()
    assert readable.text.startswith("Schedule A. The monthly fee is USD 48,500.00")
    # pypdf reads the same private-use glyphs, so PDFium's reading is kept and says so
    assert garbled.flags == (GARBLED, SECOND_EXTRACTOR)
    assert garbled.extractor == "pdfium"
    assert pdf_factory.GARBLED_RUN[:10] in garbled.text


def test_type3_page_pdfium_cannot_map_is_read_by_pypdf(tmp_path: Path) -> None:
    path = pdf_factory.write_type3_page(tmp_path / "type3.pdf")
    [page] = read_all(path)
    assert page.text == pdf_factory.TYPE3_TEXT
    assert page.extractor == "pypdf"
    assert page.flags == (SECOND_EXTRACTOR,)
    # even three unmapped glyphs are enough to ask pypdf
    short = pdf_factory.write_type3_page(tmp_path / "short.pdf", "a b c")
    assert [(p.text, p.extractor) for p in read_all(short)] == [("a b c", "pypdf")]


def test_mangled_thai_is_flagged_and_sara_am_repaired(tmp_path: Path) -> None:
    path = pdf_factory.write_thai_mangled_page(tmp_path / "thai.pdf")
    [page] = read_all(path)
    assert page.flags == (THAI_MANGLED, SECOND_EXTRACTOR)
    assert "ค่าน้ำประปา" in page.text and "จำนวน 500 บาท" in page.text
    assert "\u0e4d\u0e32" not in page.text


def test_first_page_resumes_mid_document(tmp_path: Path) -> None:
    path = pdf_factory.write_many_pages(tmp_path / "resume.pdf", 10, lines_per_page=3)
    assert [p.number for p in extract_pages(path, limits=LIMITS, first_page=8)] == [8, 9, 10]


def test_leaving_early_ends_the_parsing_child(tmp_path: Path) -> None:
    path = pdf_factory.write_many_pages(tmp_path / "long.pdf", 400)
    extraction = PageExtraction(path, limits=LIMITS)
    pages = iter(extraction)
    assert next(pages).number == 1
    child = extraction.stats.pid
    os.kill(child, 0)  # alive while the caller is still reading
    pages.close()
    # killed and reaped: neither a running process nor a zombie is left behind
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)


def test_read_pdf_raises_structure_errors_before_any_page(tmp_path: Path) -> None:
    locked = pdf_factory.write_encrypted(tmp_path / "locked.pdf", user_password="hunter2")
    with pytest.raises(PasswordRequired, match=r"^encrypted: password required"):
        read_pdf(locked, limits=LIMITS)
    many = pdf_factory.write_many_pages(tmp_path / "many.pdf", 30, lines_per_page=2)
    with pytest.raises(TooManyPages, match=r"^too many pages: 30 > limit 20$"):
        read_pdf(many, limits=LIMITS.model_copy(update={"max_pages": 20}))


def test_slow_caller_does_not_use_up_the_parse_time(tmp_path: Path) -> None:
    # the pipeline stores pages between reads: only the time spent waiting for the parser counts
    path = pdf_factory.write_many_pages(tmp_path / "paced.pdf", 12, lines_per_page=5)
    limits = LIMITS.model_copy(update={"parse_timeout_s": 1.0})
    numbers = []
    with read_pdf(path, limits=limits) as reading:
        for page in reading:
            numbers.append(page.number)
            time.sleep(0.15)
    assert numbers == list(range(1, 13))
