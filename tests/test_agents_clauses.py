"""The clause inventory with and without a model. Without one, the learned classifier judges an
English contract's passages (thresholds chosen on held-out contracts; a contract's own heading
or a table of contents is no evidence) and the rules judge other languages. With a model faked
at the HTTP boundary, the model may find a category nothing else proposed when it quotes the
passage, and a quote that is not on the page it cites is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agents.legal.clause_model import FIELD_CATEGORIES
from agents.legal.clause_training import choose_threshold
from agents.legal.clauses import rule_hits
from app.cli import app as cli_app
from tests.agents_support import (
    Script,
    analyse,
    confirm_type,
    no_model,
    pick,
    scripted,
    summarise_facts,
)

REALDEV = Path(__file__).resolve().parents[2] / "shared" / "realdev" / "contracts"
FIELDS = set(FIELD_CATEGORIES)
# a most-favoured-customer promise without the words any rule looks for
PRICE_PROMISE = ("Supplier will offer Buyer the best prices and terms it gives any other buyer "
                 "of comparable volumes, and will lower Buyer's prices to match them.")
CONTRACT = [
    (1, "SUPPLY AGREEMENT\nThis Supply Agreement (the \u201cAgreement\u201d) is made as of "
        "June 1, 2022 by and between Northwind Parts, Inc., a Delaware corporation "
        "(\u201cSupplier\u201d), and Harbor Tools LLC, a Texas limited liability company "
        "(\u201cBuyer\u201d).\n1. Supply. Supplier shall sell and Buyer shall buy the Products "
        "listed in Schedule A at the prices in Schedule B.\n2. Pricing. " + PRICE_PROMISE +
        "\n3. Term. This Agreement continues for three (3) years from the date above.\n"),
    (2, "4. Assignment. Neither party may assign this Agreement without the prior written "
        "consent of the other party.\n5. Governing Law. This Agreement is governed by the laws "
        "of the State of Texas.\nNORTHWIND PARTS, INC.\nBy: /s/ A. Smith\nHARBOR TOOLS LLC\n"
        "By: /s/ B. Jones\n"),
]


def clause(state: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in state["legal"]["clauses"] if c["category"] == name)


def judge(judgements: list[dict[str, Any]]) -> Any:
    return lambda _body: {"judgements": judgements}


def test_without_a_model_the_classifier_and_rules_decide_with_citations():
    state = analyse(CONTRACT, no_model())
    assignment = clause(state, "Anti-Assignment")
    assert assignment["present"] and assignment["citations"][0]["page"] == 2
    assert all(c["verified"] for c in assignment["citations"])
    assert clause(state, "Governing Law")["present"]
    assert not clause(state, "Most Favored Nation")["present"]  # no rule knows this wording
    assert not clause(state, "Insurance")["present"]


def test_the_model_finds_a_category_nothing_proposed_when_it_quotes_the_page():
    script = Script({"DocumentType": [confirm_type], "FieldChoices": [pick({})],
                     "ClauseJudgements": [judge([
                         {"category": "Most Favored Nation", "present": True, "page": 1,
                          "quote": PRICE_PROMISE.replace(" ", "  ")},
                         {"category": "Liquidated Damages", "present": True, "page": 2,
                          "quote": "Supplier shall pay liquidated damages of five percent per "
                                   "week of delay."},
                         {"category": "Anti-Assignment", "present": False, "page": 0,
                          "quote": ""}])],
                     "Summary": [summarise_facts]})
    state = analyse(CONTRACT, scripted(script))
    favoured = clause(state, "Most Favored Nation")
    assert favoured["present"] and favoured["source"] == "model"
    [cite] = favoured["citations"]
    assert cite["page"] == 1 and cite["verified"] and cite["text"] == PRICE_PROMISE
    invented = clause(state, "Liquidated Damages")  # the quote is on no page: refused
    assert not invented["present"] and "not on page 2" in invented["refused"]
    assert not clause(state, "Anti-Assignment")["present"]  # the model's judgement counts
    judged = next(e for e in state["llm_log"] if e["step"] == "legal.judge_clauses")
    assert judged["status"] == "ok"
    candidates = [r for r in script.requests if r.get("response_format", {}).get(
        "json_schema", {}).get("name") == "ClauseJudgements"][0]["messages"][-1]["content"]
    assert "Neither party may assign" in candidates  # the classifier's passages are offered


def test_an_unusable_model_answer_leaves_the_classifier_inventory():
    script = Script({"DocumentType": [confirm_type], "FieldChoices": [pick({})],
                     "ClauseJudgements": [lambda _: "not json"], "Summary": [summarise_facts]})
    state = analyse(CONTRACT, scripted(script))
    assert script.steps().count("ClauseJudgements") == 2  # sent back once
    assert clause(state, "Anti-Assignment")["present"]
    assert clause(state, "Anti-Assignment")["source"] in ("classifier", "rules")


def test_headings_and_contents_lines_are_not_rule_evidence():
    hits = rule_hits(["10.10 Entire Agreement and Third-Party Beneficiaries.",
                      "3.32 Records and Audits 34 3.33 Restricted Entities 37 3.34 Severability "
                      "37 3.35 Insurance 38",
                      "Nothing in this Agreement confers any right on a third party beneficiary."])
    assert hits[0] == set() and hits[1] == set()
    assert "Third Party Beneficiary" not in hits[2]  # said not to exist


def test_threshold_is_chosen_on_held_out_scores():
    # two held-out contracts have the clause (scores 2.0 and 1.5), three do not (0.9 and lower)
    threshold = choose_threshold([2.0, 1.5, 0.9, 0.2, -1.0], [True, True, False, False, False])
    assert threshold is not None and 0.9 < threshold <= 1.5
    assert choose_threshold([0.3, -0.2], [False, False]) is None  # nothing to learn from
    # the positives score lowest: only "everything is present" would find them
    assert choose_threshold([2.0, 1.0, -1.0, -2.0], [False, False, True, True]) is None


@pytest.mark.slow
def test_cross_validation_scores_each_contract_with_a_model_that_never_saw_it(tmp_path: Path):
    if not REALDEV.is_dir():
        pytest.skip("the real development contracts are not next to this checkout")
    rows = [json.loads(line) for line in (REALDEV / "labels.jsonl").read_text().splitlines()]
    short = [r for r in rows if r["file"].startswith(("01_", "02_", "04_", "09_", "10_"))]
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(r) + "\n" for r in short))
    out = tmp_path / "cv.json"
    result = CliRunner().invoke(cli_app, ["clauses", "cross-validate", str(REALDEV),
                                          "--labels", str(labels), "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["contracts"] == [r["file"] for r in short]
    for name, prediction in report["predictions"].items():
        assert name not in prediction["model_trained_on"]
        assert len(prediction["model_trained_on"]) == len(short) - 1
    overall = report["overall"]
    labelled = sum(len(set(r["clauses_present"]) - FIELDS) for r in short)
    assert overall["tp"] + overall["fn"] == labelled
    assert overall["recall"] > 0.5  # governing law, assignment, licences, ...
    assert "leave-one-contract-out" in result.output


def test_training_needs_labelled_contracts_in_the_folder(tmp_path: Path):
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps({"file": "missing.pdf", "clauses_present": ["Insurance"]}))
    result = CliRunner().invoke(cli_app, ["clauses", "train", str(tmp_path), "--labels",
                                          str(labels), "--out", str(tmp_path / "m.json")])
    assert result.exit_code != 0 and "no labelled contract" in result.output
    assert not (tmp_path / "m.json").exists()


def test_cross_validation_needs_two_labelled_contracts(tmp_path: Path):
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps({"file": "missing.pdf", "clauses_present": ["Insurance"]}))
    out = tmp_path / "cv.json"
    result = CliRunner().invoke(cli_app, ["clauses", "cross-validate", str(tmp_path), "--labels",
                                          str(labels), "--out", str(out)])
    assert result.exit_code != 0 and "at least two labelled contracts" in result.output
    assert not out.exists()


@pytest.mark.parametrize(("passage", "category", "found"), [
    # a renewal that runs on until a party gives notice a set time before the term ends
    ("The Agreement shall thereafter be extended automatically for additional one-year periods "
     "unless either party gives written notification ninety (90) days prior to the end of the "
     "then current term.", "Notice Period to Terminate Renewal", True),
    ("This Agreement renews each year; a party may end it with six months' notice.",
     "Notice Period to Terminate Renewal", True),
    # notice to terminate for breach is no renewal notice
    ("Either party may terminate this Agreement upon thirty (30) days' written notice if the "
     "other party materially breaches it.", "Notice Period to Terminate Renewal", False),
    # a patent the owner will not prosecute: the other party may take it over first
    ("If Licensor decides not to file or prosecute any Patent Application, it shall notify "
     "Licensee, and Licensee shall thereupon have the right to file and prosecute it at its own "
     "cost.", "Rofr/Rofo/Rofn", True),
    ("Licensor shall file, prosecute and maintain the Patent Applications at its own cost.",
     "Rofr/Rofo/Rofn", False),
])
def test_renewal_notice_and_first_rights_are_read_from_their_usual_wording(
        passage: str, category: str, found: bool):
    assert (category in rule_hits([passage])[0]) is found
