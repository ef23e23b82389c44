"""``lexledger eval``: the scoring arithmetic on a hand-built outcome, and the whole harness run
on the project's labelled set (``eval/labels.jsonl``: the generated samples and, when they are
next to the checkout, the shared sample PDFs) through the real pipeline on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.commands.eval import app as eval_app
from app.commands.eval import load_labels, score
from app.core.settings import get_settings
from app.samples import SAMPLE_FACTS
from tests.conftest import REPO_ROOT, SHARED_SAMPLES

LABELS = REPO_ROOT / "eval" / "labels.jsonl"


def test_scores_follow_from_the_outcome() -> None:
    labels = [{"file": "a.pdf", "doc_type": "contract",
               "clauses_present": ["Governing Law", "Audit Rights"],
               "clauses_absent": ["Exclusivity"],
               "fields": {"governing_law": ["State of New York"],
                          "effective_date": ["March 1, 2024", "13 May 2013"],
                          "agreement_date": ["3/1/2024"]}},
              {"file": "b.pdf", "doc_type": "financial_report"},
              {"file": "c.pdf"}]
    documents = {
        "a.pdf": {"id": "1", "status": "done", "doc_type": "contract", "seconds": 2.0,
                  "result": {"legal": {
                      "clauses": [{"category": "Governing Law", "present": True},
                                  {"category": "Audit Rights", "present": False},
                                  {"category": "Exclusivity", "present": True}],
                      "fields": {"governing_law": {"value": "the laws of the State of New "
                                                            "York"},
                                 "effective_date": {"value": "2024-03-01"},
                                 "agreement_date": {"value": "2024-03-01"}}}}},
        "b.pdf": {"id": "2", "status": "done", "doc_type": "contract", "seconds": 4.0,
                  "result": {}},
        "c.pdf": {"status": "failed", "reason": "the PDF is encrypted"},
    }
    answers = [
        {"evidence_pages": [2], "pages": [5, 2, 7], "answer": "x", "expected": "x",
         "model": "extractive"},
        {"evidence_pages": [1, 3], "pages": [1, 4, 5, 6, 3], "answer": "y", "expected": "y",
         "model": "extractive"},
    ]
    report = score(labels, documents, answers)
    assert report["documents"]["parsed"] == 2
    assert report["documents"]["failed"] == [{"file": "c.pdf", "reason": "the PDF is encrypted"}]
    assert report["doc_type"]["accuracy"] == 0.5
    assert report["retrieval"]["recall"] == {"@1": 0.25, "@3": 0.75, "@5": 1.0, "@10": 1.0}
    assert report["answers"]["exact_match"] is None  # no model answered
    overall = report["clauses"]["overall"]
    assert (overall["tp"], overall["fp"], overall["fn"]) == (1, 1, 1)
    assert overall["precision"] == overall["recall"] == overall["f1"] == 0.5
    assert report["clauses"]["per_category"]["Exclusivity"]["fp"] == 1
    assert report["fields"]["governing_law"]["rate"] == 1.0
    assert report["fields"]["effective_date"] == {"expected": 2, "matched": 1, "rate": 0.5}
    # a US-style M/D/YYYY label is the same date
    assert report["fields"]["agreement_date"] == {"expected": 1, "matched": 1, "rate": 1.0}
    assert report["clauses"]["per_file"]["a.pdf"]["missed"] == ["Audit Rights"]
    assert report["clauses"]["per_file"]["a.pdf"]["extra"] == ["Exclusivity"]
    assert report["time_per_document_s"]["mean"] == 3.0


def test_labels_agree_with_the_generated_samples() -> None:
    rows = {row["file"]: row for row in load_labels(LABELS)}
    assert set(SAMPLE_FACTS) <= set(rows)
    contract = rows["services-agreement.pdf"]
    facts = SAMPLE_FACTS["services-agreement.pdf"]
    assert contract["clauses_present"] == facts["clauses_present"]
    assert contract["clauses_absent"] == facts["clauses_absent"]
    assert [p["name"] for p in facts["parties"]] == contract["fields"]["parties"]
    for row in rows.values():
        for question in row.get("questions", []):
            assert question["evidence_pages"] and all(p >= 1 for p in question["evidence_pages"])


@pytest.fixture
def folder(tmp_path: Path, samples_dir: Path) -> Path:
    """The labelled PDFs side by side: the generated samples, and links to the shared ones."""
    for path in samples_dir.glob("*.pdf"):
        (tmp_path / path.name).symlink_to(path)
    for path in SHARED_SAMPLES.glob("*.pdf") if SHARED_SAMPLES.is_dir() else []:
        (tmp_path / path.name).symlink_to(path)
    return tmp_path


@pytest.fixture
def hashing_embedder() -> Iterator[None]:
    # forty questions over eight documents: the model-free embedder keeps this test quick
    settings = get_settings().retrieval
    saved, settings.embedder = settings.embedder, "hashing"
    yield
    settings.embedder = saved


@pytest.mark.slow
def test_eval_runs_the_pipeline_over_the_labelled_set(db, folder: Path, tmp_path: Path,
                                                      hashing_embedder) -> None:
    labels = [row for row in load_labels(LABELS) if (folder / row["file"]).exists()]
    labels_file = tmp_path / "labels.jsonl"
    labels_file.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in labels))
    out = tmp_path / "report.json"
    result = CliRunner().invoke(eval_app, [str(folder), "--labels", str(labels_file),
                                           "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["documents"]["parsed"] == len(labels) and not report["documents"]["failed"]
    questions = sum(len(r.get("questions", [])) for r in labels)
    assert report["retrieval"]["questions"] == questions
    recall = report["retrieval"]["recall"]
    assert recall["@1"] <= recall["@3"] <= recall["@5"] <= recall["@10"]
    assert recall["@5"] >= 0.8, report["questions"]
    assert report["answers"]["exact_match"] is None and report["answers"]["scored"] == 0
    assert report["answers"]["citations_verified"] >= report["answers"]["found"] > 0
    assert report["doc_type"]["labelled"] == len(labels)
    assert "Governing Law" in report["clauses"]["per_category"]
    assert set(report["fields"]) >= {"parties", "effective_date"}
    assert report["time_per_document_s"]["mean"] > 0
    assert "evidence-page recall@5" in result.output
