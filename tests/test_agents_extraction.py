"""What the agents find in real documents, with no model reachable (the deterministic path):
every fact of the project's generated samples (English and Thai, from ``SAMPLE_FACTS``), and on
the shared sample PDFs what a person reading them finds: the office lease's parties, premises,
term and rent; the disclosure's contractor and value; the Japanese equity statement and the
Chinese quarterly report as financial reports with line items that reconcile. Every stored
value must be verified against the page text it cites."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.samples import SAMPLE_FACTS
from tests.agents_support import analyse, no_model, pages_of


@pytest.fixture(scope="module")
def results(samples_dir: Path) -> dict[str, dict[str, Any]]:
    return {name: analyse(pages_of(samples_dir / name), no_model()) for name in SAMPLE_FACTS}


def field(state: dict[str, Any], name: str) -> Any:
    record = state["legal"]["fields"][name]
    assert record["verified"] is True, record
    assert record["citations"] and all(c["verified"] for c in record["citations"])
    return record["value"]


def parties(state: dict[str, Any]) -> list[dict[str, str]]:
    records = state["legal"]["fields"]["parties"]
    assert all(r["verified"] for r in records)
    return [r["value"] for r in records]


def test_services_agreement_fields_match_its_facts(results):
    state, facts = results["services-agreement.pdf"], SAMPLE_FACTS["services-agreement.pdf"]
    assert state["doc_type"] == facts["doc_type"] and state["language"] == "en"
    assert field(state, "title") == facts["title"]
    assert parties(state) == facts["parties"]
    for name in ("agreement_date", "effective_date", "expiration_date"):
        assert field(state, name) == facts[name]
    assert field(state, "term") == {"amount": facts["initial_term_months"], "unit": "months"}
    renewal = field(state, "renewal")
    assert renewal == {"automatic": True,
                       "renewal_term": {"amount": facts["renewal_term_months"], "unit": "months"},
                       "notice": {"amount": facts["non_renewal_notice_days"], "unit": "days"}}
    assert field(state, "governing_law") == facts["governing_law"]
    assert "twelve (12) months" in field(state, "liability_cap")
    amounts = {(a["kind"], a["value"]["amount"], a["value"]["currency"])
               for a in state["legal"]["fields"]["amounts"]}
    for amount in (facts["monthly_fee"], facts["implementation_fee"],
                   facts["minimum_annual_commitment"]):
        assert ("fee", amount, "USD") in amounts
    assert ("insurance", facts["insurance_per_occurrence"], "USD") in amounts
    assert "thirty (30) days" in field(state, "payment_terms")
    rights = field(state, "termination_rights")
    assert {"party": "Either Party", "basis": "convenience",
            "notice": {"amount": facts["termination_for_convenience_notice_days"],
                       "unit": "days"}} in rights


def test_services_agreement_clause_inventory_has_every_cuad_category(results):
    state, facts = results["services-agreement.pdf"], SAMPLE_FACTS["services-agreement.pdf"]
    clauses = {c["category"].lower(): c for c in state["legal"]["clauses"]}
    assert len(clauses) == 41
    for name in facts["clauses_present"]:
        clause = clauses[name.lower()]
        assert clause["present"], name
        assert clause["pages"] and all(c["verified"] for c in clause["citations"]), name
    for name in facts["clauses_absent"]:
        assert not clauses[name.lower()]["present"], name
    governing = clauses["governing law"]["citations"][0]["text"]
    assert "State of New York" in governing
    flags = {f["code"]: f for f in state["legal"]["risk_flags"]}
    assert "90 days" in flags["auto_renewal"]["reason"]
    assert "no_liability_cap" not in flags


def test_thai_lease_fields_with_buddhist_era_dates_and_thai_numerals(results):
    state, facts = results["thai-lease.pdf"], SAMPLE_FACTS["thai-lease.pdf"]
    assert (state["doc_type"], state["language"]) == ("lease", "th")
    assert field(state, "title") == facts["title"]
    assert parties(state) == facts["parties"]
    assert field(state, "premises") == facts["premises"]
    assert field(state, "agreement_date") == facts["agreement_date"]  # 15 พฤษภาคม พ.ศ. 2567
    assert field(state, "effective_date") == facts["start_date"]
    assert field(state, "expiration_date") == facts["end_date"]
    assert state["legal"]["fields"]["expiration_date"]["citations"][0]["text"].endswith("2570")
    assert field(state, "term") == {"amount": facts["term_years"], "unit": "years"}  # ๓ ปี
    assert field(state, "rent") == {"amount": facts["monthly_rent"], "currency": "THB",
                                    "period": "monthly"}
    assert field(state, "governing_law") == facts["governing_law"]
    assert field(state, "renewal_notice") == {"amount": facts["renewal_notice_days"],
                                              "unit": "days"}  # ๖๐ วัน
    assert field(state, "termination_notice") == {"amount": facts["termination_notice_days"],
                                                  "unit": "days"}
    amounts = {(a["kind"], a["value"]["amount"]) for a in state["legal"]["fields"]["amounts"]}
    assert ("security_deposit", facts["deposit"]) in amounts
    assert ("late_fee", facts["late_fee_per_day"]) in amounts


@pytest.mark.parametrize("name", ["financial-statement.pdf", "thai-financial-statement.pdf"])
def test_financial_statements_totals_ratios_and_reconciliation(results, name):
    state, facts = results[name], SAMPLE_FACTS[name]
    assert state["doc_type"] == "financial_report"
    financial = state["financial"]
    assert financial["company"]["value"] == facts["company"]
    kinds = [s["kind"] for s in financial["statements"]]
    assert kinds == facts["statements"]
    assert {s["unit"] for s in financial["statements"]} == {
        "thousands USD" if facts["unit"] == "thousands of USD" else facts["unit"]}
    for statement in financial["statements"]:
        assert statement["columns"] == facts["periods"]
        assert all(item["verified"] for item in statement["items"])
    figures = financial["key_figures"]
    for key in ("total_assets", "total_liabilities", "total_equity", "net_income",
                "total_liabilities_and_equity"):
        assert tuple(figures[key]["values"]) == tuple(map(float, facts["totals"][key])), key
        assert figures[key]["verified"] is True
    ratios = {r["name"]: r for r in financial["ratios"]}
    assets, equity = facts["totals"]["total_assets"][0], facts["totals"]["total_equity"][0]
    assert ratios["equity_ratio"]["value"] == round(equity / assets, 4)
    assert all(r["verified"] for r in ratios.values())
    yoy = {y["name"]: y for y in financial["yoy"]}
    assert yoy["total_assets"]["change"] == assets - facts["totals"]["total_assets"][1]
    checks = financial["reconciliation"]
    assert checks["failed"] == 0 and checks["passed"] >= 4
    balance = [c for c in checks["checks"] if "total_assets" in c["numbers"]]
    assert len(balance) == 2 and all(c["ok"] and c["verified"] for c in balance)


def test_office_lease_parties_premises_term_and_rent(shared_samples: Path):
    state = analyse(pages_of(shared_samples / "office-lease.pdf"), no_model())
    assert state["doc_type"] == "lease"
    assert parties(state) == [
        {"name": "CA-EMERYVILLE PROPERTIES LIMITED PARTNERSHIP", "role": "Landlord"},
        {"name": "NEUROMOLECULAR PHARMACEUTICALS, INC.", "role": "Tenant"}]
    assert field(state, "title") == "OFFICE LEASE AGREEMENT"
    premises = state["legal"]["fields"]["premises"]
    assert premises["value"] == "1900 Powell Street, Emeryville, California"
    assert "Suite 1050" in premises["alternatives"]
    assert field(state, "agreement_date") == "2006-10-25"
    assert field(state, "effective_date") == "2006-12-01"
    assert field(state, "expiration_date") == "2008-11-30"
    assert field(state, "term") == {"amount": 24, "unit": "months"}
    assert field(state, "rent") == {"amount": 19261.20, "currency": "USD", "period": "monthly"}
    assert {"amount": 20033.18, "currency": "USD", "period": "monthly"} in \
        state["legal"]["fields"]["rent"]["alternatives"]
    amounts = {(a["kind"], a["value"]["amount"]) for a in state["legal"]["fields"]["amounts"]}
    assert ("security_deposit", 20000.0) in amounts
    clauses = {c["category"]: c for c in state["legal"]["clauses"]}
    assert clauses["Cap on Liability"]["present"] and clauses["Cap on Liability"]["pages"] == [11]
    assert clauses["Insurance"]["present"] and clauses["Anti-Assignment"]["present"]
    assert state["verification"]["all_verified"] is True


def test_contract_disclosure_contractor_and_value(shared_samples: Path):
    state = analyse(pages_of(shared_samples / "contract-disclosure.pdf"), no_model())
    assert state["doc_type"] == "contract"
    assert parties(state) == [{"name": "Reino International Pty Ltd trading as Duncan Solutions",
                               "role": "Contractor"}]
    assert field(state, "contract_value") == {"amount": 3_148_800.0, "currency": "USD",
                                              "period": None}
    assert field(state, "effective_date") == "2013-05-13"
    assert field(state, "term") == {"amount": 15, "unit": "weeks"}


def test_japanese_equity_statement_is_a_financial_report_with_line_items(shared_samples):
    state = analyse(pages_of(shared_samples / "equity-statement-ja.pdf"), no_model())
    assert (state["doc_type"], state["language"]) == ("financial_report", "ja")
    [statement] = state["financial"]["statements"]
    assert statement["kind"] == "equity" and statement["unit"] == "百万円"
    items: dict[str, list[float | None]] = {}
    for item in statement["items"]:  # the first table (shareholders' equity) comes first
        items.setdefault(item["label"], item["values"])
    assert items["当期首残高"][:5] == [5664.0, 749.0, 12017.0, -747.0, 17683.0]  # △747
    assert items["当期純利益"] == [1269.0, 1269.0]
    assert all(i["verified"] for i in statement["items"])
    assert state["financial"]["company"]["value"].startswith("株式会社極洋")


def test_chinese_quarterly_report_statements_line_items_and_reconciliation(shared_samples):
    state = analyse(pages_of(shared_samples / "quarterly-report-zh.pdf"), no_model())
    assert (state["doc_type"], state["language"]) == ("financial_report", "zh")
    financial = state["financial"]
    kinds = [s["kind"] for s in financial["statements"]]
    assert kinds.count("balance_sheet") == 2 and "income_statement" in kinds \
        and "cash_flow" in kinds
    figures = financial["key_figures"]
    assert figures["total_assets"]["values"] == [298_608_889.04, 306_236_911.04]
    assert figures["total_assets"]["citations"][0]["page"] == 10
    assert figures["total_liabilities"]["values"][0] == 494_937_111.49
    assert figures["total_equity"]["values"][0] == -196_328_222.45
    balance = [c for c in financial["reconciliation"]["checks"]
               if "total_assets" in c["numbers"]]
    assert balance and all(c["ok"] for c in balance)
    assert financial["reconciliation"]["failed"] == 0
    assert state["verification"]["all_verified"] is True


def test_verification_marks_what_the_page_does_not_say(results, samples_dir: Path):
    import asyncio

    from agents.verify.nodes import verify

    state = results["thai-lease.pdf"]
    pages = dict(pages_of(samples_dir / "thai-lease.pdf"))
    # the page now says 36,000 where the rent was read: same length, so spans still line up
    pages[1] = pages[1].replace("35,000 บาท", "36,000 บาท", 1)
    checked = asyncio.run(verify({**state, "pages": list(pages.items())}))
    rent = checked["legal"]["fields"]["rent"]
    assert rent["verified"] is False
    assert rent["unverified_reason"] == "amount THB 35,000.0 is not in the cited text"
    assert rent["citations"][0]["unverified_reason"] == "text not found on the cited page"
    report = checked["verification"]
    assert report["all_verified"] is False
    assert {"value": "{'amount': 35000.0, 'currency': 'THB', 'period': 'monthly'}",
            "reason": rent["unverified_reason"]} in report["values"]["failed"]
    assert checked["legal"]["fields"]["title"]["verified"] is True  # the rest still holds
    assert state["legal"]["fields"]["rent"]["verified"] is True  # the input is not modified


def test_reconciliation_flags_a_statement_that_does_not_add_up(results):
    from agents.financial.checks import reconcile_subtotals
    from agents.financial.tools import find_statements

    state = results["financial-statement.pdf"]
    page = state["pages"][0][1].replace("Inventories 15,880", "Inventories 15,980")
    [balance] = [s for s in find_statements([(1, page)]) if s["kind"] == "balance_sheet"]
    checks = {c["check"].split(" = ")[0]: c for c in reconcile_subtotals(balance)}
    off = checks["Total current assets"]
    assert off["ok"] is False and off["difference"] == 100.0
    assert [t["label"] for t in off["numbers"]["terms"]][:4] == [
        "Cash and cash equivalents", "Trade receivables", "Inventories", "Prepaid expenses"]
    assert checks["Total liabilities"]["ok"] is True
