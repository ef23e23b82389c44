"""``lexledger eval DIR --labels labels.jsonl --out report.json``: runs the real pipeline
(ingest, agents, retrieval, the support agent) over a folder of PDFs on the configured database
and broker (the embedded defaults run everything in-process) and scores it against a labels file
(format in docs/eval.md): documents parsed / failed with reasons, doc-type accuracy,
evidence-page recall@1/3/5/10 of retrieval, answer exact match when a model answered, clause
presence precision/recall/F1 overall and per category, field match rates (normalised
containment), and time per document. Questions go through the same path as ``POST
/v1/queries``: a query row, the ``lexledger.interactive.answer`` task, the stored evidence."""

from __future__ import annotations

import json
import re
import time
import unicodedata
import uuid
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from app.commands.clauses import category_table, cross_validation, print_cross_validation
from app.core.db import session_scope
from app.core.logging import configure_logging
from app.core.migrate import upgrade_database
from app.core.settings import get_settings
from app.models import DocumentStatus, Result
from app.services import queries
from app.services.documents import document_with_job, upload_documents
from app.services.tenants import Caller, get_or_create_tenant

app = typer.Typer(add_completion=False)
console = Console()

EVAL_TENANT = "eval"
RECALL_AT = (1, 3, 5, 10)
DOC_TYPE_ALIASES = {"financial_statement": "financial_report", "annual_report": "financial_report"}
EXTRACTIVE_MODELS = {"extractive", None}
# labels may write dates US style (M/D/YYYY, as CUAD's annotators did)
DATE_FORMATS = ("%Y-%m-%d", "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%m/%d/%Y")
_MARKER = re.compile(r"\s*\[\d+\]")
# the first amount an answer states: "233,715", "(1,391)", "5.72"
_FIGURE = re.compile(r"\(?\d[\d,]*(?:\.\d+)?\)?")
FIGURE_TOLERANCE = 0.005
_SPACE = re.compile(r"\s+")


@app.command("eval")
def eval_command(
    folder: Annotated[Path, typer.Argument(help="folder of PDFs", exists=True, file_okay=False)],
    labels: Annotated[Path, typer.Option(help="labels, one JSON object per line",
                                         exists=True, dir_okay=False)],
    out: Annotated[Path, typer.Option(help="where to write the JSON report")]
    = Path("report.json"),
    wait_s: Annotated[float, typer.Option(help="longest wait for one document")] = 900.0,
    cross_validate: Annotated[bool, typer.Option(
        "--cross-validate", help="also measure the clause classifier leave-one-contract-out "
        "on the labelled contracts")] = False,
) -> None:
    """Run the pipeline over FOLDER's PDFs and score it against LABELS."""
    configure_logging("WARNING")
    rows = load_labels(labels)
    report = run_eval(folder, rows, wait_s=wait_s)
    if cross_validate:
        report["clauses_cross_validated"] = cross_validation(folder, rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print_report(report)
    if cross_validate:
        print_cross_validation(report["clauses_cross_validated"])
    console.print(f"report written to {out}")


def load_labels(path: Path) -> list[dict[str, Any]]:
    """The labels file's objects; every line needs at least ``file``."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if not isinstance(row, dict) or not row.get("file"):
            raise typer.BadParameter(f"{path}:{number}: each line needs a \"file\"")
        rows.append(row)
    return rows


def run_eval(folder: Path, labels: list[dict[str, Any]], *, wait_s: float = 900.0
             ) -> dict[str, Any]:
    """Processes every PDF of ``folder`` and returns the scored report."""
    upgrade_database()
    with session_scope() as session, session.begin():
        tenant_id = get_or_create_tenant(session=session, name=EVAL_TENANT).id
    caller = Caller(tenant_id=tenant_id, key_id=uuid.UUID(int=0), key_prefix="eval")
    by_file = {row["file"]: row for row in labels}
    files = sorted({p.name for p in folder.glob("*.pdf")} | set(by_file))
    documents: dict[str, dict[str, Any]] = {}
    questions = [(f, q) for f in files for q in by_file.get(f, {}).get("questions", [])]
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as progress:
        bar = progress.add_task("documents", total=len(files))
        for name in files:
            progress.update(bar, description=f"processing {name}")
            documents[name] = _process(caller, folder / name, wait_s)
            progress.advance(bar)
        asked = progress.add_task("questions", total=len(questions))
        answers = []
        for name, question in questions:
            answers.append(_ask(caller, documents[name], question, name))
            progress.advance(asked)
    return score(labels, documents, answers)


def _process(caller: Caller, path: Path, wait_s: float) -> dict[str, Any]:
    if not path.is_file():
        return {"status": "failed", "reason": "file not found in the folder"}
    started = time.perf_counter()
    try:
        with session_scope() as session, path.open("rb") as stream:
            outcome = upload_documents(session, caller, [(path.name, stream)], reprocess=True)[0]
    except Exception as exc:  # recorded as this document's failure; the others go on
        return {"status": "failed", "reason": str(exc)}
    document_id = outcome.document.id
    deadline = time.monotonic() + wait_s
    while True:
        with session_scope() as session:
            document, _job = document_with_job(session, caller, document_id)
        if DocumentStatus(document.status).finished or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    with session_scope() as session, session.begin():
        result = session.scalar(select(Result.data).where(Result.document_id == document_id)
                                .order_by(Result.created_at.desc()).limit(1))
    return {"id": str(document_id), "status": str(document.status),
            "reason": document.failure_reason, "doc_type": document.doc_type,
            "pages": document.page_count, "seconds": round(seconds, 2), "result": result or {}}


def _ask(caller: Caller, document: dict[str, Any], question: dict[str, Any],
         name: str) -> dict[str, Any]:
    base = {"file": name, "id": question.get("id"), "question": question.get("question", ""),
            "expected": question.get("answer"), "kind": question.get("kind"),
            "value": question.get("value"),
            "evidence_pages": list(question.get("evidence_pages", []))}
    if document.get("status") != DocumentStatus.DONE:
        return {**base, "pages": [], "answer": None, "model": None,
                "error": "document not processed"}
    with session_scope() as session:
        query = queries.create_query(session, caller, question=base["question"],
                                     document_ids=[uuid.UUID(document["id"])],
                                     conversation_id=f"eval-{uuid.uuid4()}")
        queries.dispatch(query.id)
        done = queries.wait_for_answer(session, caller, query.id,
                                       get_settings().support.answer_wait_s)
    pages: list[int] = []
    for hit in done.retrieved or []:
        if hit.get("page") not in pages:
            pages.append(hit["page"])
    return {**base, "pages": pages, "answer": done.answer, "model": done.model,
            "found": done.found, "error": done.error,
            "citations": [{"page": c.get("page"), "verified": c.get("verified")}
                          for c in done.citations or []]}


def normalize_text(text: Any) -> str:
    """Case-folded NFKC text without citation markers, punctuation runs or extra spaces."""
    value = unicodedata.normalize("NFKC", str(text)).casefold()
    value = _MARKER.sub("", value)
    value = re.sub(r"[\"'“”‘’.,;:!?()\[\]]", " ", value)
    return _SPACE.sub(" ", value).strip()


def normalize_field(value: Any) -> str:
    """A field value for comparison: a date in any usual spelling as ISO ("March 1, 2024",
    "13 May 2013" and "2024-03-01" agree), anything else as ``normalize_text``."""
    text = _SPACE.sub(" ", str(value)).strip()
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    return normalize_text(text)


def score(labels: list[dict[str, Any]], documents: dict[str, dict[str, Any]],
          answers: list[dict[str, Any]]) -> dict[str, Any]:
    """The report: every metric the labels allow, plus the per-question detail."""
    parsed = {n: d for n, d in documents.items() if d.get("status") == DocumentStatus.DONE}
    failed = [{"file": n, "reason": d.get("reason") or d.get("status")}
              for n, d in documents.items() if n not in parsed]
    typed = [(row["file"], DOC_TYPE_ALIASES.get(row["doc_type"], row["doc_type"]))
             for row in labels if row.get("doc_type") and row["file"] in parsed]
    correct = [f for f, want in typed
               if DOC_TYPE_ALIASES.get(parsed[f].get("doc_type") or "", parsed[f].get("doc_type"))
               == want]
    recall = {f"@{k}": _recall(answers, k) for k in RECALL_AT}
    modelled = [a for a in answers if a.get("model") not in EXTRACTIVE_MODELS]
    exact = (sum(normalize_text(a["answer"] or "") == normalize_text(a["expected"] or "")
                 for a in modelled) / len(modelled)) if modelled else None
    seconds = [d["seconds"] for d in documents.values() if "seconds" in d]
    return {
        "documents": {"total": len(documents), "parsed": len(parsed), "failed": failed},
        "doc_type": {"labelled": len(typed), "correct": len(correct),
                     "accuracy": _ratio(len(correct), len(typed)),
                     "wrong": [{"file": f, "expected": w, "got": parsed[f].get("doc_type")}
                               for f, w in typed if f not in correct]},
        "retrieval": {"questions": len(answers), "recall": recall},
        "answers": {"exact_match": exact, "scored": len(modelled),
                    "note": None if modelled else "no model answered: exact match is scored "
                    "only when a real model is configured",
                    "found": sum(bool(a.get("found")) for a in answers),
                    "statement_figures": _figure_score(answers),
                    "citations_verified": sum(c.get("verified") is True for a in answers
                                              for c in a.get("citations", []))},
        "clauses": _clause_scores(labels, parsed),
        "fields": _field_scores(labels, parsed),
        "time_per_document_s": {
            "mean": round(sum(seconds) / len(seconds), 2) if seconds else None,
            "max": max(seconds) if seconds else None,
            "by_file": {n: d.get("seconds") for n, d in documents.items()}},
        "questions": answers,
    }


def _figure_score(answers: list[dict[str, Any]]) -> dict[str, Any]:
    """Statement-figure questions whose answer gives the labelled value first (within the
    filing's rounding: 0.5 %), sign aside: an outflow may be printed in parentheses."""
    asked = [a for a in answers if a.get("kind") == "statement_figure"
             and a.get("value") is not None]
    right = [a["id"] for a in asked if _close(_first_figure(a.get("answer") or ""),
                                              float(a["value"]))]
    return {"questions": len(asked), "correct": len(right), "rate": _ratio(len(right), len(asked)),
            "wrong": [a["id"] for a in asked if a["id"] not in right]}


def _close(got: float | None, want: float) -> bool:
    return got is not None and abs(abs(got) - abs(want)) <= FIGURE_TOLERANCE * abs(want)


def _first_figure(answer: str) -> float | None:
    match = _FIGURE.search(answer)
    return float(match.group().strip("()").replace(",", "")) if match else None


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _recall(answers: list[dict[str, Any]], k: int) -> float | None:
    scored = [a for a in answers if a["evidence_pages"]]
    if not scored:
        return None
    total = sum(len(set(a["pages"][:k]) & set(a["evidence_pages"])) / len(set(a["evidence_pages"]))
                for a in scored)
    return round(total / len(scored), 4)


def predicted_clauses(result: dict[str, Any]) -> set[str] | None:
    """Clause categories the legal agent found present (casefolded); None when the result has
    no clause inventory."""
    inventory = (result.get("legal") or {}).get("clauses")
    if not isinstance(inventory, list):
        return None
    return {str(c.get("category", "")).casefold() for c in inventory
            if isinstance(c, dict) and c.get("present")}


def _clause_scores(labels: list[dict[str, Any]], parsed: dict[str, dict[str, Any]]
                   ) -> dict[str, Any]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0, "tn": 0})
    per_file: dict[str, dict[str, Any]] = {}
    trained_on: set[str] = set()
    missing_inventory = []
    for row in labels:
        if row["file"] not in parsed or not (row.get("clauses_present") or
                                             row.get("clauses_absent")):
            continue
        result = parsed[row["file"]].get("result") or {}
        trained_on |= set(((result.get("legal") or {}).get("clause_model") or {}).get(
            "trained_on", []))
        found = predicted_clauses(result)
        if found is None:
            missing_inventory.append(row["file"])
            found = set()
        own = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
        missed, extra = [], []
        for name in row.get("clauses_present", []):
            key = "tp" if name.casefold() in found else "fn"
            counts[name][key] += 1
            own[key] += 1
            if key == "fn":
                missed.append(name)
        for name in row.get("clauses_absent", []):
            key = "fp" if name.casefold() in found else "tn"
            counts[name][key] += 1
            own[key] += 1
            if key == "fp":
                extra.append(name)
        per_file[row["file"]] = {**_prf(own), "missed": missed, "extra": extra}
    total = {key: sum(c[key] for c in counts.values()) for key in ("tp", "fp", "fn", "tn")}
    recalls = [s["recall"] for s in (_prf(c) for c in counts.values()) if s["recall"] is not None]
    in_sample = sorted(trained_on & set(per_file))
    return {"overall": _prf(total), "macro_recall": _ratio(sum(recalls), len(recalls)),
            "per_category": {n: _prf(c) for n, c in sorted(counts.items())},
            "per_file": per_file, "documents_without_inventory": missing_inventory,
            "in_sample": in_sample,
            "note": ("the clause classifier was trained on these labelled files, so their "
                     "clause scores are in-sample; use --cross-validate for held-out scores")
            if in_sample else None}


def _prf(c: dict[str, int]) -> dict[str, Any]:
    precision = _ratio(c["tp"], c["tp"] + c["fp"])
    recall = _ratio(c["tp"], c["tp"] + c["fn"])
    f1 = (round(2 * precision * recall / (precision + recall), 4)
          if precision and recall else (0.0 if precision is not None and recall is not None
                                        else None))
    return {**c, "precision": precision, "recall": recall, "f1": f1}


def _field_values(result: dict[str, Any], name: str) -> list[str]:
    field = ((result.get("legal") or {}).get("fields") or {}).get(name)
    items = field if isinstance(field, list) else [field]
    values: list[str] = []
    for item in items:
        value = item.get("value") if isinstance(item, dict) else item
        if isinstance(value, dict):
            values += [str(v) for v in value.values() if v]
        elif isinstance(value, list):
            values += [str(v) for v in value if v]
        elif value:
            values.append(str(value))
    return values


def _field_scores(labels: list[dict[str, Any]], parsed: dict[str, dict[str, Any]]
                  ) -> dict[str, Any]:
    scores: dict[str, dict[str, int]] = defaultdict(lambda: {"expected": 0, "matched": 0})
    for row in labels:
        if row["file"] not in parsed:
            continue
        result = parsed[row["file"]].get("result") or {}
        for name, expected in (row.get("fields") or {}).items():
            got = [normalize_field(v) for v in _field_values(result, name)]
            for value in expected:
                want = normalize_field(value)
                scores[name]["expected"] += 1
                scores[name]["matched"] += any(want in g or (g and g in want) for g in got)
    return {name: {**s, "rate": _ratio(s["matched"], s["expected"])}
            for name, s in sorted(scores.items())}


def print_report(report: dict[str, Any]) -> None:
    """The headline numbers as a table."""
    table = Table(title="LexLedger evaluation")
    table.add_column("metric")
    table.add_column("value", justify="right")
    docs = report["documents"]
    table.add_row("documents parsed / total", f"{docs['parsed']} / {docs['total']}")
    table.add_row("doc-type accuracy", _fmt(report["doc_type"]["accuracy"]))
    for k, value in report["retrieval"]["recall"].items():
        table.add_row(f"evidence-page recall{k}", _fmt(value))
    table.add_row("answer exact match", _fmt(report["answers"]["exact_match"]))
    figures = report["answers"]["statement_figures"]
    if figures["questions"]:
        table.add_row("statement figures answered correctly",
                      f"{figures['correct']} / {figures['questions']}")
    overall = report["clauses"]["overall"]
    table.add_row("clause precision / recall / F1",
                  " / ".join(_fmt(overall[k]) for k in ("precision", "recall", "f1")))
    for name, field in report["fields"].items():
        table.add_row(f"field match: {name}", _fmt(field["rate"]))
    table.add_row("time per document (mean s)", _fmt(report["time_per_document_s"]["mean"]))
    console.print(table)
    _print_clause_tables(report["clauses"])
    for failure in docs["failed"]:
        console.print(f"[red]failed[/] {failure['file']}: {failure['reason']}")


def _print_clause_tables(clauses: dict[str, Any]) -> None:
    if not clauses["per_category"]:
        return
    console.print(category_table("clause presence per category", clauses["per_category"]))
    files = Table(title="clause presence per file")
    for column in ("file", "precision", "recall", "missed", "reported but absent"):
        files.add_column(column, overflow="fold")
    for name, s in clauses["per_file"].items():
        files.add_row(name, _fmt(s["precision"]), _fmt(s["recall"]), ", ".join(s["missed"]),
                      ", ".join(s["extra"]))
    console.print(files)
    if clauses.get("note"):
        console.print(f"[yellow]note[/]: {clauses['note']}")


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
