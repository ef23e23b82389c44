"""``lexledger clauses train DIR --labels L`` learns the clause classifier from labelled
contracts (the shipped model: ``agents/legal/data/clause_model.json``), and ``lexledger clauses
cross-validate DIR --labels L`` measures it leave-one-contract-out: each contract scored by a
model whose weights and thresholds never saw it. The learning code is the workers'
(``agents.legal.clause_training``); this command runs it in-process, reached by name as the
embedded pipeline is."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from app.core.logging import configure_logging

app = typer.Typer()
clauses_app = typer.Typer(help="learn and measure the clause classifier", no_args_is_help=True)
app.add_typer(clauses_app, name="clauses")
console = Console()
TRAINING_MODULE = "agents.legal.clause_training"


def training() -> Any:
    """The workers' clause-training module."""
    return importlib.import_module(TRAINING_MODULE)


def read_labels(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


@clauses_app.command("train")
def train(folder: Annotated[Path, typer.Argument(exists=True, file_okay=False)],
          labels: Annotated[Path, typer.Option(exists=True, dir_okay=False)],
          out: Annotated[Path | None, typer.Option(help="model file (default: the shipped one)")]
          = None) -> None:
    """Learn the clause classifier from FOLDER's labelled contracts and write it."""
    configure_logging("WARNING")
    module = training()
    contracts = module.load_labelled(folder, read_labels(labels))
    if not contracts:
        raise typer.BadParameter("no labelled contract of the labels file is in the folder")
    with console.status("learning") as status:
        model = module.fit([module.prepare(c) for c in contracts],
                           progress=lambda name: status.update(f"learning {name}"))
    target = out or importlib.import_module("agents.legal.clause_model").MODEL_FILE
    target.write_text(json.dumps(model.to_json(), separators=(",", ":")) + "\n",
                      encoding="utf-8")
    learned = sum(m.threshold is not None for m in model.categories.values())
    console.print(f"{learned} categories learned from {len(contracts)} contracts "
                  f"(the rules decide the other {len(model.categories) - learned}); "
                  f"written to {target}")


@clauses_app.command("cross-validate")
def cross_validate(folder: Annotated[Path, typer.Argument(exists=True, file_okay=False)],
                   labels: Annotated[Path, typer.Option(exists=True, dir_okay=False)],
                   out: Annotated[Path | None, typer.Option(help="JSON report")] = None) -> None:
    """Leave-one-contract-out precision and recall of the clause classifier."""
    configure_logging("WARNING")
    report = cross_validation(folder, read_labels(labels))
    print_cross_validation(report)
    if out:
        out.write_text(json.dumps(report, indent=2), encoding="utf-8")


def cross_validation(folder: Path, labels: list[dict[str, Any]]) -> dict[str, Any]:
    """The leave-one-contract-out report for FOLDER's labelled contracts."""
    module = training()
    contracts = module.load_labelled(folder, labels)
    if len(contracts) < 2:
        raise typer.BadParameter("cross-validation needs at least two labelled contracts")
    with console.status("cross-validating") as status:
        return module.cross_validation_report(
            contracts, progress=lambda name: status.update(f"scoring {name} (left out)"))


def category_table(title: str, per_category: dict[str, dict[str, Any]]) -> Table:
    """Counts, precision and recall of each category that was present or reported."""
    table = Table(title=title)
    for column in ("category", "tp", "fp", "fn", "precision", "recall"):
        table.add_column(column, justify="left" if column == "category" else "right")
    for name, s in per_category.items():
        if s["tp"] or s["fp"] or s["fn"]:
            table.add_row(name, str(s["tp"]), str(s["fp"]), str(s["fn"]),
                          _fmt(s["precision"]), _fmt(s["recall"]))
    return table


def print_cross_validation(report: dict[str, Any]) -> None:
    table = category_table(f"clauses, leave-one-contract-out ({len(report['contracts'])} "
                           "contracts)", report["per_category"])
    overall = report["overall"]
    table.add_row("all (micro)", str(overall["tp"]), str(overall["fp"]), str(overall["fn"]),
                  _fmt(overall["precision"]), _fmt(overall["recall"]), style="bold")
    console.print(table)
    console.print(f"micro F1 {_fmt(overall['f1'])}, macro recall {_fmt(report['macro_recall'])}")


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
