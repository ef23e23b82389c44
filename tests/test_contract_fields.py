"""Key fields of real-world agreement layouts, from text written the way filed agreements are:
parties from inline and cover-page preambles (several parties, aliases left out, "Party A:"
labels, signature blocks), governing law normalised to the jurisdiction's name, and agreement /
effective dates in every common written form, with a blank date reported as unknown; and an
SEC filing's cover page (Form 8-K, 10-K, ...) typed as a financial report whatever agreements
it carries as exhibits."""

from __future__ import annotations

import pytest

from agents.legal.dates import find_role_dates
from agents.legal.jurisdictions import find_governing_law, normalize_jurisdiction
from agents.legal.parties import find_all_parties
from agents.triage.rules import classify_by_keywords
from agents.verify.values import find_dates

INLINE = (
    "Exhibit 10.4\nSUPPLY AGREEMENT\nThis SUPPLY AGREEMENT (the \u201cAgreement\u201d), dated "
    "March 3, 2021 (the \u201cEffective Date\u201d), is made by and between\nNorthwind Parts, "
    "Inc., a Delaware corporation, with offices at 10 Main Street, Dover, DE 19901 "
    "(\u201cNorthwind\u201d), and BLUE RIVER HOLDINGS LTD., a company organized under the laws "
    "of Ireland (\u201cBlue River\u201d) and Kestrel GmbH, having its registered office in "
    "Berlin (\u201cKestrel,\u201d and together with Blue River, \u201cBuyers\u201d).\n"
    "In consideration of the mutual promises herein, the parties agree as follows:\n"
    "1. Definitions. Terms have the meanings below."
)
COVER = (
    "Execution Version\nMASTER SERVICES AGREEMENT\nBY AND BETWEEN\nHALCYON DATA SYSTEMS, INC.\n"
    "AND\nMERIDIAN FREIGHT LLC\ndated as of the 19th day of December, 2018\n"
)
LABELLED = (
    "Consulting Contract\nThe Client: Lotus Garden Hotel Co., Ltd. (hereinafter Party A) and "
    "the Consultant:\nParty A: Lotus Garden Hotel Co., Ltd.\nParty B: Tan Wei Design Studio\n"
    "Article I. Scope\n"
)
SIGNATURES = (
    "IN WITNESS WHEREOF, the parties have executed this Agreement.\n"
    "ORCHARD ROBOTICS CORP.\nBy: /s/ Jane Roe\nName: Jane Roe\n"
    "PACIFIC LENS COMPANY\nBy: /s/ John Doe\nName: John Doe\n"
)


def names(pages: list[tuple[int, str]]) -> list[str]:
    return [c["value"]["name"] for c in find_all_parties(pages)]


def test_inline_preamble_names_every_party_without_its_alias():
    found = find_all_parties([(1, INLINE)])
    assert [(c["value"]["name"], c["value"]["role"]) for c in found] == [
        ("Northwind Parts, Inc.", "Northwind"), ("BLUE RIVER HOLDINGS LTD.", "Blue River"),
        ("Kestrel GmbH", "Kestrel")]
    for item in found:  # each name is cited where it is written
        cite = item["citations"][0]
        assert INLINE[cite["start"]:cite["end"]] == item["value"]["name"]


def test_cover_page_party_labels_and_signature_blocks():
    assert names([(1, COVER)]) == ["HALCYON DATA SYSTEMS, INC.", "MERIDIAN FREIGHT LLC"]
    assert "Tan Wei Design Studio" in names([(1, LABELLED)])
    assert "Lotus Garden Hotel Co., Ltd." in names([(1, LABELLED)])
    assert names([(1, "SERVICES AGREEMENT\nSome terms.\n"), (2, SIGNATURES)]) == [
        "ORCHARD ROBOTICS CORP.", "PACIFIC LENS COMPANY"]


@pytest.mark.parametrize(("written", "expected"), [
    ("the State of New York", "New York"), ("NEW YORK STATE", "New York"),
    ("the internal laws of the State of California", "California"),
    ("the United States of America", "United States"), ("R.O.C.", "Taiwan"),
    ("the Republic of China", "Taiwan"), ("England and Wales", "England and Wales"),
    ("the Province of Ontario", "Ontario"), ("Spain", "Spain"),
])
def test_jurisdictions_are_normalised(written: str, expected: str):
    assert normalize_jurisdiction(written) == expected


@pytest.mark.parametrize(("sentence", "expected"), [
    ("12.4 Governing Law. This Agreement shall be governed by and construed in accordance with "
     "the laws of the State of New York, without regard to conflicts of law.", "New York"),
    ("This agreement shall be governed by and construed in accordance with Ohio law.", "Ohio"),
    ("3.14 Governing Law. The laws of the State of Texas (excluding its conflict rules) govern "
     "all matters arising out of this Agreement.", "Texas"),
    ("THIS AGREEMENT SHALL BE GOVERNED BY THE LAWS OF THE PROVINCE OF ONTARIO AND THE FEDERAL "
     "LAWS OF CANADA APPLICABLE THEREIN.", "Ontario"),
    ("This Agreement is governed by the laws of England and Wales.", "England and Wales"),
])
def test_governing_law_clauses(sentence: str, expected: str):
    [best, *_] = find_governing_law([(9, sentence)])
    assert best["value"] == expected


def test_where_a_party_is_organised_is_not_the_governing_law():
    text = ("Acme Corp., a corporation organized under the laws of the State of Delaware. "
            "Acme is in good standing under the laws of the State of Delaware.")
    assert find_governing_law([(1, text)]) == []


@pytest.mark.parametrize(("written", "iso"), [
    ("the 19th day of December, 2018", "2018-12-19"), ("December 19, 2018", "2018-12-19"),
    ("12/19/2018", "2018-12-19"), ("Dated 29/3/18", "2018-03-29"),
    ("1st day of January, 2009", "2009-01-01"), ("15/05/2567", "2024-05-15"),
])
def test_dates_in_every_common_written_form(written: str, iso: str):
    assert [f.value for f in find_dates(written)] == [iso]


def test_agreement_and_effective_dates_from_the_opening_words():
    dates = find_role_dates([(1, INLINE)])
    assert dates["agreement_date"][0]["value"] == "2021-03-03"
    assert dates["effective_date"][0]["value"] == "2021-03-03"
    opening = ("This Outsourcing Agreement is effective as from the 1st day of January, 2009, "
               "by and between A and B.")
    dates = find_role_dates([(1, opening)])
    assert dates["agreement_date"][0]["value"] == dates["effective_date"][0]["value"] == \
        "2009-01-01"


def test_effective_date_defined_as_the_agreement_date_takes_it():
    text = (COVER + "1.12 \u201cEffective Date\u201d means the date first written above.\n")
    dates = find_role_dates([(1, text)])
    assert dates["effective_date"][0]["value"] == "2018-12-19"


def test_a_blank_date_is_unknown_never_guessed():
    text = ("LICENSE AGREEMENT\nThis License Agreement is dated as of ____________, 2020 by and "
            "between Acme Inc. and Beta LLC.\n2. Term. The initial term ends on March 1, 2023. "
            "This agreement was signed on January 5, 2020.")
    [blank] = find_role_dates([(1, text)])["agreement_date"]
    assert blank["value"] is None and blank["note"] == "the date is left blank in the document"
    assert "____" in blank["citations"][0]["text"]


def test_a_date_alone_on_the_cover_page_is_the_agreement_date_when_nothing_else_says():
    cover = "Consulting Contract\nPlanning Unit: Tan Wei Design Studio\nOctober 29, 2015\n"
    body = "Article I. Scope\nThe consultant shall deliver the plans by March 1, 2016.\n"
    [best, *_] = find_role_dates([(1, cover), (2, body)])["agreement_date"]
    assert best["value"] == "2015-10-29" and best["citations"][0]["page"] == 1
    # a date stated in words in the opening still wins over a bare one
    words = "This Agreement is dated as of June 2, 2016.\nJune 30, 2016\n"
    assert find_role_dates([(1, words)])["agreement_date"][0]["value"] == "2016-06-02"


def test_an_sec_filing_cover_page_makes_a_financial_report_whatever_its_exhibits():
    cover = ("UNITED STATES SECURITIES AND EXCHANGE COMMISSION\nWashington, D.C. 20549\n"
             "FORM 8-K\nCURRENT REPORT\nPursuant to Section 13 or 15(d) of the Securities "
             "Exchange Act of 1934\nCommission File Number 001-32224\n")
    exhibit = ("SUPPLEMENTAL INDENTURE\nThis Supplemental Indenture is an agreement between the "
               "parties hereto. WHEREAS the parties agree; governing law; the Trustee may "
               "terminate. This Agreement is governed by the laws of the State of New York.\n")
    result = classify_by_keywords([(1, cover), (2, exhibit), (3, exhibit)])
    assert result.doc_type == "financial_report"
    assert any(e.text.upper() == "FORM 8-K" for e in result.evidence)
    assert classify_by_keywords([(1, exhibit), (2, exhibit)]).doc_type == "contract"
