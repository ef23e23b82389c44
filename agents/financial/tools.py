"""The financial agent's deterministic tools: find the statements in a report (balance sheet,
income statement, cash flow, changes in equity; English, Thai, Chinese and Japanese headings),
read their line items (label, one value per column, the printed text, page and span), the unit
("in thousands of USD", พันบาท, 单位：元, 百万円), the column headings, and pick out the key
totals by label. Sign conventions: parentheses, minus signs and ``△`` are negative, dashes are
empty cells."""

from __future__ import annotations

import re
from typing import Any

from agents.legal.tools import citation
from agents.verify.values import parse_number, to_ascii_digits

Pages = list[tuple[int, str]]

STATEMENT_HEADINGS: dict[str, str] = {
    "balance_sheet": r"balance sheets?|statements? of financial (?:position|condition)|"
                     r"งบแสดงฐานะการเงิน|งบดุล|资产负债表|貸借対照表",
    "income_statement": r"income statements?|statements? of (?:comprehensive )?(?:income|"
                        r"operations|profit or loss)|profit and loss|งบกำไรขาดทุน|利润表|"
                        r"損益計算書",
    "cash_flow": r"statements? of cash flows?|cash flow statements?|งบกระแสเงินสด|现金流量表|"
                 r"キャッシュ・フロー計算書",
    "equity": r"statements? of changes in (?:shareholders'? |stockholders'? )?equity|"
              r"งบแสดงการเปลี่ยนแปลงส่วนของผู้ถือหุ้น|所有者权益变动表|株主資本等変動計算書",
}
_HEADINGS = {kind: re.compile(p, re.IGNORECASE) for kind, p in STATEMENT_HEADINGS.items()}
# a heading line is short, starts with the heading (after numbering or 'consolidated'), and is
# not a sentence that merely mentions a statement
_HEADING_PREFIX = re.compile(r"^(?:[\(（]?[0-9０-９一二三四五六七八九十]+[\)）、.]\s*)?"
                             r"(?:consolidated |condensed |separate |parent company |合并|母公司|"
                             r"連結|\s)*", re.IGNORECASE)
_NOT_HEADING = re.compile(r"变动的情况|项目变动|integral part|accompanying|notes? to", re.I)
UNIT_PATTERNS = [
    (re.compile(r"in (thousands|millions|billions) of ([A-Z]{3}|[a-z ]+dollars|baht)", re.I),
     None),
    # "(In millions, except per share amounts)", "(Dollars in thousands)"
    (re.compile(r"\((?:amounts |dollars |\$ )?in (thousands|millions|billions)\b", re.I), None),
    (re.compile(r"หน่วย\s*:\s*(พันบาท|ล้านบาท|บาท)"), None),
    (re.compile(r"单位\s*[：:]\s*(?:人民币)?\s*(元|千元|万元|百万元)"), None),
    (re.compile(r"単位\s*[：:]\s*(百万円|千円|円)"), None),
]
_NUMBER_TOKEN = r"\(?[△▲\-−－]?[0-9๐-๙][0-9๐-๙,]*(?:\.[0-9๐-๙]+)?\)?%?|[―—–\-]"
# a currency sign may stand before a figure, as its own token or not ("$ 233,715", "$5,173")
_CURRENCY = "$€£¥฿"
_CELL = rf"(?:[{_CURRENCY}]\s?)?(?:{_NUMBER_TOKEN})"
_ITEM = re.compile(rf"^(?P<label>.*?[^\d\s,.()△▲\-−－―—–%{_CURRENCY}].*?)\s+"
                   rf"(?P<values>{_CELL}(?:\s+{_CELL})*)\s*$")
_LOOSE_OPEN = re.compile(r"\(\s+(?=\d)")
_LOOSE_CLOSE = re.compile(r"(\d)\s+\)")
# a line that names the periods of the columns ("September 26, 2015", "2023 2022")
_HEADER_YEAR = re.compile(r"(?<![\d.])(?:19|20)\d\d(?![\d.]|,\d)")
_MONTH = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d", re.I)
_PERIOD_HEADER = re.compile(r"^(?:(?:FY)?\s?(?:19|20|25)\d\d|期末余额|期初余额|本期发生额|"
                            r"上期发生额|本期金额|上期金额|current|prior)", re.IGNORECASE)
KEY_LABELS: dict[str, str] = {
    "total_assets": r"^total assets$|^รวมสินทรัพย์$|^资产总计$|^資産合計$",
    "total_current_assets": r"^total current assets$|^รวมสินทรัพย์หมุนเวียน$|^流动资产合计$",
    "total_liabilities": r"^total liabilities$|^รวมหนี้สิน$|^负债合计$|^負債合計$",
    "total_current_liabilities": r"^total current liabilities$|^รวมหนี้สินหมุนเวียน$|"
                                 r"^流动负债合计$",
    "total_equity": r"^total (?:shareholders'?|stockholders'?)?\s?equity$|"
                    r"^รวมส่วนของผู้ถือหุ้น$|^所有者权益合计$|^純資産合計$",
    "total_liabilities_and_equity": r"^total liabilities and (?:shareholders'?|stockholders'?)?"
                                    r"\s?equity$|^รวมหนี้สินและส่วนของผู้ถือหุ้น$|^负债和所有者权益总计$|"
                                    r"^負債純資産合計$",
    "revenue": r"^(?:total )?revenues?$|^net sales$|^รายได้จากการขาย$|^รวมรายได้$|"
               r"^一、营业总收入$|^营业总收入$|^売上高$",
    "net_income": r"^net (?:income|profit)(?: for the (?:year|period))?$|^กำไรสุทธิ(?:สำหรับปี)?$|"
                  r"^五、净利润.*|^净利润.*|^当期純利益$",
    "net_change_in_cash": r"^net (?:change|increase|decrease) in cash.*$|"
                          r"^五、现金及现金等价物净增加额$",
}
_KEY_LABELS = {key: re.compile(p, re.IGNORECASE) for key, p in KEY_LABELS.items()}
TOTAL_LABEL = re.compile(r"^total\b|^net (?:income|change in cash)$|^รวม|^กำไรสุทธิ|合计$|总计$|"
                         r"合計$", re.IGNORECASE)


def statement_heading(line: str) -> str | None:
    """The kind of statement a line is the heading of, or None."""
    stripped = line.strip()
    if not stripped or len(stripped) > 90 or _NOT_HEADING.search(stripped):
        return None
    rest = stripped[_HEADING_PREFIX.match(stripped).end():]  # type: ignore[union-attr]
    for kind, pattern in _HEADINGS.items():
        match = pattern.match(rest)
        if match and not re.search(r"\d[\d,]{3,}\s*$", stripped):
            return kind
    return None


def read_unit(text: str) -> str | None:
    """The unit a statement states ('thousands of USD', 'พันบาท', '元', '百万円')."""
    for pattern, _ in UNIT_PATTERNS:
        match = pattern.search(text)
        if match:
            return " ".join(g for g in match.groups() if g)
    return None


def parse_item(line: str) -> tuple[str, list[float | None], list[str]] | None:
    """(label, values, printed tokens) when ``line`` is a line item, else None. Percent
    columns (change ratios printed next to amounts) are dropped from the values."""
    # "(1,391 )" and "( 1,391)": a parenthesised figure set loose from its brackets
    match = _ITEM.match(_LOOSE_CLOSE.sub(r"\1)", _LOOSE_OPEN.sub("(", line.strip())))
    if not match:
        return None
    tokens = [t.lstrip(_CURRENCY) for t in match.group("values").split()]
    kept = [t for t in tokens if t and not t.endswith("%")]
    values = [parse_number(t) for t in kept]
    if not any(v is not None for v in values):
        return None
    label = match.group("label").strip().rstrip(_CURRENCY).strip()
    if re.fullmatch(r"[\d\s./-]+", to_ascii_digits(label)):
        return None
    return label, values, kept


def find_statements(pages: Pages) -> list[dict[str, Any]]:
    """Every statement in the document with its line items. A statement runs from its heading
    to the next heading; it may continue over several pages. The lines above a statement's
    first row that name dates or years are its column header (``header``); a row whose label
    starts in lower case continues the label of the text line above it."""
    statements: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for number, text in pages:
        offset = 0
        page_top = True  # no row of the current statement on this page yet
        above: str | None = None  # the text line just above, when it was no row
        for line in text.split("\n"):
            line_start, offset = offset, offset + len(line) + 1
            kind = statement_heading(line)
            if kind:
                stripped = line.strip()
                start = line_start + line.index(stripped)
                current = {"kind": kind, "title": stripped, "page": number, "unit": None,
                           "columns": None, "header": [], "items": [],
                           "citations": [citation(number, text, start, start + len(stripped))]}
                statements.append(current)
                page_top, above = True, None
                continue
            if current is None:
                continue
            if current["unit"] is None and (unit := read_unit(line)):
                current["unit"] = unit
            header = [h for h in line.split() if h not in ("项目", "項目", "Item", "รายการ")]
            if current["columns"] is None and len(header) >= 2 and all(
                    _PERIOD_HEADER.match(h) for h in header):
                current["columns"] = header
            if page_top and is_header(line):
                if not current["items"]:
                    current["header"].append(line.strip())
                continue
            item = parse_item(line)
            if item is None:
                above = line.strip() or None
                if above and not current["items"]:
                    current["header"].append(above)  # "Years ended", "Three Months Ended"
                continue
            label, values, printed = item
            if not current["items"] and all(_HEADER_YEAR.fullmatch(p) for p in printed):
                current["header"].append(line.strip())  # "(in millions) 2015 2014 2013"
                continue
            if above and label[:1].islower():
                label = f"{above} {label}"
            page_top, above = False, None
            stripped = line.strip()
            start = line_start + line.index(stripped)
            current["items"].append({
                "label": label, "values": values, "printed": printed,
                "page": number, "citations": [citation(number, text, start,
                                                       start + len(stripped))]})
    return [s for s in statements if s["items"]]


def is_header(line: str) -> bool:
    """A column-header line: years only, or dates ("September 26, 2015", "Dec 31, 2022")."""
    stripped = line.strip()
    if _MONTH.search(stripped) and len(stripped) < 120:
        return True
    if not _HEADER_YEAR.search(stripped):
        return False
    return not re.sub(r"[\s()]|(?:FY|fiscal)", "",
                                                        _HEADER_YEAR.sub("", stripped))


def key_figures(statements: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The key totals by meaning (total assets, revenue, net income, ...), each taken from the
    first statement of its kind that has it (the consolidated one comes first)."""
    figures: dict[str, dict[str, Any]] = {}
    for statement in statements:
        for item in statement["items"]:
            for key, pattern in _KEY_LABELS.items():
                if key not in figures and pattern.search(item["label"]):
                    figures[key] = {"label": item["label"], "values": item["values"],
                                    "statement": statement["kind"],
                                    "columns": statement["columns"],
                                    "unit": statement["unit"],
                                    "citations": [dict(c) for c in item["citations"]]}
    return figures


def company_name(pages: Pages) -> dict[str, Any] | None:
    """The reporting company: the first line on page 1 that names a company."""
    if not pages:
        return None
    number, text = pages[0]
    pattern = re.compile(r"[^\n]*?(?:\b(?:Inc|Corp|Corporation|Ltd|Limited|PLC|PCL|LLC|Co)\b"
                         r"\.?|บริษัท[^\n]*|[^\n\s]*?股份有限公司|株式会社[^\s(（]*)")
    for match in pattern.finditer(text):
        name = match.group(0).strip()
        if 3 <= len(name) <= 80:
            start = match.start() + match.group(0).index(name)
            return {"value": name, "citations": [citation(number, text, start,
                                                           start + len(name))]}
    return None
