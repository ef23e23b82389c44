"""The structure of a document that retrieval indexes next to its chunks: the financial
statements on each page (balance sheet, income statement, cash flow, changes in equity, key
figures), every line item of a statement table with the periods of its columns, the contract
clauses and key fields each chunk contains (``data/categories.json``), and whatever the analysis
agents stored in the document's result (any cited span under ``clauses``, ``line_items``,
``statements`` or ``fields`` keys). Every entry is a span of a page's text, so an answer built
on it cites (document, page) and verifies against the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from agents.retrieval.intent import categories, periods_in
from app.models.search import EntryKind

STATEMENTS: dict[str, re.Pattern[str]] = {
    "balance_sheet": re.compile(
        r"balance sheets?|statements? of financial (?:position|condition)|งบแสดงฐานะการเงิน|"
        r"资产负债表|貸借対照表",
        re.IGNORECASE),
    "income_statement": re.compile(
        r"income statements?|statements? of (comprehensive )?(?:income|earnings)|"
        r"profit (and|or) loss|statements? of operations|งบกำไรขาดทุน|利润表|損益計算書",
        re.IGNORECASE),
    "cash_flow": re.compile(r"statements? of cash flows?|cash flow statements?|งบกระแสเงินสด|"
                            r"现金流量表|キャッシュ・フロー計算書", re.IGNORECASE),
    "equity_changes": re.compile(r"changes in (shareholders'? |stockholders'? )?equity|"
                                 r"การเปลี่ยนแปลงส่วนของผู้ถือหุ้น|所有者权益变动表|"
                                 r"株主資本等変動計算書", re.IGNORECASE),
    "key_figures": re.compile(r"financial highlights|key figures|主要会计数据|主要財務",
                              re.IGNORECASE),
}
_LINE = re.compile(r"[^\r\n]+")
# "233,715", "(1,234)", "△12", "$ 5,173", "12.5%": a currency sign may stand before a figure
_NUMBER = r"(?:[$€£¥฿]\s?)?\(?[-–△]?\d[\d,]*(?:\.\d+)?\)?%?"
_LINE_ITEM = re.compile(
    rf"^(?P<label>.*?[^\d\s,.()\-–△%])\s+(?P<values>{_NUMBER}(?:\s+{_NUMBER}){{0,4}})\s*$")
_COLUMN_WORDS = re.compile(r"本报告期|上年同期|期末余额|期初余额|本期发生额|上期发生额|当期|前期"
                           r"|current (year|period)|prior (year|period)", re.IGNORECASE)
_LABEL_LETTERS = re.compile(r"[A-Za-z\u0e01-\u0e4e\u3040-\u30ff\u4e00-\u9fff]")
# a page is a table when this many of its lines are "label  number  number"
MIN_TABLE_LINES = 3
MAX_LABEL_CHARS = 120
MAX_STATEMENT_CHARS = 4000
GENERIC_KEYS = {"citations", "citation", "evidence", "spans", "span", "items", "values"}
RESULT_KINDS = {"clause": EntryKind.CLAUSE, "line_item": EntryKind.LINE_ITEM,
                "statement": EntryKind.STATEMENT, "field": EntryKind.FIELD}


@dataclass
class EntryDraft:
    """One retrievable span before it is embedded and stored."""

    kind: EntryKind
    page: int
    start: int
    end: int
    text: str
    label: str | None = None
    period: str | None = None
    chunk_id: int | None = None
    # what the lexical index sees: the span, plus context words (statement, column headers)
    index_text: str | None = None


def statement_entries(pages: dict[int, str]) -> list[EntryDraft]:
    """Statement sections and their line items, page by page. A table page without a heading
    continues the statement of the page before it."""
    drafts: list[EntryDraft] = []
    current: str | None = None
    for number in sorted(pages):
        text = pages[number]
        lines = [(m.start(), m.end(), m.group()) for m in _LINE.finditer(text)]
        headings = [(s, name) for s, _e, line in lines for name, pattern in STATEMENTS.items()
                    if pattern.search(line) and _is_heading_line(line)]
        heading_at = {s for s, _ in headings}
        items = [(s, e, line) for s, e, line in lines
                 if s not in heading_at and _is_line_item(line, columns=2)]
        if not headings and len(items) < MIN_TABLE_LINES:
            current = None
            continue
        if headings:
            for index, (start, name) in enumerate(headings):
                end = headings[index + 1][0] if index + 1 < len(headings) else len(text)
                end = min(end, start + MAX_STATEMENT_CHARS)
                drafts.append(EntryDraft(EntryKind.STATEMENT, number, start, end,
                                         text[start:end], label=name,
                                         period=_join(periods_in(text[start:end][:400]))))
            current = headings[-1][1]
        elif current is not None:
            drafts.append(EntryDraft(EntryKind.STATEMENT, number, 0, min(len(text),
                                     MAX_STATEMENT_CHARS), text[:MAX_STATEMENT_CHARS],
                                     label=current, period=None))
        if len(items) < MIN_TABLE_LINES and not headings:
            continue
        header_periods: list[str] = []
        header_line = ""
        statement_at = dict(headings)
        statement = current
        for start, end, line in lines:
            if start in statement_at:
                statement = statement_at[start]
            if start in heading_at or not _is_line_item(line):
                found = periods_in(line)
                if len(found) >= 2 or _COLUMN_WORDS.search(line):
                    # column words without years keep the periods the page named before
                    header_periods, header_line = found or header_periods, line
                continue
            drafts.append(EntryDraft(
                EntryKind.LINE_ITEM, number, start, end, line, label=statement,
                period=_join(header_periods),
                index_text=f"{line} {(statement or '').replace('_', ' ')} {header_line}"))
    return drafts


def clause_entries(chunks: list[tuple[int, int, int, int, str]]) -> list[EntryDraft]:
    """Clause and field entries: each chunk ``(chunk_id, page, start, end, text)`` once per
    category whose wording it contains."""
    drafts: list[EntryDraft] = []
    for chunk_id, page, start, end, text in chunks:
        for category in categories():
            if category.name == "Document Name":
                continue
            if any(p.search(text) for p in category.text_patterns):
                drafts.append(EntryDraft(EntryKind.CLAUSE, page, start, end, text,
                                         label=category.name, chunk_id=chunk_id,
                                         index_text=f"{category.name} {text}"))
    return drafts


def result_entries(result: dict[str, Any] | None, pages: dict[int, str]) -> list[EntryDraft]:
    """Entries for the cited spans the analysis agents stored, when the span still says what
    the agent cited (unverified citations are not indexed)."""
    drafts: list[EntryDraft] = []
    if not result:
        return drafts
    for path, node, inherited in _cited_nodes(result, (), None):
        kind = next((k for key in reversed(path) for name, k in RESULT_KINDS.items()
                     if name in str(key)), None)
        if kind is None or node.get("verified") is False:
            continue
        page, start, end = node.get("page"), node.get("start"), node.get("end")
        if not (isinstance(page, int) and isinstance(start, int) and isinstance(end, int)):
            continue
        text = pages.get(page)
        if text is None:
            continue
        if not 0 <= start < end <= len(text):
            continue
        named = [str(key) for key in path if str(key) not in GENERIC_KEYS]
        label = inherited or (named[-1] if named else str(path[-1]))
        drafts.append(EntryDraft(kind, page, start, end, text[start:end], label=str(label)[:200],
                                 period=str(node["period"])[:32] if node.get("period") else None,
                                 index_text=f"{label} {text[start:end]}"))
    return drafts


def _cited_nodes(node: Any, path: tuple[Any, ...], label: str | None
                 ) -> Iterator[tuple[tuple[Any, ...], dict, str | None]]:
    """Every cited span under ``node`` with its key path and the name of the nearest item
    that encloses it (a clause's ``category``, a line item's ``label``)."""
    if isinstance(node, dict):
        own = node.get("category") or node.get("label") or node.get("name")
        label = str(own) if isinstance(own, str) else label
        if {"page", "start", "end"} <= node.keys() and path:
            yield path, node, label
        for key, value in node.items():
            if key != "doc_type":
                yield from _cited_nodes(value, (*path, key), label)
    elif isinstance(node, list):
        for item in node:
            yield from _cited_nodes(item, path, label)


def _is_heading_line(line: str) -> bool:
    """A statement's title ("CONSOLIDATED BALANCE SHEETS", "Condensed Consolidated Statements
    of Operations (Unaudited)", "งบแสดงฐานะการเงิน"), not a sentence of prose that mentions one
    ("... as shown in the consolidated balance sheets.")."""
    stripped = line.strip()
    if len(stripped) > 120 or stripped.endswith((".", ",", ";")):
        return False
    if re.search(r"(?:\s|\.)\d{1,3}$", stripped) and not re.search(
            r"(?i)\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}$",
            stripped):  # a contents line ("Balance Sheets .... 41"), not "as of December 31"
        return False
    letters = [ch for ch in stripped if ch.isalpha() and ch.isascii()]
    if not letters:  # Thai, Chinese, Japanese titles: short lines
        return len(stripped) < 60
    words = stripped.split()
    capitalised = sum(w[0].isupper() for w in words if w[0].isalpha() and len(w) > 3)
    long_words = sum(1 for w in words if w[0].isalpha() and len(w) > 3)
    return len(words) <= 16 and (capitalised >= 0.7 * max(1, long_words) or bool(
        re.match(r"(?i)(?:unaudited\s+)?(?:consolidated|condensed|combined|group)\b", stripped)))


def _is_line_item(line: str, columns: int = 1) -> bool:
    """``label  number [number...]`` with at least ``columns`` numbers: a table row, not a
    sentence that happens to end with a year."""
    match = _LINE_ITEM.match(line.strip())
    if match is None:
        return False
    label = match.group("label")
    return (len(label) <= MAX_LABEL_CHARS and bool(_LABEL_LETTERS.search(label))
            and len(match.group("values").split()) >= columns)


def _join(periods: list[str]) -> str | None:
    return ",".join(periods)[:32] or None
