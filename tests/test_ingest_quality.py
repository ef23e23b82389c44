"""The per-page quality gate and the chunker, on text: what gets flagged needs_ocr, garbled or
thai_mangled (and what does not), how Thai is normalized and repaired, and that chunks carry exact
offsets, respect paragraph and sentence ends and never cut a Thai word or cluster apart."""

from __future__ import annotations

import unicodedata

import pytest

from agents.ingest import GARBLED, NEEDS_OCR, THAI_MANGLED, PageText, chunk_page, thai
from agents.ingest.quality import better_reading, gate, measure

CONTRACT_LINE = "The Customer shall pay USD 48,500.00 within thirty (30) days of each invoice. "
THAI_LINE = "ผู้เช่าตกลงชำระค่าเช่าเป็นรายเดือนเดือนละสามหมื่นห้าพันบาทถ้วนภายในวันที่ห้าของทุกเดือน"


def page(text: str, number: int = 1) -> PageText:
    return PageText(number, text, (), "pdfium")


def test_clean_page_has_no_flags_and_normalized_text() -> None:
    raw = "Lease\u00a0Agreement  \r\nRent:\u202f35,000 THB\r\n\x00"
    text, flags, _ = gate(raw, has_images=False)
    assert flags == ()
    assert text == "Lease Agreement\nRent: 35,000 THB"


def test_text_is_nfc() -> None:
    decomposed = "Cafe\u0301 de\u0301cor"
    text, _, _ = gate(decomposed, has_images=False)
    assert text == unicodedata.normalize("NFC", decomposed) == "Café décor"


@pytest.mark.parametrize(
    ("raw", "has_images", "expected"),
    [
        ("", False, True),
        ("  \n \n", False, True),
        ("3", True, True),  # a scan whose text layer holds only the page number
        ("3", False, False),  # a nearly blank page without an image is not a scan
        (CONTRACT_LINE, True, False),  # text with a logo is a real text page
    ],
)
def test_needs_ocr(raw: str, has_images: bool, expected: bool) -> None:
    _, flags, _ = gate(raw, has_images=has_images)
    assert (NEEDS_OCR in flags) is expected


def test_cid_runs_and_replacement_characters_are_garbled() -> None:
    cid = "(cid:12)(cid:45)(cid:77) (cid:3)(cid:19)(cid:20) total 1,200"
    assert GARBLED in gate(cid, has_images=False)[1]
    replacement = "Rent \ufffd\ufffd\ufffd\ufffd \ufffd\ufffd payable"
    assert GARBLED in gate(replacement, has_images=False)[1]


def test_glyph_names_for_unmapped_glyphs_are_garbled_and_dates_are_not() -> None:
    # pypdf writes a glyph it cannot map as its name: a page of them is no reading at all
    names = "/0 /1/2/3/4/3/5/i255/7/7/8/9/i255\n/10 /11/12 /i255/13/14/14/0 /15 /13/16"
    assert GARBLED in gate(names, has_images=False)[1]
    assert measure(names, exact=True).letters == 0
    dated = "Paid on 12/31/2022 and 1/2/2023: see note 3/4. Rent and/or fees."
    assert gate(dated, has_images=False)[1] == ()


def test_a_page_of_mostly_unmapped_glyphs_is_garbled_however_short() -> None:
    assert GARBLED in gate("\x01\x02 \x03", has_images=False)[1]
    assert GARBLED not in gate("Rent \x01", has_images=False)[1]


def test_a_few_private_use_bullets_do_not_make_a_page_garbled() -> None:
    bullets = "".join(f"\uf0b7 {CONTRACT_LINE}\n" for _ in range(6))
    _, flags, quality = gate(bullets, has_images=False)
    assert quality.garbage == 6
    assert GARBLED not in flags


def test_correct_thai_is_not_mangled() -> None:
    text, flags, _ = gate("น้ำประปา ผู้ให้เช่า ค่าเช่า ๓๕,๐๐๐ บาท " + THAI_LINE, has_images=False)
    assert flags == ()
    assert "น้ำประปา" in text


def test_split_sara_am_is_flagged_and_rejoined() -> None:
    raw = "ค่าน\u0e49\u0e4d\u0e32ประปา จ\u0e4d\u0e32นวน 500 บาท"
    text, flags, quality = gate(raw, has_images=False)
    assert THAI_MANGLED in flags
    assert quality.thai_split_sara_am == 2
    assert text == "ค่าน้ำประปา จำนวน 500 บาท"


def test_marks_without_a_base_consonant_are_flagged() -> None:
    raw = "ผู้เช่า \u0e48 ตกลง \u0e34 ชำระ"
    assert thai.count_orphan_marks(raw) == 2
    assert THAI_MANGLED in gate(raw, has_images=False)[1]
    assert THAI_MANGLED not in gate("ผู้เช่า \u0e48 ตกลง", has_images=False)[1]


def test_better_reading_prefers_fewer_defects_then_more_letters() -> None:
    garbled = measure("Rent \ufffd\ufffd\ufffd\ufffd\ufffd\ufffd payable")
    clean = measure("Rent 35,000 baht payable")
    assert better_reading(garbled, clean)
    assert not better_reading(clean, garbled)
    assert not better_reading(clean, measure(""))


def assert_offsets_exact(p: PageText, chunks: list) -> None:
    for chunk in chunks:
        assert p.text[chunk.char_start : chunk.char_end] == chunk.text
        assert chunk.page_number == p.number
        assert chunk.text == chunk.text.strip()


def test_chunks_cover_the_page_with_exact_offsets_and_overlap() -> None:
    text = "\n\n".join(f"Section {i}. " + CONTRACT_LINE * 6 for i in range(1, 9)).strip()
    p = page(text, number=7)
    chunks = chunk_page(p, size=400, overlap=80)
    assert_offsets_exact(p, chunks)
    assert all(len(c.text) <= 400 for c in chunks)
    assert chunks[0].char_start == 0 and chunks[-1].char_end == len(text)
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert after.char_start < before.char_end  # overlapping
        assert before.char_end - after.char_start <= 80 + 1
        assert text[after.char_start - 1].isspace()  # the overlap starts at a word


def test_chunks_end_at_sentence_or_paragraph_boundaries() -> None:
    text = " ".join(CONTRACT_LINE.strip() for _ in range(30))
    chunks = chunk_page(page(text), size=300, overlap=0)
    assert all(c.text.endswith(".") for c in chunks)


def test_thai_without_spaces_is_cut_at_word_boundaries() -> None:
    text = THAI_LINE * 12
    p = page(text)
    chunks = chunk_page(p, size=150, overlap=30)
    assert len(chunks) > 5
    assert_offsets_exact(p, chunks)
    words = {"ผู้เช่า", "ตกลง", "ชำระ", "ค่าเช่า", "เป็น", "ราย", "เดือน", "ทุก", "วันที่", "ห้า", "ของ"}
    for chunk in chunks:
        assert thai.is_cluster_boundary(text, chunk.char_start)
        assert thai.is_cluster_boundary(text, chunk.char_end)
        # never starts inside a cluster: no chunk begins with a mark or a following vowel
        assert chunk.text[0] not in thai.COMBINING_MARKS | thai.FOLLOWING_VOWELS
        assert chunk.text[-1] not in thai.LEADING_VOWELS
    joined = {c.text[:7] for c in chunks} | {c.text[-7:] for c in chunks}
    assert any(any(piece.startswith(w) or piece.endswith(w) for w in words) for piece in joined)


def test_mark_heavy_thai_is_never_cut_before_a_mark() -> None:
    text = "น้ำ" * 200 + "ที่นี่" * 100
    p = page(text)
    for size in (7, 50, 101):
        chunks = chunk_page(p, size=size, overlap=size // 3)
        assert_offsets_exact(p, chunks)
        for chunk in chunks:
            assert chunk.text[0] not in thai.COMBINING_MARKS | thai.FOLLOWING_VOWELS


def test_empty_page_has_no_chunks_and_bad_sizes_are_refused() -> None:
    assert chunk_page(page(""), size=100, overlap=10) == []
    with pytest.raises(ValueError):
        chunk_page(page("text"), size=100, overlap=100)
