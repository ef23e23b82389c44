"""``lexledger batch DIR``: analyse every PDF under a folder (or one zip) as a batch, with a
progress bar for the batch and a summary table at the end. Embedded by default (the pipeline runs
in this process on the configured database); ``--server URL --api-key KEY`` sends the files to a
running LexLedger API instead and follows the batch there."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer()
console = Console()

LOCAL_TENANT = "local"
POLL_S = 0.5


def pdfs_in(source: Path) -> list[Path]:
    """The PDFs to send: a zip as it is, or every ``*.pdf`` under a folder, sorted by path."""
    if source.is_file():
        return [source]
    return sorted(p for p in source.rglob("*") if p.is_file() and p.suffix.lower() == ".pdf")


@app.command("batch")
def batch(source: Annotated[Path, typer.Argument(help="a folder of PDFs, or a zip of PDFs",
                                                 exists=True)],
          server: Annotated[str | None, typer.Option(help="LexLedger API base URL")] = None,
          api_key: Annotated[str | None, typer.Option(help="API key for --server",
                                                      envvar="LEXLEDGER_API_KEY")] = None,
          name: Annotated[str, typer.Option(help="a label for the batch")] = "",
          export: Annotated[Path | None, typer.Option(
              help="write the export here when done (.csv, .jsonl or .xlsx)")] = None) -> None:
    """Analyse many PDFs as one batch with live progress."""
    paths = pdfs_in(source)
    if not paths:
        console.print(f"[red]no PDFs under {source}")
        raise typer.Exit(1)
    label = name or source.name
    if export is not None and export.suffix.lstrip(".") not in ("csv", "jsonl", "xlsx"):
        console.print("[red]--export must end in .csv, .jsonl or .xlsx")
        raise typer.Exit(2)
    if server:
        if not api_key:
            console.print("[red]--server needs --api-key (or LEXLEDGER_API_KEY)")
            raise typer.Exit(2)
        summary = _run_remote(paths, server.rstrip("/"), api_key, label, export)
    else:
        summary = _run_embedded(paths, label, export)
    _print_summary(summary)
    if summary["counts"].get("failed"):
        raise typer.Exit(1)


@contextlib.contextmanager
def _opened(paths: list[Path]) -> Iterator[list[tuple[str, BinaryIO]]]:
    with contextlib.ExitStack() as stack:
        yield [(p.name, stack.enter_context(p.open("rb"))) for p in paths]


def _run_remote(paths: list[Path], server: str, api_key: str, label: str,
                export: Path | None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=server, headers=headers, timeout=300) as client, \
            _opened(paths) as files:
        console.print(f"uploading {len(paths)} file(s) to {server} ...")
        response = client.post("/v1/batches", data={"name": label},
                               files=[("files", (n, f, "application/octet-stream"))
                                      for n, f in files])
        if response.status_code != 202:
            console.print(f"[red]{response.status_code}: {_message(response)}")
            raise typer.Exit(1)
        created = response.json()

        def read() -> dict[str, Any]:
            reply = client.get(f"/v1/batches/{created['id']}")
            reply.raise_for_status()
            return reply.json()

        summary = _follow(label, read, lambda: True)
        if export is not None:
            reply = client.get(f"/v1/batches/{created['id']}/export",
                               params={"format": export.suffix.lstrip(".")})
            reply.raise_for_status()
            export.write_bytes(reply.content)
            console.print(f"export written to {export}")
    _report_skipped(created.get("skipped", []))
    return summary


def _run_embedded(paths: list[Path], label: str, export: Path | None) -> dict[str, Any]:
    from app.core.db import session_scope
    from app.core.logging import configure_logging
    from app.core.migrate import upgrade_database
    from app.exports import export_batch
    from app.services import batches as service
    from app.services.tenants import Caller, get_or_create_tenant

    configure_logging("WARNING")
    upgrade_database()
    with session_scope() as session, session.begin():
        tenant_id = get_or_create_tenant(session=session, name=LOCAL_TENANT).id
    caller = Caller(tenant_id=tenant_id, key_id=uuid.UUID(int=0), key_prefix="cli")
    with session_scope() as session, _opened(paths) as files:
        try:
            created = service.create_batch(session, caller, list(files), name=label, start=False)
        except Exception as exc:  # the message says which file and why
            console.print(f"[red]{exc}")
            raise typer.Exit(1) from exc
    batch_id = created.batch.id
    # on the embedded defaults the feeder runs the whole pipeline in this thread
    runner = threading.Thread(target=service.kick, args=(tenant_id,), daemon=True)
    runner.start()

    def read() -> dict[str, Any]:
        with session_scope() as session:
            return service.batch_summary(session, caller, batch_id, nudge=False)

    summary = _follow(label, read, lambda: not runner.is_alive())
    runner.join()
    summary = read()
    if export is not None:
        with session_scope() as session, session.begin():
            batch_row = service.get_batch(session=session, caller=caller, batch_id=batch_id)
            export.write_bytes(export_batch(session, batch_row, export.suffix.lstrip(".")))
        console.print(f"export written to {export}")
    _report_skipped(created.skipped)
    return summary


def _follow(label: str, read: Callable[[], dict[str, Any]],
            settled: Callable[[], bool]) -> dict[str, Any]:
    """One progress bar for the batch, redrawn from its summary until it is over."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[counts]}"), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        summary = read()
        bar = progress.add_task(label, total=summary["total"], counts="")
        while True:
            counts = ", ".join(f"{k} {v}" for k, v in sorted(summary["counts"].items()))
            rate = summary["documents_per_minute"]
            if rate:
                counts += f" | {rate:.1f}/min"
            if summary["eta_s"] is not None:
                counts += f" | ETA {summary['eta_s']:.0f}s"
            progress.update(bar, completed=summary["finished"], counts=counts)
            if summary["status"] != "running" and settled():
                return summary
            time.sleep(POLL_S)
            summary = read()


def _print_summary(summary: dict[str, Any]) -> None:
    table = Table(title=f"batch {summary['id']} ({summary['status']})")
    for column in ("file", "status", "type", "pages", "reason"):
        table.add_column(column)
    colours = {"done": "green", "failed": "red", "cancelled": "yellow"}
    for doc in summary["documents"]:
        colour = colours.get(doc["status"], "white")
        table.add_row(doc["filename"], f"[{colour}]{doc['status']}", doc["doc_type"] or "",
                      str(doc["page_count"] or ""), doc["failure_reason"] or "")
    console.print(table)
    console.print(", ".join(f"{k}: {v}" for k, v in sorted(summary["counts"].items())))


def _report_skipped(skipped: list[str]) -> None:
    if skipped:
        console.print(f"[yellow]skipped (not PDFs): {', '.join(skipped)}")


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:300]
