"""Arithmetic over extracted line items, done by code and never by the model: ratios,
year-over-year changes, and reconciliation checks (total assets = total liabilities + equity,
subtotals equal the items above them), each with the numbers it used and the citations of the
lines they came from. Differences within rounding (half a unit per term) pass."""

from __future__ import annotations

from itertools import combinations
from typing import Any

from agents.financial.tools import TOTAL_LABEL

RATIOS: dict[str, tuple[str, str]] = {
    "current_ratio": ("total_current_assets", "total_current_liabilities"),
    "debt_to_equity": ("total_liabilities", "total_equity"),
    "equity_ratio": ("total_equity", "total_assets"),
    "net_margin": ("net_income", "revenue"),
    "return_on_assets": ("net_income", "total_assets"),
}
YOY_KEYS = ("revenue", "net_income", "total_assets", "total_liabilities", "total_equity")
# how many earlier subtotals a total may be built from (e.g. total assets = current + non-current)
SUBTOTAL_LOOKBACK = 4


def _decimals(printed: list[str]) -> int:
    return max((len(t.split(".")[1].rstrip(")%")) for t in printed if "." in t), default=0)


def tolerance(terms: int, decimals: int) -> float:
    """Rounding allowance: half a unit of the last printed digit per term, at least one unit."""
    unit = 10.0 ** -decimals
    return max(unit, 0.5 * unit * terms) + 1e-9


def _first(figure: dict[str, Any] | None) -> float | None:
    if not figure or not figure["values"]:
        return None
    return figure["values"][0]


def compute_ratios(figures: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each ratio whose two inputs were found, for the first (current) column."""
    out = []
    for name, (top, bottom) in RATIOS.items():
        a, b = _first(figures.get(top)), _first(figures.get(bottom))
        if a is None or b is None or b == 0:
            continue
        out.append({"name": name, "value": round(a / b, 4), "formula": f"{top} / {bottom}",
                    "inputs": {top: a, bottom: b},
                    "citations": [*figures[top]["citations"], *figures[bottom]["citations"]]})
    return out


def compute_yoy(figures: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Change between the first two columns when those are periods (current, prior)."""
    out = []
    for key in YOY_KEYS:
        figure = figures.get(key)
        if not figure or len(figure["values"]) < 2 or not figure.get("columns"):
            continue
        current, prior = figure["values"][0], figure["values"][1]
        if current is None or prior is None:
            continue
        change = current - prior
        out.append({"name": key, "current": current, "prior": prior, "change": change,
                    "change_pct": round(change / abs(prior) * 100, 2) if prior else None,
                    "periods": figure["columns"][:2], "citations": figure["citations"]})
    return out


def reconcile_balance_sheet(figures: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Total assets = total liabilities + total equity, column by column."""
    assets, liabilities, equity = (figures.get(k) for k in ("total_assets", "total_liabilities",
                                                            "total_equity"))
    if not (assets and liabilities and equity):
        return []
    checks = []
    for column, total in enumerate(assets["values"]):
        if column >= min(len(liabilities["values"]), len(equity["values"])):
            break
        owed, owned = liabilities["values"][column], equity["values"][column]
        if total is None or owed is None or owned is None:
            continue
        difference = round(total - (owed + owned), 6)
        checks.append({
            "check": "total_assets = total_liabilities + total_equity", "column": column,
            "numbers": {"total_assets": total, "total_liabilities": owed, "total_equity": owned},
            "difference": difference, "ok": abs(difference) <= tolerance(3, 2),
            "citations": [*assets["citations"], *liabilities["citations"],
                          *equity["citations"]]})
    return checks


def reconcile_subtotals(statement: dict[str, Any]) -> list[dict[str, Any]]:
    """Every line labelled as a total checked against the items above it (since the previous
    total), optionally plus some of the earlier subtotals it is built from. Totals whose rows
    do not have the same number of columns (cells lost in extraction) are left unchecked."""
    checks: list[dict[str, Any]] = []
    items_since: list[dict[str, Any]] = []
    totals: list[dict[str, Any]] = []
    for item in statement["items"]:
        if not TOTAL_LABEL.search(item["label"]):
            items_since.append(item)
            continue
        width = len(item["values"])
        rows = [*items_since, *totals[-SUBTOTAL_LOOKBACK:]]
        if any(len(r["values"]) != width for r in rows):
            checks.append(_subtotal(item, [], None, statement, checked=False))
        else:
            checks.append(_match_subtotal(item, items_since, totals[-SUBTOTAL_LOOKBACK:],
                                          statement))
        totals.append(item)
        items_since = []
    return checks


def _column_sum(rows: list[dict[str, Any]], column: int) -> float:
    return sum(r["values"][column] or 0.0 for r in rows)


def _match_subtotal(total: dict[str, Any], items: list[dict[str, Any]],
                    earlier: list[dict[str, Any]], statement: dict[str, Any]) -> dict[str, Any]:
    decimals = _decimals(total["printed"])
    best: tuple[float, list[dict[str, Any]]] | None = None
    for size in range(len(earlier) + 1):
        for chosen in combinations(earlier, size):
            rows = [*items, *chosen]
            if not rows:
                continue
            gap = max(abs((total["values"][c] or 0.0) - _column_sum(rows, c))
                      for c in range(len(total["values"])))
            if best is None or gap < best[0]:
                best = (gap, rows)
            if gap <= tolerance(len(rows), decimals):
                return _subtotal(total, rows, gap, statement, checked=True, ok=True)
    rows = best[1] if best else items
    return _subtotal(total, rows, best[0] if best else None, statement, checked=True, ok=False)


def _subtotal(total: dict[str, Any], rows: list[dict[str, Any]], gap: float | None,
              statement: dict[str, Any], *, checked: bool, ok: bool | None = None
              ) -> dict[str, Any]:
    return {"check": f"{total['label']} = sum of the lines above", "statement": statement["kind"],
            "checked": checked, "ok": ok if checked else None,
            "difference": None if gap is None else round(gap, 6),
            "numbers": {"total": total["values"],
                        "terms": [{"label": r["label"], "values": r["values"]} for r in rows]},
            "citations": [dict(c) for c in total["citations"]]}
