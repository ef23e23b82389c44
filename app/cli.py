"""``lexledger``: the command line. Runs the API and the workers, manages the schema and API
keys, generates the sample documents, and processes files in one shot on the embedded defaults
(``lexledger process FILE...``) with a progress bar and a summary table."""

from __future__ import annotations

import importlib
import json
import threading
import time
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from app.core.db import session_scope
from app.core.errors import LexLedgerError
from app.core.logging import configure_logging
from app.core.migrate import upgrade_database
from app.core.settings import get_settings
from app.model_endpoint import model_endpoint
from app.models import Document, DocumentStatus, Result
from app.result_summary import summary_lines
from app.services.documents import document_with_job, upload_documents
from app.services.tenants import Caller, create_api_key, get_or_create_tenant

app = typer.Typer(help="LexLedger: legal and financial document analysis.",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
console = Console()

# modules under app/commands whose commands join the top level of ``lexledger``
COMMAND_MODULES: list[str] = ["batch", "eval", "clauses"]

LOCAL_TENANT = "local"
# share of the bar each stage fills: ingest grows with pages, the others are steps
STAGE_SPAN = {"ingest": (0, 70), "analysis": (70, 90), "verify": (90, 100)}


@db_app.command("upgrade")
def db_upgrade(revision: str = "heads") -> None:
    """Apply the Alembic migrations to the configured database."""
    upgrade_database(revision=revision)
    console.print(f"database at revision {revision}")


@keys_app.command("create")
def keys_create(tenant: Annotated[str, typer.Option(help="tenant name (created if new)")],
                name: Annotated[str, typer.Option(help="a label for the key")] = "") -> None:
    """Create an API key for a tenant. The key is printed once and stored only as a hash."""
    upgrade_database()
    with session_scope() as session:
        tenant_row, key = create_api_key(session, tenant_name=tenant, key_name=name)
    console.print(f"tenant [bold]{tenant_row.name}[/] ({tenant_row.id})")
    console.print("API key (shown once, store it now):")
    print(key)


@app.command()
def api(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Run the HTTP API with uvicorn."""
    import uvicorn

    uvicorn.run("app.api.main:app", host=host, port=port, workers=workers,
                log_level=get_settings().log_level.lower())


@app.command()
def worker(queues: Annotated[str, typer.Option(help="comma-separated queues")]
           = "ingest,analysis,interactive",
           concurrency: int = 2, hostname: str | None = None) -> None:
    """Run a Celery worker for the given queues (one worker per queue group in production)."""
    from app.worker import celery_app

    argv = ["worker", "-Q", queues, "-c", str(concurrency), "--loglevel",
            get_settings().log_level]
    if hostname:
        argv += ["-n", hostname]
    celery_app.worker_main(argv)


@app.command()
def samples(out: Annotated[Path, typer.Option(help="folder to write the PDFs to")]
            = Path("var/samples")) -> None:
    """Generate LexLedger's own sample documents (English contract, Thai lease, statements)."""
    from app.samples import generate_samples

    paths = generate_samples(out)
    for path in paths:
        console.print(f"wrote {path}")


@app.command()
def process(files: Annotated[list[Path], typer.Argument(help="PDF files", exists=True,
                                                        dir_okay=False)],
            reprocess: bool = False,
            tiny_model: Annotated[bool, typer.Option(
                help="when no model endpoint answers, serve the tiny CPU model for this run")]
            = True) -> None:
    """Process PDFs through the whole pipeline and print a summary. On the embedded defaults
    everything runs in this process; with a broker configured, the workers do the work."""
    configure_logging("WARNING")
    settings = get_settings()
    upgrade_database()
    with model_endpoint(console, start_tiny=tiny_model and settings.celery.eager) as model_note:
        console.print(f"model: {model_note}")
        _process_files(files, reprocess, settings.storage.result_dir)


def _process_files(files: list[Path], reprocess: bool, result_dir: Path) -> None:
    with session_scope() as session, session.begin():
        tenant_id = get_or_create_tenant(session=session, name=LOCAL_TENANT).id
    caller = Caller(tenant_id=tenant_id, key_id=uuid.UUID(int=0), key_prefix="cli")

    errors: dict[Path, str] = {}
    ids: dict[Path, uuid.UUID] = {}

    def submit() -> None:
        for path in files:
            try:
                with session_scope() as session, path.open("rb") as stream:
                    outcome = upload_documents(session, caller, [(path.name, stream)],
                                               reprocess=reprocess)[0]
                ids[path] = outcome.document.id
            except LexLedgerError as exc:  # shown in the summary; the other files go on
                errors[path] = str(exc)
            except Exception as exc:
                errors[path] = f"internal error: {type(exc).__name__}: {exc}"

    runner = threading.Thread(target=submit, daemon=True)
    runner.start()
    _follow_progress(files, caller, runner, ids, errors)
    runner.join()
    _print_summary(files, caller, ids, errors, result_dir)


def _follow_progress(files: list[Path], caller: Caller, runner: threading.Thread,
                     ids: dict[Path, uuid.UUID], errors: dict[Path, str]) -> None:
    """Redraws one bar per file from the stage state in the database (the same state the API
    shows) until every file is finished or rejected."""
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[stage]}"),
                  TimeElapsedColumn(), console=console) as progress:
        bars = {path: progress.add_task(path.name, total=100, stage="waiting") for path in files}
        while True:
            finished = 0
            for path in files:
                if path in errors:
                    progress.update(bars[path], completed=100, stage="[red]rejected")
                    finished += 1
                elif (document_id := ids.get(path)) is not None:
                    with session_scope() as session:
                        document, job = document_with_job(session, caller, document_id)
                    percent, stage = _percent(document, job)
                    progress.update(bars[path], completed=percent, stage=stage)
                    finished += DocumentStatus(document.status).finished
            if finished == len(files) and not runner.is_alive():
                return
            time.sleep(0.2)


def _percent(document: Document, job: object) -> tuple[float, str]:
    status = DocumentStatus(document.status)
    if status.finished:
        colour = {"done": "green", "failed": "red", "cancelled": "yellow"}[status.value]
        return 100.0, f"[{colour}]{status.value}"
    for stage in getattr(job, "stages", []):
        if stage.status == "running":
            low, high = STAGE_SPAN[stage.name]
            share = (stage.progress_done / stage.progress_total) if stage.progress_total else 0.0
            return low + (high - low) * share, str(stage.name)
    return 0.0, status.value


def _print_summary(files: list[Path], caller: Caller, ids: dict[Path, uuid.UUID],
                   errors: dict[Path, str], result_dir: Path) -> None:
    """An overview table of every file, then the key results of each analysed document, and
    the JSON results written to ``result_dir``."""
    overview = Table(title="LexLedger results")
    for column in ("file", "status", "type", "pages", "page flags"):
        overview.add_column(column)
    details: list[Table] = []
    result_dir.mkdir(parents=True, exist_ok=True)
    written = 0
    with session_scope() as session:
        for path in files:
            if path in errors:
                overview.add_row(path.name, "[red]rejected", "", "", "")
                details.append(_detail_table(path.name, [("Reason", errors[path])]))
                continue
            document = session.get(Document, ids[path])
            if document is None:
                continue
            result = session.scalar(select(Result).where(Result.document_id == document.id)
                                    .order_by(Result.created_at.desc()).limit(1))
            flags = ""
            if result is not None:
                flags = ", ".join(f"{flag} p. {', '.join(map(str, pages))}" for flag, pages
                                  in result.data.get("quality", {}).items())
                details.append(_detail_table(path.name, summary_lines(result.data)))
                out = result_dir / f"{document.id}.json"
                out.write_text(json.dumps(result.data, ensure_ascii=False, indent=2),
                               encoding="utf-8")
                written += 1
            elif document.failure_reason:
                details.append(_detail_table(path.name, [("Reason", document.failure_reason)]))
            overview.add_row(path.name, str(document.status), document.doc_type or "",
                             str(document.page_count or ""), flags)
    console.print(overview)
    for table in details:
        console.print(table)
    if written:
        console.print(f"JSON results written to {result_dir}/ ({written} files)")


def _detail_table(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left", expand=True)
    table.add_column("what", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for label, text in rows:
        table.add_row(label, text)
    return table


def _mount_commands() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"app.commands.{name}")
        app.registered_commands.extend(module.app.registered_commands)
        app.registered_groups.extend(module.app.registered_groups)


_mount_commands()


def main() -> None:
    app()
