"""Checks every extracted value against the text it cites, and recomputes what code computed.
A value record is any dict with ``value`` and ``citations``: a date must be a date its cited
text states (Buddhist-era and Thai numerals read the same way as when extracting), an amount or
duration must be printed there, a name or phrase must appear there (normalised whitespace, NFC,
case). Line items must have every number printed in their line; ratios and reconciliation
checks are recomputed from their inputs. Failures are kept and marked ``verified: false`` with
the reason."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from agents.verify.citations import normalize_for_match
from agents.verify.values import (
    JURISDICTION_ALIASES,
    find_amounts,
    find_dates,
    find_durations,
    parse_number,
)

# values written in the document in another language or form
VALUE_ALIASES = JURISDICTION_ALIASES
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _records(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "value" in node and "citations" in node and "formula" not in node:
            yield node
        for key, value in node.items():
            if key != "citations":
                yield from _records(value)
    elif isinstance(node, list):
        for item in node:
            yield from _records(item)


def _cited_text(record: dict[str, Any], pages: dict[int, str]) -> str:
    parts = []
    for cite in record["citations"]:
        page = pages.get(cite["page"], "")
        parts.append(page[cite["start"]:cite["end"]])
    return "\n".join(parts)


def _same_number(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def check_value(value: Any, cited: str) -> str | None:
    """None when ``cited`` states ``value``; otherwise the reason it does not."""
    if value is None:
        return None
    if isinstance(value, str) and _ISO_DATE.match(value):
        dates = [f.value for f in find_dates(cited)]
        return None if value in dates else f"no date {value} in the cited text"
    if isinstance(value, dict) and "currency" in value:
        amounts = [f.value for f in find_amounts(cited)]
        if any(_same_number(a["amount"], value["amount"]) and  # type: ignore[index]
               a["currency"] == value["currency"] for a in amounts):  # type: ignore[index]
            return None
        return f"amount {value['currency']} {value['amount']:,} is not in the cited text"
    if isinstance(value, dict) and "unit" in value and "amount" in value:
        return _check_duration(value, cited)
    if isinstance(value, dict) and "name" in value:
        return check_value(str(value["name"]), cited)
    if isinstance(value, dict) and "party" in value:
        problem = check_value(str(value["party"]), cited)
        if problem is None and value.get("notice"):
            problem = _check_duration(value["notice"], cited)
        return problem
    if isinstance(value, list):
        problems = [p for item in value if (p := check_value(item, cited))]
        return problems[0] if problems else None
    if isinstance(value, dict) and "automatic" in value:
        for part in ("renewal_term", "notice"):
            if value.get(part) and (problem := _check_duration(value[part], cited)):
                return problem
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        numbers = [n for token in cited.split() if (n := parse_number(token)) is not None]
        return None if any(_same_number(n, value) for n in numbers) else \
            f"{value:,} is not printed in the cited text"
    if isinstance(value, str):
        wanted = normalize_for_match(value)
        haystack = normalize_for_match(cited)
        aliases = [normalize_for_match(a) for a in VALUE_ALIASES.get(value, ())]
        if wanted in haystack or any(a in haystack for a in aliases):
            return None
        return "the value is not in the cited text"
    return f"values of type {type(value).__name__} cannot be checked against text"


def _check_duration(value: dict[str, Any], cited: str) -> str | None:
    durations = [f.value for f in find_durations(cited)]
    if value in durations:
        return None
    return f"{value['amount']} {value['unit']} is not in the cited text"


def verify_values(result: dict[str, Any], pages: dict[int, str]) -> dict[str, Any]:
    """Marks every value record and line item in ``result`` in place; returns
    ``{"checked", "verified", "failed": [{"value", "reason"}]}``."""
    checked = verified = 0
    failed: list[dict[str, Any]] = []

    def mark(record: dict[str, Any], reason: str | None, shown: Any) -> None:
        nonlocal checked, verified
        checked += 1
        record["verified"] = reason is None
        if reason is None:
            verified += 1
            record.pop("unverified_reason", None)
        else:
            record["unverified_reason"] = reason
            failed.append({"value": str(shown)[:120], "reason": reason})

    for record in _records(result):
        if not record["citations"]:
            if record["value"] not in (None, [], ""):
                mark(record, "the value has no citation", record["value"])
            continue
        mark(record, check_value(record["value"], _cited_text(record, pages)), record["value"])
    financial = result.get("financial") or {}
    for statement in financial.get("statements", []):
        for item in statement["items"]:
            mark(item, _check_line_item(item, pages), item["label"])
    for ratio in financial.get("ratios", []):
        mark(ratio, _check_ratio(ratio), ratio["name"])
    for check in (financial.get("reconciliation") or {}).get("checks", []):
        if "total_assets" in check["numbers"]:
            mark(check, _check_balance(check), check["check"])
    return {"checked": checked, "verified": verified, "failed": failed}


def _check_line_item(item: dict[str, Any], pages: dict[int, str]) -> str | None:
    cited = _cited_text(item, pages)
    if normalize_for_match(item["label"]) not in normalize_for_match(cited):
        return "the label is not in the cited line"
    printed = [parse_number(t) for t in cited.split()]
    numbers = [n for n in printed if n is not None]
    for value in item["values"]:
        if value is not None and not any(_same_number(value, n) for n in numbers):
            return f"{value:,} is not printed in the cited line"
    return None


def _check_ratio(ratio: dict[str, Any]) -> str | None:
    top, bottom = (ratio["inputs"][k] for k in ratio["formula"].split(" / "))
    if not bottom:
        return "division by zero"
    recomputed = round(top / bottom, 4)
    return None if math.isclose(recomputed, ratio["value"], abs_tol=1e-4) else \
        f"recomputed {recomputed} differs from {ratio['value']}"


def _check_balance(check: dict[str, Any]) -> str | None:
    numbers = check["numbers"]
    difference = round(numbers["total_assets"] - numbers["total_liabilities"]
                       - numbers["total_equity"], 6)
    if not math.isclose(difference, check["difference"], abs_tol=1e-6):
        return f"recomputed difference {difference} differs from {check['difference']}"
    return None
