"""A readable summary of one stored analysis result (schema: docs/result.schema.json), as
(label, text) rows for the CLI's ``process`` table: type, parties, dates, key amounts, clause
count, risk flags, reconciliation, verification and which model produced what. A pure function
of the result JSON; a value verification could not confirm is shown with "(unverified)", and a
page reference follows every value."""

from __future__ import annotations

from typing import Any

Row = tuple[str, str]
DATE_FIELDS = (("agreement", "agreement_date"), ("effective", "effective_date"),
               ("expires", "expiration_date"))
KEY_FIGURES = ("revenue", "net_income", "total_assets", "total_liabilities", "total_equity")


def _pages(record: dict[str, Any]) -> str:
    pages = sorted({c["page"] for c in record.get("citations", []) if "page" in c})
    return f" (p. {', '.join(map(str, pages))})" if pages else ""


def _mark(record: dict[str, Any]) -> str:
    return " (unverified)" if record.get("verified") is False else ""


def _say(value: Any) -> str:
    if isinstance(value, dict) and "currency" in value:
        period = f" {value['period']}" if value.get("period") else ""
        return f"{value['currency']} {value['amount']:,.2f}{period}"
    if isinstance(value, dict) and "unit" in value:
        return f"{value['amount']} {value['unit']}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _field(record: dict[str, Any] | None) -> str | None:
    if not record or record.get("value") in (None, "", []):
        return None
    return f"{_say(record['value'])}{_mark(record)}{_pages(record)}"


def summary_lines(result: dict[str, Any]) -> list[Row]:
    """The rows to print for ``result``, most important first."""
    triage = result.get("doc_type") or {}
    rows: list[Row] = [("Type", f"{triage.get('value', 'other')} ({triage.get('source', 'rules')}"
                                f"), language {result.get('language') or '?'}")]
    if result.get("legal"):
        rows += _legal_rows(result["legal"])
    if result.get("financial"):
        rows += _financial_rows(result["financial"])
    verification = result.get("verification") or {}
    citations, values = verification.get("citations"), verification.get("values")
    if citations and values:
        rows.append(("Verification", f"{citations['verified']}/{citations['checked']} "
                                     f"citations, {values['verified']}/{values['checked']} "
                                     "values verified"))
    llm = result.get("llm") or {}
    rows.append(("Model", f"{result.get('model', '?')}: {llm.get('note', '')}".rstrip(": ")))
    return rows


def _legal_rows(legal: dict[str, Any]) -> list[Row]:
    fields = legal.get("fields", {})
    rows: list[Row] = []
    if title := _field(fields.get("title")):
        rows.append(("Title", title))
    parties = [f"{p['value']['role']}: {p['value']['name']}{_mark(p)}{_pages(p)}"
               for p in fields.get("parties", [])]
    rows.append(("Parties", "; ".join(parties) or "none found"))
    dates = [f"{label} {text}" for label, name in DATE_FIELDS
             if (text := _field(fields.get(name)))]
    rows.append(("Dates", "; ".join(dates) or "none found"))
    for label, name in (("Term", "term"), ("Premises", "premises"),
                        ("Governing law", "governing_law")):
        if text := _field(fields.get(name)):
            rows.append((label, text))
    amounts = [f"{label} {text}" for label, name in (("rent", "rent"),
                                                      ("contract value", "contract_value"))
               if (text := _field(fields.get(name)))]
    amounts += [f"{a['kind'].replace('_', ' ')} {_field(a)}" for a in fields.get("amounts", [])
                if a.get("kind") not in ("rent", "contract_value", "other")][:4]
    if amounts:
        rows.append(("Key amounts", "; ".join(amounts)))
    clauses = legal.get("clauses", [])
    present = [c for c in clauses if c["present"]]
    rows.append(("Clauses", f"{len(present)} of {len(clauses)} CUAD categories present"))
    flags = legal.get("risk_flags", [])
    rows.append(("Risk flags", "; ".join(f"{f['severity']}: {f['reason']}" for f in flags)
                 or "none"))
    return rows


def _financial_rows(financial: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    if company := _field(financial.get("company")):
        rows.append(("Company", company))
    statements = [f"{s['kind'].replace('_', ' ')} (p. {s['page']}, {len(s['items'])} items"
                  f"{', ' + s['unit'] if s.get('unit') else ''})"
                  for s in financial.get("statements", [])]
    rows.append(("Statements", "; ".join(statements) or "none found"))
    figures = financial.get("key_figures", {})
    shown = [f"{key.replace('_', ' ')} {_field(figures[key])}" for key in KEY_FIGURES
             if key in figures and _field(figures[key])]
    if shown:
        rows.append(("Key amounts", "; ".join(shown)))
    ratios = [f"{r['name'].replace('_', ' ')} {r['value']:.2f}" for r in
              financial.get("ratios", [])]
    if ratios:
        rows.append(("Ratios", "; ".join(ratios)))
    reconciliation = financial.get("reconciliation") or {}
    if reconciliation:
        failed = [c for c in reconciliation.get("checks", []) if c.get("ok") is False]
        text = (f"{reconciliation['passed']} passed, {reconciliation['failed']} failed, "
                f"{reconciliation['unchecked']} not checkable")
        if failed:
            text += "; off: " + "; ".join(_failed_check(c) for c in failed[:3])
        rows.append(("Reconciliation", text))
    return rows


def _failed_check(check: dict[str, Any]) -> str:
    # a subtotal whose lines never add up to it has no single difference to show
    if check.get("difference") is None:
        return f"{check['check']} (no combination of the lines above matches)"
    return f"{check['check']} by {check['difference']:,}"
