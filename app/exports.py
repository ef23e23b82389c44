"""Batch exports: one row per document with its status, type, quality flags and every cited
value of its result, each with the pages it was found on; as CSV (UTF-8 with BOM, so spreadsheet
programs read Thai), JSON Lines, or an Excel workbook with a second sheet listing every citation.
The result's shape grows as agents add fields, so values are found generically: any object that
carries ``citations`` is a value, named by its path in the result."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Document, Result
from app.models.batch import Batch, BatchItem

FORMATS = ("csv", "jsonl", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BASE_COLUMNS = ("document_id", "filename", "status", "doc_type", "pages", "failure_reason",
                "quality_flags")
# parts of a result that describe the run rather than the document
SKIPPED_KEYS = {"document", "verification", "schema_version", "model", "citations", "llm",
                "alternatives"}
# keys that label a value, and keys that describe how it was found rather than what it is
LABEL_KEYS = ("kind", "category", "label")
NOISE_KEYS = {"citations", "model", "source", "fallback", "verified", "alternatives", "scores",
              "rules_value", "model_quote"}
# a cell starting with one of these is run as a formula by spreadsheet programs
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class CitedValue:
    path: str
    value: str
    citations: list[dict[str, Any]]

    @property
    def pages(self) -> list[int]:
        return sorted({int(c["page"]) for c in self.citations if "page" in c})


@dataclass
class ExportRow:
    base: dict[str, Any]
    values: list[CitedValue] = field(default_factory=list)


def cited_values(data: Any, path: tuple[str, ...] = ()) -> Iterator[CitedValue]:
    """Every value in a result that carries citations, depth first, in document order."""
    if isinstance(data, dict):
        if isinstance(data.get("citations"), list) and path:
            yield CitedValue(".".join(path), display_value(data), data["citations"])
        for key, child in data.items():
            if key in SKIPPED_KEYS or (not path and key == "quality"):
                continue
            yield from cited_values(child, (*path, str(key)))
    elif isinstance(data, list):
        for child in data:
            yield from cited_values(child, path)


def display_value(node: dict[str, Any]) -> str:
    """The readable value of a cited node: its ``value`` (or ``text``) labelled with its kind or
    category when it has one, else its plain fields; ``(unverified)`` when verification failed."""
    label = next((str(node[k]) for k in LABEL_KEYS if isinstance(node.get(k), str)), "")
    if "value" in node:
        shown = format_value(node["value"])
    elif "text" in node:
        shown = format_value(node["text"])
    else:
        shown = format_value({k: v for k, v in node.items()
                              if k not in NOISE_KEYS and k not in LABEL_KEYS and k != "pages"})
    shown = f"{label}: {shown}" if label and shown and label not in shown else (shown or label)
    if node.get("verified") is False:
        shown += " (unverified)"
    return shown


def format_value(value: Any) -> str:
    """A compact, readable rendering of a JSON value (``36 months``, ``amount: 48500, ...``)."""
    if value is None:
        return ""
    if isinstance(value, dict):
        if set(value) == {"amount", "unit"}:
            return f"{format_value(value['amount'])} {value['unit']}"
        return ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()
                         if v is not None and k not in NOISE_KEYS)
    if isinstance(value, list):
        return "; ".join(format_value(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def quality_flags(data: dict[str, Any]) -> str:
    quality = data.get("quality") or {}
    return "; ".join(f"{flag}: p." + ",".join(str(p) for p in pages)
                     for flag, pages in quality.items() if isinstance(pages, list))


def build_rows(session: Session, batch: Batch) -> list[ExportRow]:
    """One row per document of ``batch`` in upload order, with its latest result if any."""
    rows: list[ExportRow] = []
    items = session.execute(select(BatchItem, Document)
                            .join(Document, Document.id == BatchItem.document_id)
                            .where(BatchItem.batch_id == batch.id)
                            .order_by(BatchItem.position)).all()
    for item, document in items:
        result = session.scalar(select(Result).where(Result.document_id == document.id)
                                .order_by(Result.created_at.desc()).limit(1))
        data = result.data if result is not None else {}
        rows.append(ExportRow(base={
            "document_id": str(document.id), "filename": item.filename,
            "status": str(document.status), "doc_type": document.doc_type or "",
            "pages": document.page_count or "", "failure_reason": document.failure_reason or "",
            "quality_flags": quality_flags(data),
        }, values=list(cited_values(data))))
    return rows


def _value_columns(rows: list[ExportRow]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        for value in row.values:
            seen.setdefault(value.path, None)
    return list(seen)


def table(rows: list[ExportRow]) -> tuple[list[str], list[list[Any]]]:
    """The flat table: base columns, then ``result.<path>`` and ``result.<path> pages`` per
    field path (several values under one path, like clauses, are joined with `` | ``)."""
    paths = _value_columns(rows)
    header = [*BASE_COLUMNS]
    for path in paths:
        header += [f"result.{path}", f"result.{path} pages"]
    body = []
    for row in rows:
        line = [row.base[c] for c in BASE_COLUMNS]
        for path in paths:
            found = [v for v in row.values if v.path == path]
            line.append(" | ".join(v.value for v in found))
            line.append(" | ".join(",".join(map(str, v.pages)) for v in found))
        body.append([_safe_cell(cell) for cell in line])
    return header, body


def _safe_cell(cell: Any) -> Any:
    if isinstance(cell, str) and cell.startswith(FORMULA_PREFIXES):
        return "'" + cell
    return cell


def to_csv(rows: list[ExportRow]) -> bytes:
    header, body = table(rows)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(body)
    return out.getvalue().encode("utf-8-sig")


def to_jsonl(rows: list[ExportRow]) -> bytes:
    lines = []
    for row in rows:
        fields: dict[str, list[dict[str, Any]]] = {}
        for value in row.values:
            fields.setdefault(value.path, []).append({
                "value": value.value, "pages": value.pages,
                "citations": [{k: c.get(k) for k in ("page", "start", "end", "text", "verified")}
                              for c in value.citations]})
        lines.append(json.dumps({**row.base, "fields": fields}, ensure_ascii=False, default=str))
    return ("\n".join(lines) + "\n").encode() if lines else b""


def to_xlsx(rows: list[ExportRow]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "documents"
    header, body = table(rows)
    sheet.append(header)
    for line in body:
        sheet.append(line)
    cited = workbook.create_sheet("citations")
    cited.append(["document_id", "filename", "field", "value", "page", "start", "end", "text",
                  "verified"])
    for row in rows:
        for value in row.values:
            for citation in value.citations:
                cited.append([_safe_cell(cell) for cell in (
                    row.base["document_id"], row.base["filename"], value.path, value.value,
                    citation.get("page"), citation.get("start"), citation.get("end"),
                    citation.get("text"), citation.get("verified"))])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def export_batch(session: Session, batch: Batch, fmt: str) -> bytes:
    """The batch's export in ``fmt`` (one of ``FORMATS``)."""
    rows = build_rows(session, batch)
    return {"csv": to_csv, "jsonl": to_jsonl, "xlsx": to_xlsx}[fmt](rows)
