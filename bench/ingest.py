"""Benchmark of LexLedger's PDF ingest (parse in the sandboxed child + quality gate + chunking)
against raw pypdfium2, raw pypdf and pdfminer.six text extraction on the same files: LexLedger's
generated sample documents, a generated many-page text PDF and the real PDFs in ../shared/samples
when present. Every (contender, file) run happens in its own forked process so its peak RSS is its
own. It prints pages/s per file and in total, the ratio to raw pypdfium2 (target >= 0.7x), text
volume and peak memory. Run: ``python bench/ingest.py [--pages 300] [--repeat 3]``.

A contender is a function ``(path) -> (pages, characters)``. The pipeline's "+ store" column plugs
in through ``lexledger_contender(store=...)``: ``store`` receives the document's ``PdfInfo`` and an
iterator of ``(PageText, chunks)`` and must consume it (write rows, commit)."""

from __future__ import annotations

import os
import pickle
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import pypdf
import pypdfium2 as pdfium
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

# run as a script from the repository root: make the project's packages importable
REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from agents.ingest import (  # noqa: E402
    PageText,
    PdfInfo,
    TextChunk,
    chunk_page,
    extract_pages,
    inspect_pdf,
    read_pdf,
)
from app.core.settings import LimitSettings  # noqa: E402
from app.samples import generate_samples  # noqa: E402
from tests import pdf_factory  # noqa: E402

SHARED_SAMPLES = REPO_ROOT.parent / "shared" / "samples"
MIB = 1024 * 1024
console = Console(width=160)

Contender = Callable[[Path], tuple[int, int]]
StoreStep = Callable[[Path, PdfInfo, Iterator[tuple[PageText, list[TextChunk]]]], None]


def raw_pdfium(path: Path) -> tuple[int, int]:
    """PDFium page text, nothing else: the speed limit of the ingest stage."""
    document = pdfium.PdfDocument(str(path))
    pages = characters = 0
    try:
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            characters += len(textpage.get_text_bounded())
            textpage.close()
            page.close()
            pages += 1
    finally:
        document.close()
    return pages, characters


def raw_pypdf(path: Path) -> tuple[int, int]:
    """pypdf's text extraction for every page."""
    reader = pypdf.PdfReader(str(path))
    characters = sum(len(page.extract_text() or "") for page in reader.pages)
    return len(reader.pages), characters


def raw_pdfminer(path: Path) -> tuple[int, int]:
    """pdfminer.six layout analysis and text for every page."""
    from pdfminer.high_level import extract_pages as miner_pages
    from pdfminer.layout import LTTextContainer

    pages = characters = 0
    for layout in miner_pages(str(path)):
        pages += 1
        characters += sum(len(e.get_text()) for e in layout if isinstance(e, LTTextContainer))
    return pages, characters


def _count_only(
    path: Path, info: PdfInfo, pages: Iterator[tuple[PageText, list[TextChunk]]]
) -> None:
    for _ in pages:
        pass


def lexledger_contender(store: StoreStep | None = None, *, one_child: bool = True) -> Contender:
    """LexLedger's ingest: structure, gated page text, chunks, then ``store``.

    ``one_child`` reads structure and pages in one sandboxed child (``read_pdf``); without it
    ``inspect_pdf`` and ``extract_pages`` each start their own. Without ``store`` the pages and
    chunks are only counted, which measures the core alone.
    """
    limits = LimitSettings()
    sink = store or _count_only
    size, overlap = limits.chunk_chars, limits.chunk_overlap_chars

    def chunked(
        pages: Iterable[PageText], totals: list[int]
    ) -> Iterator[tuple[PageText, list[TextChunk]]]:
        for page in pages:
            totals[0] += 1
            totals[1] += len(page.text)
            yield page, chunk_page(page, size=size, overlap=overlap)

    def run(path: Path) -> tuple[int, int]:
        totals = [0, 0]
        if one_child:
            with read_pdf(path, limits=limits) as reading:
                sink(path, reading.info, chunked(reading, totals))
        else:
            info = inspect_pdf(path, limits=limits)
            sink(path, info, chunked(extract_pages(path, limits=limits), totals))
        return totals[0], totals[1]

    return run


@dataclass
class Run:
    pages: int
    characters: int
    seconds: float
    cpu_seconds: float
    peak_rss_bytes: int
    error: str = ""


def measure(contender: Contender, path: Path, repeat: int) -> Run:
    """Best of ``repeat`` runs, each in a fresh fork; peak RSS covers the fork and its children."""
    best: Run | None = None
    for _ in range(repeat):
        run = _in_fork(contender, path)
        if run.error:
            return run
        if best is None or run.seconds < best.seconds:
            best = run
    assert best is not None
    return best


def _in_fork(contender: Contender, path: Path) -> Run:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        try:
            cpu_before = _cpu_seconds()
            began = time.perf_counter()
            pages, characters = contender(path)
            seconds = time.perf_counter() - began
            cpu = _cpu_seconds() - cpu_before
            peak = max(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
            )
            result = Run(pages, characters, seconds, cpu, peak * 1024)
        except Exception as exc:  # a contender that cannot read a file is reported, not fatal
            result = Run(0, 0, 0.0, 0.0, 0, f"{type(exc).__name__}: {exc}"[:80])
        os.write(write_fd, pickle.dumps(result))
        os._exit(0)
    os.close(write_fd)
    data = b""
    while chunk := os.read(read_fd, 65536):
        data += chunk
    os.close(read_fd)
    os.waitpid(pid, 0)
    run: Run = pickle.loads(data)
    return run


def _cpu_seconds() -> float:
    """CPU time of this process and its reaped children (LexLedger parses in a child)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bench_files(work: Path, many_pages: int) -> list[tuple[str, Path]]:
    """The files every contender reads: generated ones first, then the real samples present."""
    files = [(f"generated/{p.name}", p) for p in generate_samples(work / "samples")]
    many = pdf_factory.write_many_pages(work / f"text-{many_pages}p.pdf", many_pages)
    files.append((f"generated/{many.name}", many))
    if SHARED_SAMPLES.is_dir():
        files += [(f"real/{p.name}", p) for p in sorted(SHARED_SAMPLES.glob("*.pdf"))]
    return files


def main(
    pages: Annotated[int, typer.Option(help="pages of the generated many-page PDF")] = 300,
    repeat: Annotated[int, typer.Option(help="runs per file and contender; best is kept")] = 3,
    skip_pdfminer: Annotated[bool, typer.Option(help="leave out the slowest contender")] = False,
) -> None:
    """Measure every contender on every file and print the tables."""
    contenders: dict[str, Contender] = {
        "LexLedger ingest": lexledger_contender(),
        "LexLedger, 2 children": lexledger_contender(one_child=False),
        "pypdfium2": raw_pdfium,
        "pypdf": raw_pypdf,
    }
    if not skip_pdfminer:
        contenders["pdfminer.six"] = raw_pdfminer
    with tempfile.TemporaryDirectory(prefix="lexledger-bench-") as tmp:
        files = bench_files(Path(tmp), pages)
        results: dict[tuple[str, str], Run] = {}
        with Progress(console=console) as progress:
            task = progress.add_task("measuring", total=len(files) * len(contenders))
            for label, path in files:
                for name, contender in contenders.items():
                    progress.update(task, description=f"{name} on {label}")
                    # pdfminer and pypdf are 10-50x slower: one run each is enough to rank them
                    times = repeat if name.startswith(("LexLedger", "pypdfium2")) else 1
                    results[(label, name)] = measure(contender, path, times)
                    progress.advance(task)
        print_tables(files, list(contenders), results)


def print_tables(
    files: list[tuple[str, Path]], names: list[str], results: dict[tuple[str, str], Run]
) -> None:
    """Per-file pages/s side by side, then totals with the ratio to raw pypdfium2 and memory."""
    per_file = Table(title="pages/s per file (best run)")
    per_file.add_column("file")
    per_file.add_column("pages", justify="right")
    for name in names:
        per_file.add_column(name, justify="right")
    for label, _ in files:
        row = [label, str(results[(label, names[0])].pages)]
        for name in names:
            run = results[(label, name)]
            row.append(run.error or f"{run.pages / max(run.seconds, 1e-9):,.0f}")
        per_file.add_row(*row)
    console.print(per_file)

    totals = Table(title="all files together")
    columns = ("contender", "pages", "characters", "wall s", "pages/s", "vs pypdfium2",
               "CPU s", "pages/CPU-s", "vs pypdfium2 (CPU)", "peak RSS MiB")
    for column in columns:
        totals.add_column(column, justify="left" if column == "contender" else "right")
    baseline = _rate(results, files, "pypdfium2", cpu=False)
    cpu_baseline = _rate(results, files, "pypdfium2", cpu=True)
    for name in names:
        ok = [results[(label, name)] for label, _ in files if not results[(label, name)].error]
        rate = _rate(results, files, name, cpu=False)
        cpu_rate = _rate(results, files, name, cpu=True)
        totals.add_row(
            name,
            f"{sum(run.pages for run in ok):,}",
            f"{sum(run.characters for run in ok):,}",
            f"{sum(run.seconds for run in ok):.2f}",
            f"{rate:,.0f}",
            f"{rate / baseline:.2f}x" if baseline else "-",
            f"{sum(run.cpu_seconds for run in ok):.2f}",
            f"{cpu_rate:,.0f}",
            f"{cpu_rate / cpu_baseline:.2f}x" if cpu_baseline else "-",
            f"{max((run.peak_rss_bytes for run in ok), default=0) / MIB:.0f}",
        )
    console.print(totals)
    console.print(
        "pages/s is wall-clock and moves with the machine's load; pages/CPU-s counts the CPU "
        "time of the contender and of its parsing child, and is the steadier comparison."
    )


def _rate(
    results: dict[tuple[str, str], Run], files: list[tuple[str, Path]], name: str, *, cpu: bool
) -> float:
    runs = [results[(label, name)] for label, _ in files if not results[(label, name)].error]
    seconds = sum(run.cpu_seconds if cpu else run.seconds for run in runs)
    return sum(run.pages for run in runs) / seconds if seconds else 0.0


if __name__ == "__main__":
    typer.run(main)
