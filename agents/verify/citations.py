"""Checks citations against page text. A citation is any dict in a result with ``page``,
``start``, ``end`` and ``text``: it is verified when the cited span of that page says the cited
text (compared after normalising whitespace, Unicode NFC and case). A citation that fails is kept
and marked ``verified: false`` with the reason; nothing unverified is presented as verified."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

_SPACE = re.compile(r"\s+")


def normalize_for_match(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\u00a0", " ")
    return _SPACE.sub(" ", text).strip().casefold()


def _citations(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if {"page", "start", "end", "text"} <= node.keys():
            yield node
        for value in node.values():
            yield from _citations(value)
    elif isinstance(node, list):
        for item in node:
            yield from _citations(item)


def verify_citations(result: dict[str, Any], pages: dict[int, str]) -> dict[str, Any]:
    """Marks every citation in ``result`` in place and returns a summary
    ``{"checked", "verified", "failed": [{"page", "text", "reason"}]}``."""
    checked = verified = 0
    failed: list[dict[str, Any]] = []
    for citation in _citations(result):
        checked += 1
        reason = _check(citation, pages)
        citation["verified"] = reason is None
        if reason is None:
            verified += 1
        else:
            citation["unverified_reason"] = reason
            failed.append({"page": citation["page"], "text": citation["text"][:200],
                           "reason": reason})
    return {"checked": checked, "verified": verified, "failed": failed}


def _check(citation: dict[str, Any], pages: dict[int, str]) -> str | None:
    page = pages.get(citation["page"])
    if page is None:
        return f"page {citation['page']} does not exist"
    start, end = citation["start"], citation["end"]
    if not (0 <= start <= end <= len(page)):
        return f"span {start}-{end} is outside page {citation['page']}"
    wanted = normalize_for_match(str(citation["text"]))
    if not wanted:
        return "empty citation text"
    if normalize_for_match(page[start:end]) == wanted:
        return None
    if wanted in normalize_for_match(page):
        return "text is on the page but not at the cited span"
    return "text not found on the cited page"
