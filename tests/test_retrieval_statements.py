"""How retrieval finds a filing's statements: a statement's title is told from prose and from a
contents line that mention it, plural and "condensed" titles count, US-style rows with "$"
signs are line items, and a metric question routes to the statement that reports it (a
question about a segment, a policy or a risk does not). Pure functions, no database."""

from __future__ import annotations

import pytest

from agents.retrieval.intent import analyse_question
from agents.retrieval.structure import statement_entries
from app.models.search import EntryKind

OPERATIONS = (
    "Table of Contents\nCONSOLIDATED STATEMENTS OF OPERATIONS\n(In millions, except per share "
    "amounts)\nYears ended\n2015 2014 2013\nNet sales $ 233,715 $ 182,795 $ 170,910\n"
    "Cost of sales 140,089 112,258 106,606\nGross margin 93,626 70,537 64,304\n"
    "Net income $ 53,394 $ 39,510 $ 37,037\n"
)
PROSE = (
    "Liquidity and Capital Resources\nThe following discussion refers to amounts shown in\n"
    "the consolidated balance sheets.\nCash increased by $7.3 billion during 2015.\n"
)
CONTENTS = (
    "Index to Consolidated Financial Statements\nConsolidated Statements of Operations 39\n"
    "Consolidated Balance Sheets 41\nConsolidated Statements of Cash Flows 43\n"
)
QUARTERLY = (
    "Condensed Consolidated Balance Sheet as of June 30\nJune 30, 2023 December 31, 2022\n"
    "Total current assets 17,000 15,000\nTotal assets 27,000 25,000\n"
    "Total current liabilities 3,000 4,000\n"
)


def statements(pages: dict[int, str]) -> list[tuple[int, str | None]]:
    return [(d.page, d.label) for d in statement_entries(pages) if d.kind == EntryKind.STATEMENT]


def test_statement_titles_are_told_from_prose_and_contents_lines():
    found = statements({41: OPERATIONS, 34: PROSE, 75: CONTENTS, 4: QUARTERLY})
    assert (41, "income_statement") in found and (4, "balance_sheet") in found
    assert not [page for page, _ in found if page in (34, 75)]


def test_rows_with_currency_signs_are_line_items_of_their_statement():
    items = [d for d in statement_entries({41: OPERATIONS}) if d.kind == EntryKind.LINE_ITEM]
    net_sales = next(d for d in items if d.text.startswith("Net sales"))
    assert net_sales.label == "income_statement" and net_sales.period == "2015,2014,2013"


@pytest.mark.parametrize(("question", "statements_wanted"), [
    ("What were total net sales in fiscal 2015?", {"income_statement"}),
    ("What was the current ratio as of September 26, 2015?", {"balance_sheet"}),
    ("What was FY2018 capital expenditure?", {"cash_flow"}),
    ("What was the operating margin in Q2 2023?", {"income_statement"}),
    ("How did net revenues change in 2015 compared with 2014?", {"income_statement"}),
    ("สินทรัพย์รวม ณ วันที่ 31 ธันวาคม 2565 เป็นเท่าไร", {"balance_sheet"}),
    ("What were net sales in the Americas segment in 2015?", set()),
    ("What is the revenue recognition policy?", set()),
])
def test_metric_questions_route_to_the_statement_that_reports_them(question, statements_wanted):
    assert analyse_question(question).statements == statements_wanted
