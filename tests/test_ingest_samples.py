"""LexLedger's own sample documents and the real third-party PDFs in ../shared/samples, through
the ingest core: page counts, metadata and outline, page text that carries the facts recorded in
SAMPLE_FACTS, no quality flags on clean pages, chunks whose offsets point at exactly their text,
statements that reconcile, and byte-identical output from the generator."""

from __future__ import annotations

import re
from pathlib import Path

import pypdf
import pytest

from agents.ingest import PageText, chunk_page, extract_pages, inspect_pdf, read_pdf
from app.core.settings import LimitSettings
from app.samples import SAMPLE_FACTS, generate_samples

LIMITS = LimitSettings()
SHARED_SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples"


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {p.name: p for p in generate_samples(tmp_path_factory.mktemp("samples"))}


@pytest.fixture(scope="module")
def texts(samples: dict[str, Path]) -> dict[str, list[PageText]]:
    return {name: list(extract_pages(path, limits=LIMITS)) for name, path in samples.items()}


def whole(pages: list[PageText]) -> str:
    # line breaks fall where the layout wrapped; facts are searched in the running text
    return re.sub(r"\s+", " ", " ".join(p.text for p in pages))


def test_generator_writes_the_four_documents_deterministically(
    samples: dict[str, Path], tmp_path: Path
) -> None:
    assert sorted(samples) == sorted(SAMPLE_FACTS)
    again = {p.name: p.read_bytes() for p in generate_samples(tmp_path)}
    assert all(again[name] == path.read_bytes() for name, path in samples.items())


@pytest.mark.parametrize(
    ("name", "pages"),
    [
        ("services-agreement.pdf", 3),
        ("thai-lease.pdf", 2),
        ("financial-statement.pdf", 3),
        ("thai-financial-statement.pdf", 1),
    ],
)
def test_pages_are_clean_and_numbered(
    name: str, pages: int, samples: dict[str, Path], texts: dict[str, list[PageText]]
) -> None:
    info = inspect_pdf(samples[name], limits=LIMITS)
    assert info.page_count == pages
    assert info.encrypted is False
    assert info.metadata["creation_date"] == "2024-06-01T09:00:00Z"
    assert [p.number for p in texts[name]] == list(range(1, pages + 1))
    assert all(p.flags == () and p.extractor == "pdfium" for p in texts[name])


def test_contract_outline_and_facts(samples: dict[str, Path], texts: dict) -> None:
    facts = SAMPLE_FACTS["services-agreement.pdf"]
    info = inspect_pdf(samples["services-agreement.pdf"], limits=LIMITS)
    assert info.metadata["title"] == facts["title"]
    outline = {entry["title"]: entry["page"] for entry in info.outline}
    assert len(outline) == 17
    assert outline["2. Effective Date and Term"] == 1
    assert outline["7. Limitation of Liability"] == 2
    assert outline["17. Notices and General"] == 3
    assert {entry["level"] for entry in info.outline} == {1}
    text = whole(texts["services-agreement.pdf"])
    for party in facts["parties"]:
        assert f'("{party["role"]}")' in text and party["name"] in text
    for phrase in ("February 15, 2024", "March 1, 2024", "February 28, 2027",
                   "USD 48,500.00", "USD 120,000.00", "USD 450,000.00", "USD 2,000,000.00",
                   "laws of the State of New York", "ninety (90) days", "sixty (60) days'",
                   "twelve (12) months preceding"):
        assert phrase in text
    for absent in ("most favored", "liquidated damages", "escrow", "exclusivity", "royalt"):
        assert absent not in text.lower()


def test_thai_lease_facts(texts: dict) -> None:
    facts = SAMPLE_FACTS["thai-lease.pdf"]
    text = whole(texts["thai-lease.pdf"])
    assert text.startswith(facts["title"])
    for party in facts["parties"]:
        assert party["role"] in text
    assert "นางสาวพิมพ์ชนก ศรีสุวรรณ" in text and "บริษัท ลานนา ดิจิทัล จำกัด" in text
    for phrase in (facts["agreement_date_be"], facts["start_date_be"], facts["end_date_be"],
                   "35,000 บาท", "๓๕,๐๐๐ บาท", "105,000 บาท", "๖๐ วัน", "๙๐ วัน", "น้ำประปา",
                   facts["premises"]):
        assert phrase in text, phrase


def _amounts(line: str) -> list[int]:
    values = []
    for token in re.findall(r"\(?[\d,]{3,}\)?", line):
        number = int(token.strip("()").replace(",", ""))
        values.append(-number if token.startswith("(") else number)
    return values


@pytest.mark.parametrize(
    ("name", "labels"),
    [
        ("financial-statement.pdf", {"total_assets": "Total assets",
                                     "total_liabilities_and_equity": "Total liabilities and equity",
                                     "net_income": "Net income"}),
        ("thai-financial-statement.pdf", {"total_assets": "รวมสินทรัพย์",
                                          "total_liabilities_and_equity":
                                              "รวมหนี้สินและส่วนของผู้ถือหุ้น",
                                          "net_income": "กำไรสุทธิสำหรับปี"}),
    ],
)
def test_statements_reconcile_in_the_extracted_text(
    name: str, labels: dict[str, str], texts: dict
) -> None:
    facts = SAMPLE_FACTS[name]
    totals = facts["totals"]
    lines = [line for page in texts[name] for line in page.text.splitlines()]
    found = {}
    for key, label in labels.items():
        [line] = [line for line in lines if line.startswith(label + " ")]
        found[key] = tuple(_amounts(line))
        assert found[key] == totals[key]
    assert found["total_assets"] == found["total_liabilities_and_equity"]
    assert facts["unit"] in whole(texts[name])
    for statement, items in facts["line_items"].items():
        page = texts[name][facts["statement_pages"][statement] - 1]
        page_lines = page.text.splitlines()
        for label, values in items.items():
            [line] = [line for line in page_lines if line.startswith(label + " ")]
            assert tuple(_amounts(line)) == values, label
    # retained earnings roll forward: prior + net income - dividends = current
    retained = totals["retained_earnings"]
    assert retained[1] + totals["net_income"][0] - facts["dividends_paid"] == retained[0]


def test_negative_amounts_are_in_parentheses(texts: dict) -> None:
    text = whole(texts["financial-statement.pdf"])
    assert "Cost of sales (84,720) (79,310)" in text
    assert "(in thousands of USD)" in text


@pytest.mark.parametrize("name", sorted(SAMPLE_FACTS))
def test_chunks_point_exactly_at_their_text(name: str, texts: dict) -> None:
    for page in texts[name]:
        chunks = chunk_page(page, size=LIMITS.chunk_chars, overlap=LIMITS.chunk_overlap_chars)
        assert chunks, f"page {page.number} has text but no chunks"
        for chunk in chunks:
            assert chunk.page_number == page.number
            assert page.text[chunk.char_start : chunk.char_end] == chunk.text
            assert len(chunk.text) <= LIMITS.chunk_chars


REAL = {
    "office-lease.pdf": 24,
    "contract-disclosure.pdf": 2,
    "equity-statement-ja.pdf": 1,
    "quarterly-report-zh.pdf": 22,
}


@pytest.mark.parametrize(("name", "page_count"), sorted(REAL.items()))
def test_real_sample_pdfs(name: str, page_count: int) -> None:
    path = SHARED_SAMPLES / name
    if not path.is_file():
        pytest.skip(f"{name} is not in ../shared/samples on this machine")
    info = inspect_pdf(path, limits=LIMITS)
    assert info.page_count == page_count
    pages = list(extract_pages(path, limits=LIMITS))
    assert [p.number for p in pages] == list(range(1, page_count + 1))
    assert all("\r" not in p.text for p in pages)
    for page in pages:
        for chunk in chunk_page(page, size=800, overlap=100):
            assert page.text[chunk.char_start : chunk.char_end] == chunk.text


def test_real_samples_text_content() -> None:
    lease = SHARED_SAMPLES / "office-lease.pdf"
    report = SHARED_SAMPLES / "quarterly-report-zh.pdf"
    if not (lease.is_file() and report.is_file()):
        pytest.skip("../shared/samples is not on this machine")
    lease_pages = list(extract_pages(lease, limits=LIMITS))
    assert "Emeryville" in whole(lease_pages)
    assert not any(p.flags for p in lease_pages)
    report_pages = list(extract_pages(report, limits=LIMITS))
    assert "2018 年第一季度报告全文" in report_pages[1].text


def test_read_pdf_gives_the_same_structure_and_pages(samples: dict[str, Path], texts: dict) -> None:
    path = samples["thai-lease.pdf"]
    with read_pdf(path, limits=LIMITS) as reading:
        assert reading.info == inspect_pdf(path, limits=LIMITS)
        assert list(reading) == texts["thai-lease.pdf"]


def test_outline_is_the_one_pypdf_reads(samples: dict[str, Path]) -> None:
    path = samples["services-agreement.pdf"]
    reader = pypdf.PdfReader(str(path))
    expected = [
        {"title": item.title, "page": reader.get_destination_page_number(item) + 1, "level": 1}
        for item in reader.outline
    ]
    assert inspect_pdf(path, limits=LIMITS).outline == expected
