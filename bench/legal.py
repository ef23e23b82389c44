"""CPU time of a contract's analysis without a model: the whole supervisor graph (triage, the
legal agent with its clause classifier, verification) on each PDF of a folder, and of that the
clause inventory alone (passages, rules, classifier). Pages are read once beforehand, as the
ingest stage stores them. Each document is analysed ``--repeat`` times after one warm-up run;
the table shows the best. The last row analyses every document's pages as one long agreement.

    python bench/legal.py [--folder ../shared/realdev/contracts] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from langgraph.checkpoint.memory import InMemorySaver
from rich.console import Console
from rich.table import Table

from agents.ingest import extract_pages
from agents.legal.clauses import review_clauses
from agents.llm import AgentContext
from agents.supervisor.graph import build_graph
from app.core.settings import get_settings

DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "shared" / "realdev" / "contracts"


def analyse(pages: list[tuple[int, str]]) -> dict:
    graph = build_graph(InMemorySaver())
    context = AgentContext(chat=None, model="none")  # model calls disabled: the rules' path
    return asyncio.run(graph.ainvoke({"pages": pages, "llm_log": []},
                                     {"configurable": {"thread_id": "bench"}}, context=context))


def best_cpu(run, repeat: int) -> float:
    run()  # warm-up: imports, the classifier's weights, compiled patterns
    times = []
    for _ in range(repeat):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    table = Table(title="contract analysis without a model (CPU seconds, best of "
                        f"{args.repeat})")
    for column in ("file", "pages", "characters", "whole analysis", "clause inventory",
                   "CPU ms per page"):
        table.add_column(column, justify="left" if column == "file" else "right")
    documents = {path.name: [(p.number, p.text) for p in
                             extract_pages(path, limits=get_settings().limits)]
                 for path in sorted(args.folder.glob("*.pdf"))}
    # a long agreement: every document's pages one after another
    joined = [text for pages in documents.values() for _, text in pages]
    documents["all of the above as one document"] = list(enumerate(joined, start=1))
    for name, pages in documents.items():
        whole = best_cpu(lambda pages=pages: analyse(pages), args.repeat)
        clauses = best_cpu(lambda pages=pages: review_clauses(pages, {}, "en"), args.repeat)
        table.add_row(name, str(len(pages)), f"{sum(len(t) for _, t in pages):,}",
                      f"{whole:.2f}", f"{clauses:.2f}", f"{1000 * whole / len(pages):.0f}")
    Console().print(table)


if __name__ == "__main__":
    main()
