"""LexLedger's own sample documents: an English services agreement, a Thai lease, a small English
financial statement and a Thai one, written as PDFs with fpdf2 (Thai in the TLWG Garuda font from
Debian's fonts-thai-tlwg-ttf). The project ships no third-party PDFs; these are what the README's
run command processes. ``SAMPLE_FACTS`` records what each sample states (parties, dates, amounts,
clauses present and absent, statement totals) so tests and evaluation labels share one truth.
Output is deterministic: the same bytes on every run with the same fpdf2.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fpdf import FPDF

from app.sample_texts import (
    CONTRACT_CLAUSES_ABSENT,
    CONTRACT_CLAUSES_PRESENT,
    CONTRACT_SECTIONS,
    CONTRACT_TITLE,
    LEASE_SECTIONS,
    LEASE_TITLE,
)

THAI_FONT_DIRS = (Path("/usr/share/fonts/truetype/tlwg"), Path("/usr/share/fonts/tlwg"))
_FIXED_DATE = dt.datetime(2024, 6, 1, 9, 0, tzinfo=dt.UTC)
_THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")

# Balance sheet, income statement and cash flow of Meridian Components Inc. in thousands of USD,
# (current year, prior year). Totals are computed below, never typed, so they always reconcile.
EN_ASSETS_CURRENT = {
    "Cash and cash equivalents": (18_420, 12_905),
    "Trade receivables": (24_310, 21_770),
    "Inventories": (15_880, 17_240),
    "Prepaid expenses": (1_390, 1_115),
}
EN_ASSETS_NONCURRENT = {
    "Property, plant and equipment, net": (46_750, 44_120),
    "Intangible assets": (6_450, 7_050),
}
EN_LIABILITIES = {
    "Trade payables": (14_960, 16_430),
    "Accrued liabilities": (5_210, 4_870),
    "Current portion of long-term debt": (4_000, 4_000),
    "Long-term debt": (22_000, 26_000),
}
EN_EQUITY = {"Share capital": (30_000, 30_000)}
EN_INCOME = {
    "Revenue": (128_400, 117_950),
    "Cost of sales": (-84_720, -79_310),
    "Selling, general and administrative expenses": (-22_180, -20_640),
    "Interest expense": (-1_460, -1_690),
    "Income tax expense": (-4_010, -3_260),
}
EN_CASH_FLOW = {
    "Cash from operating activities": (19_835, 15_210),
    "Purchases of property, plant and equipment": (-8_420, -6_980),
    "Repayment of long-term debt": (-4_000, -4_000),
    "Dividends paid": (-1_900, -1_500),
}
# Thai statement of Siam Fresh Foods PCL in thousands of baht (พันบาท), 2567 and 2566 (B.E.)
TH_ASSETS = {
    "เงินสดและรายการเทียบเท่าเงินสด": (52_300, 41_780),
    "ลูกหนี้การค้า": (88_460, 79_120),
    "สินค้าคงเหลือ": (63_150, 66_900),
    "ที่ดิน อาคารและอุปกรณ์ สุทธิ": (214_600, 205_340),
}
TH_LIABILITIES = {
    "เจ้าหนี้การค้า": (71_230, 69_880),
    "เงินกู้ยืมระยะยาว": (120_000, 135_000),
}
TH_EQUITY = {"ทุนเรือนหุ้น": (150_000, 150_000)}
TH_INCOME = {
    "รายได้จากการขาย": (612_800, 574_300),
    "ต้นทุนขาย": (-451_900, -428_650),
    "ค่าใช้จ่ายในการขายและบริหาร": (-96_420, -90_110),
    "ต้นทุนทางการเงิน": (-7_350, -8_120),
    "ภาษีเงินได้": (-11_430, -9_480),
}


def _sum(rows: dict[str, tuple[int, int]]) -> tuple[int, int]:
    return sum(v[0] for v in rows.values()), sum(v[1] for v in rows.values())


def _add(*pairs: tuple[int, int]) -> tuple[int, int]:
    return sum(p[0] for p in pairs), sum(p[1] for p in pairs)


def _statement_totals(
    assets: dict[str, tuple[int, int]],
    liabilities: dict[str, tuple[int, int]],
    capital: dict[str, tuple[int, int]],
    income: dict[str, tuple[int, int]],
) -> dict[str, tuple[int, int]]:
    """Totals for one company; retained earnings is the balancing figure, shown as a line."""
    total_assets = _sum(assets)
    total_liabilities = _sum(liabilities)
    retained = (
        total_assets[0] - total_liabilities[0] - _sum(capital)[0],
        total_assets[1] - total_liabilities[1] - _sum(capital)[1],
    )
    total_equity = _add(_sum(capital), retained)
    return {
        "total_assets": total_assets,
        "total_liabilities": total_liabilities,
        "retained_earnings": retained,
        "total_equity": total_equity,
        "total_liabilities_and_equity": _add(total_liabilities, total_equity),
        "net_income": _sum(income),
    }


EN_ASSETS = {**EN_ASSETS_CURRENT, **EN_ASSETS_NONCURRENT}
EN_TOTALS = _statement_totals(EN_ASSETS, EN_LIABILITIES, EN_EQUITY, EN_INCOME)
EN_TOTALS["net_change_in_cash"] = _sum(EN_CASH_FLOW)
TH_TOTALS = _statement_totals(TH_ASSETS, TH_LIABILITIES, TH_EQUITY, TH_INCOME)
# dividends paid in the current year; retained earnings roll forward by net income less these
EN_DIVIDENDS_PAID = -EN_CASH_FLOW["Dividends paid"][0]
TH_DIVIDENDS_PAID = 6_680

SAMPLE_FACTS: dict[str, dict[str, Any]] = {
    "services-agreement.pdf": {
        "doc_type": "contract",
        "language": "en",
        "title": CONTRACT_TITLE,
        "parties": [
            {"name": "Northwind Analytics LLC", "role": "Provider"},
            {"name": "Harbor Freight Logistics Inc.", "role": "Customer"},
        ],
        "agreement_date": "2024-02-15",
        "effective_date": "2024-03-01",
        "initial_term_months": 36,
        "expiration_date": "2027-02-28",
        "renewal_term_months": 12,
        "non_renewal_notice_days": 90,
        "governing_law": "New York",
        "currency": "USD",
        "monthly_fee": 48_500.00,
        "implementation_fee": 120_000.00,
        "minimum_annual_commitment": 450_000.00,
        "payment_terms_days": 30,
        "late_interest_pct_per_month": 1.5,
        "audit_overcharge_threshold_pct": 5,
        "confidentiality_survival_years": 5,
        "termination_for_convenience_notice_days": 60,
        "liability_cap": "fees paid or payable in the 12 months before the claim",
        "insurance_per_occurrence": 2_000_000.00,
        "non_compete_months": 12,
        "clauses_present": CONTRACT_CLAUSES_PRESENT,
        "clauses_absent": CONTRACT_CLAUSES_ABSENT,
        "other_clauses": [
            "Confidentiality", "Payment Terms", "Force Majeure", "Data Protection",
            "Indemnification", "Notices",
        ],
    },
    "thai-lease.pdf": {
        "doc_type": "lease",
        "language": "th",
        "title": LEASE_TITLE,
        "parties": [
            {"name": "นางสาวพิมพ์ชนก ศรีสุวรรณ", "role": "ผู้ให้เช่า"},
            {"name": "บริษัท ลานนา ดิจิทัล จำกัด", "role": "ผู้เช่า"},
        ],
        "premises": "อาคารพาณิชย์เลขที่ 88/12 ถนนนิมมานเหมินท์ ตำบลสุเทพ อำเภอเมืองเชียงใหม่",
        "agreement_date_be": "15 พฤษภาคม พ.ศ. 2567",
        "agreement_date": "2024-05-15",
        "start_date_be": "1 มิถุนายน พ.ศ. 2567",
        "start_date": "2024-06-01",
        "end_date_be": "31 พฤษภาคม พ.ศ. 2570",
        "end_date": "2027-05-31",
        "term_years": 3,
        "currency": "THB",
        "monthly_rent": 35_000,
        "rent_due_day": 5,
        "deposit": 105_000,
        "renewal_notice_days": 60,
        "termination_notice_days": 90,
        "late_fee_per_day": 500,
        "deposit_months": 3,
        "renewal_rent_increase_cap_pct": 5,
        "early_termination_forfeit": "one month of the deposit",
        "governing_law": "Thailand",
    },
    "financial-statement.pdf": {
        "doc_type": "financial_statement",
        "language": "en",
        "company": "Meridian Components Inc.",
        "unit": "thousands of USD",
        "periods": ["FY2024", "FY2023"],
        "period_ends": ["2024-12-31", "2023-12-31"],
        "statements": ["balance_sheet", "income_statement", "cash_flow"],
        "statement_pages": {"balance_sheet": 1, "income_statement": 2, "cash_flow": 3},
        "line_items": {
            "balance_sheet": {**EN_ASSETS, **EN_LIABILITIES, **EN_EQUITY},
            "income_statement": EN_INCOME,
            "cash_flow": EN_CASH_FLOW,
        },
        "totals": EN_TOTALS,
        "dividends_paid": EN_DIVIDENDS_PAID,
    },
    "thai-financial-statement.pdf": {
        "doc_type": "financial_statement",
        "language": "th",
        "company": "บริษัท สยามเฟรชฟู้ดส์ จำกัด (มหาชน)",
        "unit": "พันบาท",
        "periods": ["2567", "2566"],
        "period_ends": ["2024-12-31", "2023-12-31"],
        "statements": ["balance_sheet", "income_statement"],
        "statement_pages": {"balance_sheet": 1, "income_statement": 1},
        "line_items": {
            "balance_sheet": {**TH_ASSETS, **TH_LIABILITIES, **TH_EQUITY},
            "income_statement": TH_INCOME,
        },
        "totals": TH_TOTALS,
        "dividends_paid": TH_DIVIDENDS_PAID,
    },
}


def generate_samples(out_dir: Path) -> list[Path]:
    """Write the four sample PDFs into ``out_dir`` (created if needed) and return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    writers = {
        "services-agreement.pdf": _write_contract,
        "thai-lease.pdf": _write_lease,
        "financial-statement.pdf": _write_financial_statement,
        "thai-financial-statement.pdf": _write_thai_financial_statement,
    }
    paths = []
    for name, write in writers.items():
        pdf = _new_pdf()
        write(pdf)
        path = out_dir / name
        pdf.output(str(path))
        paths.append(path)
    return paths


def thai_font_path() -> Path:
    """The Garuda (or Loma) TTF; raise with the install hint when neither is on the machine."""
    for folder in THAI_FONT_DIRS:
        for name in ("Garuda.ttf", "Loma.ttf"):
            if (folder / name).is_file():
                return folder / name
    raise FileNotFoundError(
        "Thai font Garuda/Loma not found: install fonts-thai-tlwg-ttf (apt-get install -y "
        "fonts-thai-tlwg-ttf)"
    )


def thai_digits(text: str) -> str:
    """Write Arabic digits as Thai digits (๐-๙)."""
    return text.translate(_THAI_DIGITS)


def _new_pdf() -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_creation_date(_FIXED_DATE)
    pdf.set_creator("LexLedger sample generator")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=18)
    return pdf


def _thai_pdf(pdf: FPDF) -> None:
    pdf.add_font("Garuda", fname=str(thai_font_path()))


def _write_contract(pdf: FPDF) -> None:
    pdf.set_title(CONTRACT_TITLE)
    pdf.set_author("Northwind Analytics LLC")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 8, CONTRACT_TITLE, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for heading, body in CONTRACT_SECTIONS:
        if heading:
            pdf.start_section(heading)
            pdf.set_font("Helvetica", "B", 11)
            pdf.multi_cell(0, 6, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10.5)
        for paragraph in body.split("\n"):
            pdf.multi_cell(0, 5.6, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)


def _write_lease(pdf: FPDF) -> None:
    _thai_pdf(pdf)
    pdf.set_title(LEASE_TITLE)
    pdf.add_page()
    pdf.set_font("Garuda", size=16)
    pdf.multi_cell(0, 10, LEASE_TITLE, align="C", new_x="LMARGIN", new_y="NEXT")
    for heading, body in LEASE_SECTIONS:
        if heading:
            pdf.start_section(heading)
            pdf.set_font("Garuda", size=12.5)
            pdf.multi_cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Garuda", size=11.5)
        for paragraph in body.split("\n"):
            pdf.multi_cell(0, 7.2, paragraph, align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)


def _money(value: int) -> str:
    return f"({-value:,})" if value < 0 else f"{value:,}"


Row = tuple[str, tuple[int, int] | None, bool]


def _table(pdf: FPDF, font: str, rows: list[Row], head: tuple[str, str]) -> None:
    """Rows of (label, (current, prior) or None for a sub-heading, bold); negatives in brackets."""
    pdf.set_font(font, "B" if font == "Helvetica" else "", 10)
    pdf.cell(110, 7, "")
    pdf.cell(30, 7, head[0], align="R")
    pdf.cell(30, 7, head[1], align="R", new_x="LMARGIN", new_y="NEXT")
    for label, values, bold in rows:
        pdf.set_font(font, "B" if bold and font == "Helvetica" else "", 10)
        pdf.cell(110, 6.5, label)
        if values is None:
            pdf.ln(6.5)
            continue
        pdf.cell(30, 6.5, _money(values[0]), align="R")
        pdf.cell(30, 6.5, _money(values[1]), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _rows(items: dict[str, tuple[int, int]]) -> list[tuple[str, tuple[int, int] | None, bool]]:
    return [(label, values, False) for label, values in items.items()]


def _write_financial_statement(pdf: FPDF) -> None:
    company = SAMPLE_FACTS["financial-statement.pdf"]["company"]
    totals = EN_TOTALS
    pdf.set_title(f"{company} - Consolidated Financial Statements 2024")
    head = ("FY2024", "FY2023")
    sections: list[tuple[str, list[tuple[str, tuple[int, int] | None, bool]]]] = [
        ("Consolidated Balance Sheet as of December 31", [
            ("Current assets", None, True), *_rows(EN_ASSETS_CURRENT),
            ("Total current assets", _sum(EN_ASSETS_CURRENT), True),
            ("Non-current assets", None, True), *_rows(EN_ASSETS_NONCURRENT),
            ("Total assets", totals["total_assets"], True),
            ("Liabilities", None, True), *_rows(EN_LIABILITIES),
            ("Total liabilities", totals["total_liabilities"], True),
            ("Equity", None, True), *_rows(EN_EQUITY),
            ("Retained earnings", totals["retained_earnings"], False),
            ("Total equity", totals["total_equity"], True),
            ("Total liabilities and equity", totals["total_liabilities_and_equity"], True),
        ]),
        ("Consolidated Income Statement for the year ended December 31", [
            *_rows(EN_INCOME), ("Net income", totals["net_income"], True),
        ]),
        ("Consolidated Statement of Cash Flows for the year ended December 31", [
            *_rows(EN_CASH_FLOW), ("Net change in cash", totals["net_change_in_cash"], True),
        ]),
    ]
    for index, (title, rows) in enumerate(sections):
        pdf.add_page()
        pdf.start_section(title)
        pdf.set_font("Helvetica", "B", 13)
        pdf.multi_cell(0, 7, company, new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "I", 9.5)
        pdf.multi_cell(0, 6, "(in thousands of USD)", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        _table(pdf, "Helvetica", rows, head)
        if index == 0:
            pdf.set_font("Helvetica", "", 9.5)
            pdf.multi_cell(0, 5.5, (
                "Amounts in parentheses are negative. The accompanying notes are an integral "
                "part of these consolidated financial statements. Fiscal years end on "
                "December 31."), new_x="LMARGIN", new_y="NEXT")


def _write_thai_financial_statement(pdf: FPDF) -> None:
    _thai_pdf(pdf)
    company = SAMPLE_FACTS["thai-financial-statement.pdf"]["company"]
    totals = TH_TOTALS
    pdf.set_title(f"{company} งบการเงิน ปี 2567")
    pdf.add_page()
    pdf.set_font("Garuda", size=14)
    pdf.multi_cell(0, 9, company, new_x="LMARGIN", new_y="NEXT")
    blocks: list[tuple[str, list[tuple[str, tuple[int, int] | None, bool]]]] = [
        ("งบแสดงฐานะการเงิน ณ วันที่ 31 ธันวาคม", [
            ("สินทรัพย์", None, True), *_rows(TH_ASSETS),
            ("รวมสินทรัพย์", totals["total_assets"], True),
            ("หนี้สิน", None, True), *_rows(TH_LIABILITIES),
            ("รวมหนี้สิน", totals["total_liabilities"], True),
            ("ส่วนของผู้ถือหุ้น", None, True), *_rows(TH_EQUITY),
            ("กำไรสะสม", totals["retained_earnings"], False),
            ("รวมส่วนของผู้ถือหุ้น", totals["total_equity"], True),
            ("รวมหนี้สินและส่วนของผู้ถือหุ้น", totals["total_liabilities_and_equity"], True),
        ]),
        ("งบกำไรขาดทุน สำหรับปีสิ้นสุดวันที่ 31 ธันวาคม", [
            *_rows(TH_INCOME), ("กำไรสุทธิสำหรับปี", totals["net_income"], True),
        ]),
    ]
    for title, rows in blocks:
        pdf.start_section(title)
        pdf.set_font("Garuda", size=12.5)
        pdf.multi_cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Garuda", size=10)
        pdf.multi_cell(0, 6, "(หน่วย: พันบาท)", new_x="LMARGIN", new_y="NEXT")
        _table(pdf, "Garuda", rows, ("2567", "2566"))
    pdf.set_font("Garuda", size=10)
    pdf.multi_cell(0, 6.5, (
        "ตัวเลขในวงเล็บแสดงจำนวนติดลบ ในปี 2567 บริษัทจ่ายเงินปันผล "
        f"{TH_DIVIDENDS_PAID:,} พันบาท งบการเงินนี้ได้รับอนุมัติจากคณะกรรมการบริษัท "
        f"เมื่อวันที่ {thai_digits('20')} กุมภาพันธ์ พ.ศ. {thai_digits('2568')}"),
        new_x="LMARGIN", new_y="NEXT")
