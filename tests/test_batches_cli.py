"""``lexledger batch DIR``: embedded (the pipeline in this process on the test database) and
against a running API with ``--server``; both end with every document done and an export."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from typer.testing import CliRunner

from app.cli import app
from tests.conftest import make_key
from tests.live import Stack


def folder_of_pdfs(samples_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "deals"
    (folder / "nested").mkdir(parents=True)
    (folder / "a.pdf").write_bytes((samples_dir / "services-agreement.pdf").read_bytes())
    (folder / "nested" / "b.pdf").write_bytes((samples_dir / "thai-lease.pdf").read_bytes())
    (folder / "notes.txt").write_text("not a pdf")
    return folder


def export_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def test_embedded_batch_processes_a_folder_and_exports(db, samples_dir: Path, tmp_path: Path):
    folder = folder_of_pdfs(samples_dir, tmp_path)
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["batch", str(folder), "--export", str(out)])
    assert result.exit_code == 0, result.output
    assert "done: 2" in result.output
    rows = export_rows(out)
    assert sorted(r["filename"] for r in rows) == ["a.pdf", "b.pdf"]
    assert {r["doc_type"] for r in rows} == {"contract", "lease"}


def test_batch_against_a_server(db, samples_dir: Path, tmp_path: Path):
    folder = folder_of_pdfs(samples_dir, tmp_path)
    out = tmp_path / "out.jsonl"
    stack = Stack()
    try:
        url = stack.start_api(dict(os.environ))
        result = CliRunner().invoke(app, ["batch", str(folder), "--server", url, "--api-key",
                                          make_key("acme"), "--export", str(out)])
    finally:
        stack.stop()
    assert result.exit_code == 0, result.output
    assert "done: 2" in result.output
    assert len(out.read_text().splitlines()) == 2


def test_empty_folder_and_missing_key_fail_clearly(db, samples_dir: Path, tmp_path: Path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(app, ["batch", str(empty)])
    assert result.exit_code == 1 and "no PDFs" in result.output
    folder = folder_of_pdfs(samples_dir, tmp_path)
    result = CliRunner().invoke(app, ["batch", str(folder), "--server", "http://127.0.0.1:9"],
                                env={"LEXLEDGER_API_KEY": ""})
    assert result.exit_code == 2 and "--api-key" in result.output
