"""The engine's commands in ``lexledger-inference``: ``serve`` (start vLLM's OpenAI server from a
profile and wait for health), ``profiles`` (list the checked profiles), ``check-profiles``
(validate every profile with the installed vLLM's own parser) and ``bench`` (the load table for
any OpenAI-compatible endpoint)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.core.errors import LexLedgerError
from inference.engine.bench import BenchConfig, BenchReport, RequestSample, run_bench
from inference.engine.launcher import start_engine
from inference.engine.profiles import load_profile, load_profiles
from inference.engine.validate import check_profiles

app = typer.Typer()
console = Console()
VENV_HELP = "vLLM venv (default: settings engine.vllm_venv)."


def _fail(exc: LexLedgerError) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc.message}")
    return typer.Exit(code=1)


@app.command("serve")
def serve(
    profile: str = typer.Option(..., "--profile", "-p", help="Serving profile name."),
    host: str = typer.Option("127.0.0.1", help="Address the OpenAI server listens on."),
    port: int = typer.Option(8000, help="Port the OpenAI server listens on."),
    model: str | None = typer.Option(None, help="Model path or id instead of the profile's."),
    node_rank: int = typer.Option(0, help="This node's rank in a multi-node profile."),
    leader_address: str | None = typer.Option(
        None, help="Address of node 0 (multi-node profiles)."),
    venv: Annotated[Path | None, typer.Option(help=VENV_HELP)] = None,
    log: Annotated[Path | None, typer.Option(help="Server log file.")] = None,
    timeout: float | None = typer.Option(None, help="Seconds to wait for /health."),
) -> None:
    """Start vLLM's OpenAI server with a profile, wait until it is healthy, and keep it running
    until interrupted (Ctrl-C stops the server and its engine processes)."""
    try:
        spec = load_profile(profile)
        if spec.build_tiny_model:
            console.print(f"preparing the tiny model in {model or spec.model}")
        engine = start_engine(spec, host=host, port=port, model=model, node_rank=node_rank,
                              leader_address=leader_address, venv=venv, log_path=log)
    except LexLedgerError as exc:
        raise _fail(exc) from exc

    def _stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    console.print(f"vLLM pid {engine.pid}, log {engine.log_path}")
    try:
        headless = bool(spec.nodes and spec.nodes[node_rank].get("headless"))
        if headless:
            console.print(f"node {node_rank} of {spec.name} runs headless (no API server)")
        else:
            with console.status(f"waiting for {engine.root_url}/health") as status:
                took = engine.wait_ready(
                    timeout, on_poll=lambda s: status.update(
                        f"waiting for {engine.root_url}/health ({s:.0f} s)"))
            console.print(f"[green]ready[/green] in {took:.1f} s: base URL {engine.base_url}, "
                          f"model {spec.served_model_name}")
        engine.process.wait()
        console.print(f"[red]vLLM exited with code {engine.process.returncode}[/red]")
        raise typer.Exit(code=engine.process.returncode or 1)
    except LexLedgerError as exc:
        engine.stop()
        raise _fail(exc) from exc
    except KeyboardInterrupt:
        console.print("stopping vLLM")
        engine.stop()


@app.command("profiles")
def list_profiles() -> None:
    """List the serving profiles and what each is for."""
    table = Table(title="Serving profiles")
    table.add_column("profile", no_wrap=True)
    for column in ("hardware", "parallelism", "max len", "KV cache", "tool parser",
                   "served as", "for"):
        table.add_column(column)
    for spec in load_profiles():
        table.add_row(spec.name, spec.hardware, spec.parallelism, str(spec.max_model_len),
                      spec.kv_cache_dtype, spec.tool_call_parser, spec.served_model_name,
                      spec.description)
    console.print(table)


@app.command("check-profiles")
def check_profiles_command(
    venv: Annotated[Path | None, typer.Option(help=VENV_HELP)] = None,
) -> None:
    """Validate every profile's flags with the installed vLLM's own argument parser."""
    try:
        with console.status("checking profiles with vLLM's parser"):
            verdicts = check_profiles(load_profiles(), venv=venv)
    except LexLedgerError as exc:
        raise _fail(exc) from exc
    table = Table(title="Profiles checked by vLLM")
    for column in ("profile", "node", "GPUs", "verdict"):
        table.add_column(column)
    for verdict in verdicts:
        table.add_row(verdict.profile, str(verdict.node_rank), str(verdict.gpus or "-"),
                      "[green]ok[/green]" if verdict.ok else "[red]" + "; ".join(
                          verdict.problems) + "[/red]")
    console.print(table)
    if not all(v.ok for v in verdicts):
        raise typer.Exit(code=1)


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:,.1f} ms"


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value:,.4f}"


def bench_table(report: BenchReport) -> Table:
    """The benchmark's result as a rich table (what ``bench`` prints)."""
    cfg = report.config
    table = Table(title=f"{cfg.model} at {cfg.base_url}",
                  caption=(f"concurrency {cfg.concurrency}, {len(report.samples)} requests, "
                           f"~{cfg.input_tokens}-word prompts, max {cfg.output_tokens} "
                           f"tokens out{' (ignore_eos)' if cfg.ignore_eos else ''}, "
                           f"{'stream' if cfg.stream else 'non-stream'}"))
    table.add_column("metric")
    table.add_column("value", justify="right")
    ok = len(report.ok_samples)
    rows = [
        ("latency p50", _ms(report.latency_percentile(50))),
        ("latency p99", _ms(report.latency_percentile(99))),
        ("TTFT p50", _ms(report.ttft_percentile(50))),
        ("TTFT p99", _ms(report.ttft_percentile(99))),
        ("output tokens/s (all requests)", f"{report.output_tokens_per_s:,.1f}"),
        ("output tokens/s per request (p50)",
         "-" if report.per_request_tokens_per_s is None
         else f"{report.per_request_tokens_per_s:,.1f}"),
        ("requests/s", f"{report.requests_per_s:,.2f}"),
        ("error rate", f"{report.error_rate:.1%}"
         + (f" ({', '.join(f'{k} x{n}' for k, n in report.errors.items())})"
            if report.errors else "")),
        ("tokens in / out (mean)", f"{report.prompt_tokens / max(1, ok):,.0f} / "
                                   f"{report.completion_tokens / max(1, ok):,.0f}"),
        ("$ / MTok (blended, price list)", _money(report.price_per_mtok)),
        ("$ / MTok out (self-hosted)", _money(report.hosted_cost_per_mtok_out)),
        ("wall time", f"{report.wall_s:,.1f} s"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


@app.command("bench")
def bench(
    base_url: str = typer.Option(..., help="OpenAI base URL, e.g. http://127.0.0.1:8000/v1."),
    model: str = typer.Option(..., help="Model name the endpoint serves."),
    api_key: str = typer.Option("none", help="Bearer key for the endpoint."),
    concurrency: int = typer.Option(4, min=1, help="Requests in flight at once."),
    requests: int = typer.Option(32, min=1, help="Requests to measure."),
    input_tokens: int = typer.Option(
        128, min=1, help="Prompt length in words (the table shows the tokens the server counted)."),
    output_tokens: int = typer.Option(64, min=1, help="max_tokens of every request."),
    stream: bool = typer.Option(True, "--stream/--no-stream", help="Stream (measures TTFT)."),
    ignore_eos: bool = typer.Option(False, help="vLLM only: always generate output_tokens."),
    warmup: int = typer.Option(1, min=0, help="Unmeasured requests sent first."),
    price_in: float | None = typer.Option(None, help="$ per million input tokens."),
    price_out: float | None = typer.Option(None, help="$ per million output tokens."),
    hourly_cost: float | None = typer.Option(None, help="$ per hour of a self-hosted deployment."),
    timeout: float = typer.Option(300.0, help="Seconds one request may take."),
) -> None:
    """Load-test an OpenAI-compatible chat endpoint and print p50/p99 latency, TTFT, tokens/s,
    requests/s, error rate and cost per million tokens."""
    config = BenchConfig(base_url=base_url, model=model, api_key=api_key,
                         concurrency=concurrency, requests=requests, input_tokens=input_tokens,
                         output_tokens=output_tokens, stream=stream, ignore_eos=ignore_eos,
                         warmup=warmup, timeout_s=timeout, price_in=price_in,
                         price_out=price_out, hourly_cost=hourly_cost)
    with Progress(TextColumn("[bold]bench[/bold]"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[errors]} errors"), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("bench", total=requests, errors=0)
        failed = 0

        def on_done(sample: RequestSample) -> None:
            nonlocal failed
            failed += 0 if sample.ok else 1
            progress.update(task, advance=1, errors=failed)

        report = asyncio.run(run_bench(config, on_done=on_done))
    console.print(bench_table(report))
    if not report.ok_samples:
        raise typer.Exit(code=1)
