"""Splits one page's text into overlapping chunks for retrieval, with exact character offsets
into that page's text. A chunk ends at the best boundary in the second half of its window: a
paragraph break, then a sentence end, a line break, a space, a Thai word boundary (Thai has no
spaces between words; pythainlp finds them) and, as the last resort, a Thai character-cluster
boundary, so no chunk ever starts or ends inside a combining sequence.
"""

from __future__ import annotations

import re
from functools import lru_cache

from agents.ingest import thai
from agents.ingest.model import PageText, TextChunk

_SENTENCE_END = re.compile(r"[.!?;:。！？…](?=\s)")
_SPACE = re.compile(r"\s")


def chunk_page(page: PageText, *, size: int, overlap: int) -> list[TextChunk]:
    """Cut ``page.text`` into chunks of at most ``size`` characters, ``overlap`` shared.

    Chunks hold no leading or trailing whitespace and satisfy
    ``page.text[c.char_start:c.char_end] == c.text``. An empty page has no chunks.
    """
    if size <= 0 or not 0 <= overlap < size:
        raise ValueError(f"chunk size {size} with overlap {overlap}: need 0 <= overlap < size")
    text = page.text
    chunks: list[TextChunk] = []
    start = _skip_space(text, 0, len(text))
    while start < len(text):
        if len(text) - start <= size:
            end = len(text)
        else:
            end = _best_break(text, start + max(1, size // 2), start + size)
        stop = _trim_end(text, start, end)
        if stop > start:
            chunks.append(TextChunk(page.number, start, stop, text[start:stop]))
        if end >= len(text):
            break
        start = _next_start(text, start, end, overlap)
    return chunks


def _skip_space(text: str, index: int, limit: int) -> int:
    while index < limit and text[index].isspace():
        index += 1
    return index


def _trim_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def _best_break(text: str, low: int, high: int) -> int:
    """The index in ``(low, high]`` to end a chunk at; always a cluster boundary."""
    window = text[low:high]
    paragraph = window.rfind("\n\n")
    if paragraph >= 0:
        return low + paragraph + 2
    sentence_ends = [m.end() for m in _SENTENCE_END.finditer(window)]
    if sentence_ends:
        return low + sentence_ends[-1]
    line = window.rfind("\n")
    if line >= 0:
        return low + line + 1
    spaces = [m.end() for m in _SPACE.finditer(window)]
    if spaces:
        return low + spaces[-1]
    word = _last_thai_word_boundary(text, low, high)
    if word is not None:
        return word
    for index in range(high, low, -1):
        if thai.is_cluster_boundary(text, index):
            return index
    return high


def _next_start(text: str, start: int, end: int, overlap: int) -> int:
    """Where the next chunk begins: ``overlap`` characters before ``end``, moved forward to the
    start of a word (or a Thai cluster) so the overlap never begins mid-word."""
    candidate = max(start + 1, end - overlap)
    if candidate >= end:
        return _skip_space(text, end, len(text))
    if not text[candidate - 1].isspace():
        space = _SPACE.search(text, candidate, end)
        if space is not None:
            candidate = space.end()
        else:
            word = _first_thai_word_boundary(text, candidate, end)
            candidate = word if word is not None else candidate
            while candidate < end and not thai.is_cluster_boundary(text, candidate):
                candidate += 1
    return _skip_space(text, candidate, len(text))


def _thai_run(text: str, low: int, high: int) -> tuple[int, int] | None:
    """The extent of the Thai letters around ``[low, high)``, or None when there are none."""
    if not any(thai.is_thai(ch) for ch in text[low:high]):
        return None
    begin, finish = low, high
    while begin > 0 and thai.is_thai(text[begin - 1]) and low - begin < 200:
        begin -= 1
    while finish < len(text) and thai.is_thai(text[finish]) and finish - high < 200:
        finish += 1
    return begin, finish


def _word_boundaries(text: str, begin: int, finish: int) -> list[int]:
    offsets = []
    position = begin
    for word in _thai_words(text[begin:finish]):
        position += len(word)
        offsets.append(position)
    return offsets


def _last_thai_word_boundary(text: str, low: int, high: int) -> int | None:
    run = _thai_run(text, low, high)
    if run is None:
        return None
    inside = [b for b in _word_boundaries(text, *run) if low < b <= high]
    for boundary in reversed(inside):
        if thai.is_cluster_boundary(text, boundary):
            return boundary
    return None


def _first_thai_word_boundary(text: str, low: int, high: int) -> int | None:
    run = _thai_run(text, low, high)
    if run is None:
        return None
    for boundary in _word_boundaries(text, *run):
        if low <= boundary < high and thai.is_cluster_boundary(text, boundary):
            return boundary
    return None


@lru_cache(maxsize=256)
def _thai_words(fragment: str) -> tuple[str, ...]:
    # imported here: pythainlp loads its dictionary on first use (~0.5 s), and most pages have
    # spaces to cut at and never need it
    from pythainlp.tokenize import word_tokenize

    return tuple(word_tokenize(fragment, engine="newmm", keep_whitespace=True))
