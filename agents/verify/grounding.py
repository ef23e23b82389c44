"""Grounding checks for what the model says: a quote must appear in the passage it claims to
come from, and a summary sentence must cite existing pages and share its figures and names with
them. The agents pass these checks to ``agents.llm.ask``; an answer that fails one is sent back
once and then replaced by the deterministic result."""

from __future__ import annotations

import re
from collections.abc import Callable

from pydantic import BaseModel, Field

from agents.verify.citations import normalize_for_match
from agents.verify.values import to_ascii_digits

_TOKEN = re.compile(r"[0-9][0-9,.]*[0-9]|[0-9]|[^\W\d_]{4,}")


class SummarySentence(BaseModel):
    text: str = Field(description="one sentence of the summary", max_length=240)
    pages: list[int] = Field(description="the pages this sentence's facts come from",
                             max_length=3)


class Summary(BaseModel):
    sentences: list[SummarySentence] = Field(description="two to five sentences", max_length=5)


def quote_in(quote: str, passage: str, min_chars: int = 3) -> bool:
    """Whether ``quote`` (at least ``min_chars`` characters) appears in ``passage``, compared
    after normalising whitespace, Unicode and case."""
    wanted = normalize_for_match(quote)
    return len(wanted) >= min_chars and wanted in normalize_for_match(passage)


def quote_states(quote: str, passage: str, stated: str) -> bool:
    """Whether ``quote`` is from ``passage`` and covers the words ``stated`` (the span a value
    was read from), or is at least eight characters of those words: a quote that merely occurs
    somewhere nearby does not ground a choice."""
    wanted, span = normalize_for_match(quote), normalize_for_match(stated)
    if not quote_in(quote, passage):
        return False
    return span in wanted or (len(wanted) >= 8 and wanted in span)


def _tokens(text: str) -> set[str]:
    return {t.replace(",", "") for t in _TOKEN.findall(to_ascii_digits(text.casefold()))}


def _numbers(text: str) -> set[str]:
    found = set()
    for token in re.findall(r"[0-9][0-9,]*(?:\.[0-9]+)?", to_ascii_digits(text)):
        plain = token.replace(",", "").rstrip(".")
        found.add(plain[:-2] if plain.endswith(".0") else plain)
    return found


def summary_check(pages: dict[int, str], facts: str = "") -> Callable[[Summary], str | None]:
    """A check that rejects a summary with no sentences, sentences citing pages that do not
    exist, sentences with a figure that is neither on the cited pages nor among the computed
    ``facts`` given to the model, or sentences sharing too little (figures, words of four
    letters or more, Thai or CJK runs) with the pages they cite."""
    known_numbers = _numbers(facts)

    def check(summary: Summary) -> str | None:
        if not summary.sentences:
            return "the summary has no sentences"
        for sentence in summary.sentences:
            missing = [p for p in sentence.pages if p not in pages]
            if not sentence.pages or missing:
                return f"sentence cites no page or pages that do not exist: {sentence.pages}"
            cited = to_ascii_digits(normalize_for_match(" ".join(pages[p] for p in
                                                                 sentence.pages)))
            cited_numbers = cited.replace(",", "")
            invented = _numbers(sentence.text) - _numbers(cited) - known_numbers
            if invented:
                return f"figures {sorted(invented)} are not on pages {sentence.pages}"
            words = _tokens(sentence.text)
            supported = [w for w in words if w in cited or w in cited_numbers]
            if not words or len(supported) < max(1, len(words) // 3):
                return f"sentence is not supported by pages {sentence.pages}: " \
                       f"{sentence.text[:120]!r}"
        return None
    return check
