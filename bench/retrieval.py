"""Retrieval benchmark: LexLedger's hybrid, structure-aware retrieval against the anchor, plain
BM25 over whole pages, on the labelled set (``eval/labels.jsonl``), side by side: evidence-page
recall@1/3/5/10 and latency per question, with the question scoped to its document and asked of
the whole library. Both sides use the same Thai/CJK-aware tokenizer, so the difference is the
method (chunks, embeddings, structure, fusion), not the word splitting.

    python bench/retrieval.py [--samples var/samples] [--shared ../shared/samples]

Runs on the configured database (the embedded SQLite file by default), under a tenant of its own.
"""

from __future__ import annotations

import json
import math
import statistics
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import track
from rich.table import Table
from sqlalchemy import select

from agents.retrieval import index_document, retrieve
from agents.retrieval.text import tokenize
from app.core.db import session_scope
from app.core.logging import configure_logging
from app.core.migrate import upgrade_database
from app.core.settings import get_settings
from app.models import Page
from app.samples import generate_samples
from app.services.documents import upload_documents
from app.services.tenants import Caller, get_or_create_tenant

REPO = Path(__file__).resolve().parents[1]
KS = (1, 3, 5, 10)
console = Console(width=150)


class PageBM25:
    """Okapi BM25 over whole pages: the anchor."""

    def __init__(self, pages: list[tuple[str, int, str]], k1: float = 1.2, b: float = 0.75):
        self.keys = [(doc, number) for doc, number, _ in pages]
        self.tf = [Counter(tokenize(text)) for _, _, text in pages]
        self.lengths = [sum(t.values()) for t in self.tf]
        self.avg = sum(self.lengths) / max(1, len(self.lengths))
        self.df: Counter[str] = Counter(term for t in self.tf for term in t)
        self.k1, self.b = k1, b

    def search(self, query: str, docs: set[str] | None, k: int) -> list[tuple[str, int]]:
        n = len(self.tf)
        scores = []
        for i, tf in enumerate(self.tf):
            if docs is not None and self.keys[i][0] not in docs:
                continue
            score = 0.0
            for term in set(tokenize(query)):
                if term in tf:
                    idf = math.log(1 + (n - self.df[term] + 0.5) / (self.df[term] + 0.5))
                    f = tf[term]
                    score += idf * f * (self.k1 + 1) / (
                        f + self.k1 * (1 - self.b + self.b * self.lengths[i] / self.avg))
            scores.append((score, i))
        scores.sort(reverse=True)
        return [self.keys[i] for _, i in scores[:k]]


def main(samples: Annotated[Path, typer.Option(help="folder for the generated samples")]
         = Path("var/samples"),
         shared: Annotated[Path, typer.Option(help="the shared sample PDFs")]
         = REPO.parent / "shared" / "samples",
         labels: Annotated[Path, typer.Option()] = REPO / "eval" / "labels.jsonl") -> None:
    """Run the benchmark and print the table."""
    configure_logging("WARNING")
    upgrade_database()
    generate_samples(samples)
    rows = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines() if line]
    files = {r["file"]: (samples / r["file"] if (samples / r["file"]).exists()
                         else shared / r["file"]) for r in rows}
    rows = [r for r in rows if files[r["file"]].exists()]
    with session_scope() as session, session.begin():
        tenant_id = get_or_create_tenant(session=session, name="bench").id
    caller = Caller(tenant_id=tenant_id, key_id=uuid.UUID(int=0), key_prefix="bench")
    ids: dict[str, str] = {}
    for row in track(rows, description="processing and indexing", console=console):
        with session_scope() as session, files[row["file"]].open("rb") as stream:
            outcome = upload_documents(session, caller, [(row["file"], stream)])[0]
        ids[row["file"]] = str(outcome.document.id)
        with session_scope() as session:
            index_document(session, outcome.document.id)
    with session_scope() as session, session.begin():
        pages = [(str(d), n, t) for d, n, t in session.execute(
            select(Page.document_id, Page.number, Page.text).where(
                Page.document_id.in_([uuid.UUID(i) for i in ids.values()])))]
    anchor = PageBM25(pages)
    questions = [(ids[r["file"]], q) for r in rows for q in r.get("questions", [])]
    results: dict[tuple[str, str], dict[str, Any]] = {}
    for scope in ("document", "library"):
        for method in ("page BM25 (anchor)", "LexLedger hybrid"):
            recalls = {k: [] for k in KS}
            latencies = []
            for doc, question in track(questions, description=f"{method}, {scope}",
                                       console=console):
                started = time.perf_counter()
                if method.startswith("page"):
                    found = anchor.search(question["question"],
                                          {doc} if scope == "document" else None, 10)
                else:
                    with session_scope() as session:
                        hits = retrieve(session, tenant_id=tenant_id,
                                        query=question["question"], k=20,
                                        document_ids=[uuid.UUID(doc)] if scope == "document"
                                        else None)
                    found = list(dict.fromkeys((h.document_id, h.page) for h in hits))
                latencies.append((time.perf_counter() - started) * 1000)
                wanted = {(doc, p) for p in question["evidence_pages"]}
                for k in KS:
                    recalls[k].append(len(wanted & set(found[:k])) / len(wanted))
            results[(scope, method)] = {"recall": {k: statistics.mean(v) for k, v in
                                                   recalls.items()},
                                        "p50": statistics.median(latencies),
                                        "p95": sorted(latencies)[int(0.95 * (len(latencies)
                                                                             - 1))]}
    table = Table(title=f"Retrieval on the labelled set: {len(questions)} questions, "
                        f"{len(rows)} documents, embedder {get_settings().retrieval.embedder}")
    for column in ("scope", "method", *(f"recall@{k}" for k in KS), "p50 ms", "p95 ms"):
        table.add_column(column, justify="right" if column not in ("scope", "method")
                         else "left")
    for (scope, method), r in results.items():
        table.add_row(scope, method, *(f"{r['recall'][k]:.3f}" for k in KS),
                      f"{r['p50']:.1f}", f"{r['p95']:.1f}")
    console.print(table)


if __name__ == "__main__":
    typer.run(main)
