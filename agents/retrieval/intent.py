"""What a question is about, so retrieval can look where the agents put the answer first. A
question about a financial metric names the metric (expanded with the words statements use for
it: "capex" is "purchases of property, plant and equipment") and maybe a period ("FY2018",
"2567", "Q1 2018"); a question about a contract term maps to clause categories (the 41 CUAD
categories plus lease and payment fields, in ``data/categories.json``). Pure functions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from agents.retrieval.text import normalize

DATA = Path(__file__).parent / "data" / "categories.json"

# metric -> (question patterns, words the statements use for it)
FINANCIAL_METRICS: dict[str, tuple[list[str], str]] = {
    "revenue": ([r"\brevenue", r"\bsales\b", r"\bturnover\b", r"\btop line\b", r"รายได้",
                 r"ยอดขาย", r"营业收入", r"收入", r"売上"],
                "revenue sales รายได้จากการขาย 营业收入 売上高"),
    "net_income": ([r"\bnet (income|profit|loss|earnings)\b", r"\bprofit\b", r"\bearnings\b",
                    r"กำไร", r"ขาดทุน", r"净利润", r"利润", r"純利益", r"利益"],
                   "net income profit กำไรสุทธิสำหรับปี 净利润 当期純利益"),
    "capex": ([r"\bcapex\b", r"\bcapital expenditure", r"\bpurchases? of property\b",
               r"รายจ่ายลงทุน", r"购建固定资产"],
              "purchases of property plant and equipment capital expenditure "
              "购建固定资产、无形资产和其他长期资产支付的现金"),
    "assets": ([r"\bassets?\b", r"สินทรัพย์", r"资产", r"資産"],
               "total assets รวมสินทรัพย์ 资产总计"),
    "liabilities": ([r"\bliabilit(y|ies)\b", r"\bdebt\b", r"\bborrowing", r"หนี้สิน", r"เงินกู้",
                     r"负债", r"負債"], "total liabilities รวมหนี้สิน 负债合计"),
    "equity": ([r"\bequity\b", r"\bshareholders'? funds\b", r"\bretained earnings\b",
                r"ส่วนของผู้ถือหุ้น", r"กำไรสะสม", r"所有者权益", r"株主資本", r"剰余金"],
               "total equity retained earnings รวมส่วนของผู้ถือหุ้น 所有者权益合计 株主資本合計"),
    "cash": ([r"\bcash\b", r"\bliquidity\b", r"เงินสด", r"现金", r"货币资金"],
             "cash and cash equivalents net change in cash เงินสด 货币资金 现金流量"),
    "dividends": ([r"\bdividend", r"เงินปันผล", r"股利", r"配当"],
                  "dividends paid เงินปันผล 分配股利 剰余金の配当"),
    "expenses": ([r"\bexpenses?\b", r"\bcosts?\b", r"\bcost of sales\b", r"ค่าใช้จ่าย",
                  r"ต้นทุน", r"费用", r"成本"],
                 "cost of sales expenses ต้นทุนขาย ค่าใช้จ่าย 营业成本 管理费用"),
    "operating_cash_flow": ([r"\boperating (cash|activities)\b", r"\bcash from operations\b",
                             r"经营活动"],
                            "cash from operating activities 经营活动产生的现金流量净额"),
    "tax": ([r"\btax(es)?\b", r"ภาษีเงินได้", r"所得税", r"税"],
            "income tax expense ภาษีเงินได้ 所得税费用"),
    "shareholders": ([r"\bshareholders?\b", r"\bstockholders?\b", r"ผู้ถือหุ้น", r"股东"],
                     "shareholders 股东总数 前10名股东"),
    "operating_income": ([r"\boperating (income|profit|margin|loss)\b", r"\bebit\b",
                          r"กำไรจากการดำเนินงาน", r"营业利润", r"営業利益"],
                         "operating income total net revenues 营业利润 営業利益"),
    "gross_profit": ([r"\bgross (margin|profit)\b", r"กำไรขั้นต้น", r"毛利"],
                     "gross margin gross profit cost of sales กำไรขั้นต้น"),
    "liquidity_ratio": ([r"\bcurrent ratio\b", r"\bquick ratio\b", r"\bworking capital\b",
                         r"อัตราส่วนเงินทุนหมุนเวียน", r"流动比率"],
                        "total current assets total current liabilities "
                        "รวมสินทรัพย์หมุนเวียน รวมหนี้สินหมุนเวียน 流动资产合计 流动负债合计"),
}
# the statement that reports each metric (the balance sheet for ratios of its totals)
METRIC_STATEMENTS: dict[str, tuple[str, ...]] = {
    "revenue": ("income_statement",), "net_income": ("income_statement",),
    "expenses": ("income_statement",), "tax": ("income_statement",),
    "operating_income": ("income_statement",), "gross_profit": ("income_statement",),
    "assets": ("balance_sheet",), "liabilities": ("balance_sheet",),
    "equity": ("balance_sheet", "equity_changes"), "liquidity_ratio": ("balance_sheet",),
    "cash": ("balance_sheet", "cash_flow"), "capex": ("cash_flow",),
    "operating_cash_flow": ("cash_flow",), "dividends": ("cash_flow", "equity_changes"),
}
# a question about a part of the totals, or about policy and risk rather than a figure
NARROWER = re.compile(
    r"\bsegments?\b|\bgeograph|\bregions?\b|\bdivisions?\b|\bby (?:country|region|product|"
    r"business|brand)\b|\bpolic(?:y|ies)\b|\brisks?\b|\bguidance\b|\boutlook\b|\bdescribe\b|"
    r"\bexplain\b|\bwhy\b|\brecogni[sz]|ส่วนงาน|ความเสี่ยง|"
    r"นโยบาย|分部|风险|セグメント", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)((?:fy|FY)\s?)?((?:19|20|25)\d\d)(?!\d)")
_QUARTER = re.compile(r"\bq([1-4])\b|第([一二三四])季度|ไตรมาส(ที่)?\s?([1-4])", re.IGNORECASE)


@dataclass(frozen=True)
class Category:
    name: str
    cuad: bool
    text_patterns: tuple[re.Pattern[str], ...]
    question_patterns: tuple[re.Pattern[str], ...]


@dataclass
class Intent:
    """What retrieval should favour for one question."""

    metrics: list[str] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    expansion: str = ""

    @property
    def financial(self) -> bool:
        return bool(self.metrics)

    narrower: bool = False  # a segment, region, policy or risk: not the statement's total

    @property
    def statements(self) -> set[str]:
        """The statements that report the metrics asked about, unless the question is about a
        part of them (a segment, a region) or about words rather than a figure."""
        if self.narrower:
            return set()
        return {s for m in self.metrics for s in METRIC_STATEMENTS.get(m, ())}


@lru_cache(maxsize=1)
def categories() -> tuple[Category, ...]:
    """The clause and field categories with their compiled patterns."""
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    return tuple(Category(
        name=item["name"], cuad=item["cuad"],
        text_patterns=tuple(re.compile(p, re.IGNORECASE) for p in item["text_patterns"]),
        question_patterns=tuple(re.compile(p, re.IGNORECASE) for p in item["question_patterns"]),
    ) for item in raw)


def cuad_categories() -> list[str]:
    """The 41 CUAD clause category names, in CUAD's order."""
    return [c.name for c in categories() if c.cuad]


def periods_in(text: str) -> list[str]:
    """Period labels a text names: fiscal years (Buddhist-era years also as Gregorian) and
    quarters, normalised as ``2024`` and ``Q1``."""
    found: list[str] = []
    for match in _YEAR.finditer(text):
        year = int(match.group(2))
        for value in (year, year - 543 if year > 2400 else None):
            if value is not None and str(value) not in found:
                found.append(str(value))
    for match in _QUARTER.finditer(text):
        digit = match.group(1) or match.group(4) or str("一二三四".index(match.group(2)) + 1)
        found.append(f"Q{digit}")
    return found


def analyse_question(question: str) -> Intent:
    """The metrics, periods and clause categories a question asks about."""
    text = normalize(question)
    intent = Intent(periods=periods_in(question))
    expansions: list[str] = []
    for metric, (patterns, words) in FINANCIAL_METRICS.items():
        if any(re.search(p, text) for p in patterns):
            intent.metrics.append(metric)
            expansions.append(words)
    for category in categories():
        if any(p.search(text) for p in category.question_patterns):
            intent.categories.append(category.name)
    intent.expansion = " ".join(expansions)
    intent.narrower = bool(NARROWER.search(text))
    return intent
