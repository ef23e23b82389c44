"""``lexledger-inference build-tiny-model``: the command line over ``build_tiny_model``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from inference.tiny_model.builder import build_tiny_model

app = typer.Typer()
console = Console()


@app.command("build-tiny-model")
def build_tiny_model_command(
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path(
        "var/models/tiny-deepseek-v3"
    ),
    seed: Annotated[int, typer.Option(help="Seed for the random weights.")] = 0,
    fp8: Annotated[bool, typer.Option("--fp8", help="Store weights in block-FP8.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even when up to date.")] = False,
) -> None:
    """Build the tiny random-weight DeepSeek-V3 (MLA + MoE) that the CPU vLLM engine serves."""
    with console.status(f"building tiny DeepSeek-V3 in {out}"):
        path = build_tiny_model(out, seed=seed, force=force, fp8=fp8)
    size = sum(f.stat().st_size for f in path.iterdir() if f.is_file())
    console.print(f"[green]ready[/green] {path} ({size / 1e6:.1f} MB, seed {seed}"
                  f"{', block-FP8' if fp8 else ''})")
