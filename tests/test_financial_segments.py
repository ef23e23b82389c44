"""Segment and regional figures from a filing's segment note, in the three layouts filings use:
segments as subheadings over their measures, measures as subheadings over segment rows, and
segments as one-word columns under a period. A measure or a segment the question does not say
is never taken for the one it does."""

from __future__ import annotations

import pytest

from agents.financial.segments import find_segment_figure

BY_REGION = """Note 11 - Segment Information and Geographic Data
The following table shows information by reportable operating segment (in millions):
2015 2014 2013
Americas:
Net sales $ 93,864 $ 80,095 $ 77,093
Operating income $ 31,186 $ 26,158 $ 24,829
Greater China:
Net sales $ 58,715 $ 31,853 $ 27,016
Operating income $ 23,002 $ 11,039 $ 8,499"""
BY_MEASURE = """Geographical information (In millions)
Year Ended December 31,
2015 2014 2013
Net revenues by Geography:
U.S. $ 3,624 $ 3,525 $ 3,419
United Kingdom 1,403 1,464 1,290
Total net revenues $ 8,592 $ 8,790 $ 8,257
Operating margin:
United Kingdom 275 301 288"""
BY_COLUMN = """Operating Segments (amounts in millions)
Three Months Ended June 30, 2023
Activision Blizzard King Total
Segment net revenues $ 574 $ 1,058 $ 747 $ 2,379
Segment operating income $ 167 $ 409 $ 266 $ 842
Three Months Ended June 30, 2022
Activision Blizzard King Total
Segment operating income $ 92 $ 94 $ 271 $ 457"""


@pytest.mark.parametrize(("question", "page", "value", "label"), [
    ("What were net sales of the Greater China segment in fiscal 2015?", BY_REGION, 58715.0,
     "Greater China: Net sales"),
    ("Operating income of the Americas segment in 2014?", BY_REGION, 26158.0,
     "Americas: Operating income"),
    ("How much net revenue came from the United Kingdom in 2015?", BY_MEASURE, 1403.0,
     "Net revenues by Geography: United Kingdom"),
    ("What was the Blizzard segment's operating income for the three months ended June 30, "
     "2023?", BY_COLUMN, 409.0, "Segment operating income"),
    ("King segment operating income for the quarter ended June 30, 2022?", BY_COLUMN, 271.0,
     "Segment operating income"),
])
def test_a_segment_cell_is_read_in_each_layout(question: str, page: str, value: float,
                                               label: str):
    figure = find_segment_figure(question, [(40, page)])
    assert figure is not None and (figure.value, figure.label, figure.page) == (value, label, 40)
    assert page[figure.citation["start"]:figure.citation["end"]] == figure.citation["text"]
    assert figure.unit == "millions"


@pytest.mark.parametrize("question", [
    "What was the United Kingdom's operating income in 2015?",  # the table has a margin, not it
    "What were net sales of the Japan segment in 2015?",  # no such segment
    "What were Greater China net sales in 2011?",  # no such period
])
def test_what_the_table_does_not_hold_is_not_answered(question: str):
    assert find_segment_figure(question, [(40, BY_REGION), (41, BY_MEASURE)]) is None
