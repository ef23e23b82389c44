"""Benchmark of LexLedger's PDF ingest (parse in the sandboxed child + quality gate + chunking)
against raw pypdfium2, raw pypdf and pdfminer.six text extraction on the same files: LexLedger's
generated sample documents, a generated many-page text PDF and the real PDFs in ../shared/samples
when present. Each contender runs its passes over all files in its own forked process (as a
worker processes a stream of documents), so its CPU time and peak RSS are its own. It prints
pages/s per file and in total, the ratio to raw pypdfium2 (target >= 0.7x), text volume and peak
memory. Run: ``python bench/ingest.py [--pages 300] [--repeat 5] [--skip-pdfminer]``.

A contender is a function ``(path) -> (pages, characters)``. "LexLedger ingest + store" is the
pipeline's ingest stage itself (``run_ingest``: parse + gate + chunk + store rows in batches) on a
SQLite file, or on ``--db-url`` (Postgres does its work in its own process, so its CPU time is not
counted there); the upload's part (document and job rows, the blob) is done before the clock
starts, through the contender's ``prepare``, and the stored rows are counted after it stops.
For Postgres: ``python bench/ingest.py --db-url postgresql+psycopg://...``."""

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
from typing import Annotated, Any

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
    TextChunk,
    chunk_page,
    extract_pages,
    inspect_pdf,
    read_pdf,
)
from agents.ingest.resident import shutdown_resident  # noqa: E402
from app.core.settings import LimitSettings  # noqa: E402
from app.samples import generate_samples  # noqa: E402
from tests import pdf_factory  # noqa: E402

SHARED_SAMPLES = REPO_ROOT.parent / "shared" / "samples"
MIB = 1024 * 1024
console = Console(width=160)

# a function of the file; one with a ``prepare(path)`` method is called with what that returns,
# and one with a ``count(argument)`` method has its pages and characters read from that
Contender = Callable[[Any], Any]


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


def _drain(pages: Iterator[tuple[PageText, list[TextChunk]]]) -> None:
    for _ in pages:
        pass


def lexledger_contender(*, one_request: bool = True) -> Contender:
    """LexLedger's ingest: structure, gated page text, chunks, then ``store``.

    ``one_request`` reads structure and pages with one ``read_pdf``; without it ``inspect_pdf``
    and ``extract_pages`` are two requests to the parsing child, as the pipeline calls them.
    The pages and chunks are only counted, which measures the core alone.
    """
    limits = LimitSettings()
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
        if one_request:
            with read_pdf(path, limits=limits) as reading:
                _drain(chunked(reading, totals))
        else:
            inspect_pdf(path, limits=limits)
            _drain(chunked(extract_pages(path, limits=limits), totals))
        return totals[0], totals[1]

    return run


@dataclass
class Run:
    pages: int
    characters: int
    seconds: float  # best of the passes
    error: str = ""


@dataclass
class ContenderResult:
    runs: dict[str, Run]
    cpu_seconds: float  # one pass over all files, the contender's children included
    peak_rss_bytes: int


def measure(
    contender: Contender, files: list[tuple[str, Path]], passes: int, tick: Callable[[], None]
) -> ContenderResult:
    """Run ``passes`` passes over ``files`` in one fresh fork, warmed up by one document, as a
    worker would process a stream of documents; keep each file's best time. Peak RSS covers the
    fork and its children."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        runs: dict[str, Run] = {}
        cpu_before = _cpu_seconds()
        untimed_cpu = [0.0]

        def untimed(step: Callable[[Any], Any], argument: Any) -> Any:
            """Set-up or checking around the timed call; its CPU time is taken out below."""
            began = _cpu_seconds()
            try:
                return step(argument)
            finally:
                untimed_cpu[0] += _cpu_seconds() - began

        prepare = getattr(contender, "prepare", None)
        count = getattr(contender, "count", None)
        # a worker is already running when documents arrive (modules imported, parsing child and
        # database connection up, statements compiled): one untimed document first
        untimed(lambda path: contender(path if prepare is None else prepare(path)), files[0][1])
        for _ in range(passes):
            for label, path in files:
                os.write(write_fd, b"+")
                argument: Any = path if prepare is None else untimed(prepare, path)
                began = time.perf_counter()
                try:
                    counted = contender(argument)
                    seconds = time.perf_counter() - began
                    pages, characters = counted if count is None else untimed(count, argument)
                except Exception as exc:  # a contender that cannot read a file is reported
                    runs[label] = Run(0, 0, 0.0, f"{type(exc).__name__}: {exc}"[:60])
                    continue
                if label not in runs or seconds < runs[label].seconds:
                    runs[label] = Run(pages, characters, seconds)
        shutdown_resident()  # reaped, so its CPU time and peak RSS are counted below
        cpu = (_cpu_seconds() - cpu_before - untimed_cpu[0]) / passes
        peak = max(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        )
        os.write(write_fd, b"=" + pickle.dumps(ContenderResult(runs, cpu, peak * 1024)))
        os._exit(0)
    os.close(write_fd)
    data = b""
    while chunk := os.read(read_fd, 65536):
        if not data:
            for _ in range(len(chunk) - len(chunk.lstrip(b"+"))):
                tick()
            chunk = chunk.lstrip(b"+")
        data += chunk
    os.close(read_fd)
    os.waitpid(pid, 0)
    result: ContenderResult = pickle.loads(data[1:])
    return result


def _cpu_seconds() -> float:
    """CPU time of this process and its reaped children (LexLedger parses in a child)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class PipelineStage:
    """The ingest stage exactly as a worker runs it: ``run_ingest`` (parse + gate + chunk + store
    pages and chunks in batches with progress commits) on the configured database. ``prepare``
    does the upload's part outside the timing (a tenant, a document and job row, the blob in the
    store), as the API would have before the worker got the task."""

    def prepare(self, path: Path) -> str:
        import shutil
        import uuid

        from app.core.db import session_scope
        from app.models import Document, Tenant
        from app.services.documents import blob_store
        from app.services.jobs import create_job

        with session_scope() as session, session.begin():
            tenant = Tenant(name=f"bench-{uuid.uuid4().hex}")
            session.add(tenant)
            session.flush()
            document = Document(tenant_id=tenant.id, sha256=uuid.uuid4().hex * 2,
                                filename=path.name, size_bytes=path.stat().st_size)
            session.add(document)
            session.flush()
            job_id = str(create_job(session=session, document=document).id)
            target = blob_store().path_for(tenant.id, document.sha256)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        return job_id

    def __call__(self, job_id: str) -> None:
        from agents.pipeline.ingest_stage import run_ingest
        from app.core.db import session_scope

        with session_scope() as session:
            if not run_ingest(session, job_id):
                raise RuntimeError("the ingest stage did not finish")

    def count(self, job_id: str) -> tuple[int, int]:
        """The pages and characters the stage stored, read after the clock stopped."""
        from sqlalchemy import func, select

        from app.core.db import session_scope
        from app.models import Job, Page

        with session_scope() as session:
            with session.begin():
                document_id = select(Job.document_id).where(Job.id == job_id).scalar_subquery()
                pages, characters = session.execute(
                    select(func.count(), func.sum(func.length(Page.text)))
                    .where(Page.document_id == document_id)).one()
        return int(pages or 0), int(characters or 0)


def _prepare_store(work: Path, db_url: str | None) -> None:
    """Points the pipeline's settings at a bench database (a SQLite file unless ``db_url``)
    and blob folder, and migrates it; forked contenders inherit both."""
    from app.core.migrate import upgrade_database

    url = db_url or f"sqlite:///{work / 'bench.db'}"
    os.environ["LEXLEDGER_DB__URL"] = url
    os.environ["LEXLEDGER_STORAGE__BLOB_DIR"] = str(work / "blobs")
    upgrade_database(url)


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
    repeat: Annotated[int, typer.Option(help="passes of the fast contenders; best is kept")] = 5,
    skip_pdfminer: Annotated[bool, typer.Option(help="leave out the slowest contender")] = False,
    db_url: Annotated[str | None, typer.Option(
        help="database for the '+ store' contender (default: a SQLite file)")] = None,
) -> None:
    """Measure every contender on every file and print the tables."""
    contenders: dict[str, Contender] = {
        "LexLedger ingest + store": PipelineStage(),
        "LexLedger ingest": lexledger_contender(),
        "LexLedger, inspect + extract": lexledger_contender(one_request=False),
        "pypdfium2": raw_pdfium,
        "pypdf": raw_pypdf,
    }
    if not skip_pdfminer:
        contenders["pdfminer.six"] = raw_pdfminer
    # the fast contenders take turns pass after pass, so a burst of load elsewhere on the machine
    # hits them alike; pdfminer and pypdf are 10-50x slower, and one pass ranks them
    fast = [name for name in contenders if name.startswith(("LexLedger", "pypdfium2"))]
    rounds = [fast[i % len(fast):] + fast[: i % len(fast)] for i in range(repeat)]
    rounds.append([name for name in contenders if name not in fast])
    with tempfile.TemporaryDirectory(prefix="lexledger-bench-") as tmp:
        _prepare_store(Path(tmp), db_url)
        files = bench_files(Path(tmp), pages)
        results: dict[str, ContenderResult] = {}
        with Progress(console=console) as progress:
            runs = sum(len(names) for names in rounds) * len(files)
            task = progress.add_task("measuring", total=runs)
            for names in rounds:
                for name in names:
                    progress.update(task, description=name)
                    result = measure(contenders[name], files, 1, lambda: progress.advance(task))
                    results[name] = _best(results.get(name), result)
        print_tables(files, list(contenders), results)


def _best(old: ContenderResult | None, new: ContenderResult) -> ContenderResult:
    """Each file's best time, the least-disturbed pass's CPU time and the highest peak RSS."""
    if old is None:
        return new
    runs = {
        label: min(run, old.runs[label], key=lambda r: r.seconds if not r.error else 1e9)
        for label, run in new.runs.items()
    }
    return ContenderResult(
        runs, min(old.cpu_seconds, new.cpu_seconds), max(old.peak_rss_bytes, new.peak_rss_bytes)
    )


def print_tables(
    files: list[tuple[str, Path]], names: list[str], results: dict[str, ContenderResult]
) -> None:
    """Per-file pages/s side by side, then totals with the ratio to raw pypdfium2 and memory."""
    per_file = Table(title="pages/s per file (best pass)")
    per_file.add_column("file")
    per_file.add_column("pages", justify="right")
    for name in names:
        per_file.add_column(name, justify="right")
    for label, _ in files:
        row = [label, str(results[names[0]].runs[label].pages)]
        for name in names:
            run = results[name].runs[label]
            row.append(run.error or f"{run.pages / max(run.seconds, 1e-9):,.0f}")
        per_file.add_row(*row)
    console.print(per_file)

    totals = Table(title="all files together")
    columns = ("contender", "pages", "characters", "wall s", "pages/s", "vs pypdfium2",
               "CPU s", "pages/CPU-s", "vs pypdfium2 (CPU)", "peak RSS MiB")
    for column in columns:
        totals.add_column(column, justify="left" if column == "contender" else "right")
    baseline = _rate(results["pypdfium2"], cpu=False)
    cpu_baseline = _rate(results["pypdfium2"], cpu=True)
    for name in names:
        result = results[name]
        ok = [run for run in result.runs.values() if not run.error]
        rate, cpu_rate = _rate(result, cpu=False), _rate(result, cpu=True)
        totals.add_row(
            name,
            f"{sum(run.pages for run in ok):,}",
            f"{sum(run.characters for run in ok):,}",
            f"{sum(run.seconds for run in ok):.2f}",
            f"{rate:,.0f}",
            f"{rate / baseline:.2f}x" if baseline else "-",
            f"{result.cpu_seconds:.2f}",
            f"{cpu_rate:,.0f}",
            f"{cpu_rate / cpu_baseline:.2f}x" if cpu_baseline else "-",
            f"{result.peak_rss_bytes / MIB:.0f}",
        )
    console.print(totals)
    console.print(
        "pages/s: wall clock, best pass per file; it moves with the machine's load. pages/CPU-s: "
        "CPU time per pass of the contender and its parsing child, the steadier comparison."
    )


def _rate(result: ContenderResult, *, cpu: bool) -> float:
    ok = [run for run in result.runs.values() if not run.error]
    seconds = result.cpu_seconds if cpu else sum(run.seconds for run in ok)
    return sum(run.pages for run in ok) / seconds if seconds else 0.0


if __name__ == "__main__":
    typer.run(main)
