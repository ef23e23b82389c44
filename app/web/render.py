"""Turns an analysis result into what the document page shows: sections of labelled values,
each with its citations (page, span, verified) ready to link to the highlighted page. Works from
the result's shape, not a fixed list of fields: any object carrying ``citations`` is a value, its
path says which section it belongs to, so new fields appear without touching the page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.exports import cited_values


@dataclass
class Citation:
    page: int
    start: int | None
    end: int | None
    text: str
    verified: bool | None


@dataclass
class Row:
    label: str
    value: str
    citations: list[Citation]


@dataclass
class Section:
    key: str
    rows: list[Row] = field(default_factory=list)


def humanize(key: str) -> str:
    return key.replace("_", " ").capitalize()


def result_sections(data: dict[str, Any]) -> list[Section]:
    """The result's cited values grouped by the object they sit in, in result order. A value
    directly under the top (``doc_type``) is its own section; ``legal.fields.term`` is the row
    ``Term`` of section ``legal.fields``."""
    sections: dict[str, Section] = {}
    for value in cited_values(data):
        parts = value.path.split(".")
        key, label = (".".join(parts[:-1]), parts[-1]) if len(parts) > 1 else (parts[0], "")
        if not value.value and not value.citations:
            continue  # a field the analysis looked for and did not find
        section = sections.setdefault(key, Section(key=key))
        section.rows.append(Row(label=humanize(label) if label else "", value=value.value,
                                citations=[_citation(c) for c in value.citations
                                           if isinstance(c.get("page"), int)]))
    return list(sections.values())


def _citation(raw: dict[str, Any]) -> Citation:
    return Citation(page=raw["page"], start=raw.get("start"), end=raw.get("end"),
                    text=str(raw.get("text") or ""), verified=raw.get("verified"))


def section_title(key: str, t: Any) -> str:
    """``legal.fields`` -> ``Legal · Key fields`` in the page's language."""
    return " · ".join(t(f"sections.{part}") for part in key.split("."))


def page_flags(data: dict[str, Any]) -> list[tuple[str, list[int]]]:
    quality = data.get("quality") or {}
    return [(flag, pages) for flag, pages in quality.items() if isinstance(pages, list)]


def highlight(text: str, start: int | None, end: int | None) -> tuple[str, str, str]:
    """The page text split around the cited span (clamped to the text); no span: no mark."""
    if start is None or end is None or not 0 <= start < end:
        return text, "", ""
    start, end = min(start, len(text)), min(end, len(text))
    return text[:start], text[start:end], text[end:]
