"""Text to search terms, for English, Thai, Chinese and Japanese. Latin words are case-folded,
lightly stemmed and stripped of stop words; numbers lose their thousands separators (Thai digits
become Arabic) so "48,500" matches "48500". Thai has no spaces between words: a Thai run is
segmented with pythainlp's dictionary segmenter *and* cut into character bigrams, so a query whose
segmentation differs from the document's (or holds a word the dictionary lacks) still shares terms
with it: a Thai query never finds nothing because of tokenization. Chinese and Japanese runs are
cut into character bigrams. Also the language of a question, by script.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache

MAX_TERM_CHARS = 64
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_RUN = re.compile(
    r"(?P<num>\d[\d,]*(?:\.\d+)?)"
    r"|(?P<latin>[a-z][a-z']*)"
    r"|(?P<thai>[\u0e01-\u0e4e]+)"
    r"|(?P<cjk>[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)"
)
_THAI_LETTERS = re.compile(r"[\u0e01-\u0e4e]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")

ENGLISH_STOP_WORDS = frozenset("""
a about above after again all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has
have having he her here hers him his how i if in into is it its itself just me more most my no
nor not of off on once only or other our ours out over own same she should so some such than
that the their theirs them then there these they this those through to too under until up very
was we were what when where which while who whom why will with would you your yours shall may
must per please tell show give find say said does much many
""".split())


def normalize(text: str) -> str:
    """NFKC, case-folded, with Thai and full-width digits written as Arabic digits. NFKC splits
    Thai SARA AM into NIKHAHIT + SARA AA; it is joined again, or Thai words fall apart."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("\u0e4d\u0e32", "\u0e33")
    return text.translate(_THAI_DIGITS).translate(_FULLWIDTH_DIGITS)


def stem(word: str) -> str:
    """A light English suffix stripper: enough to match "terminates" with "termination"'s
    neighbours "terminate"/"terminated" and plurals with singulars; never shorter than 3."""
    word = word.replace("'", "")
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith("ss"):
                return word
            return word[: len(word) - len(suffix)] + keep
    return word


@lru_cache(maxsize=1)
def _thai_tools() -> tuple[object, frozenset[str]]:
    from pythainlp.corpus import thai_stopwords
    from pythainlp.tokenize import word_tokenize

    return word_tokenize, frozenset(thai_stopwords())


def thai_words(run: str) -> list[str]:
    """The dictionary words of a Thai run (pythainlp ``newmm``), stop words dropped."""
    word_tokenize, stop = _thai_tools()
    words = word_tokenize(run, engine="newmm", keep_whitespace=False)  # type: ignore[operator]
    return [w for w in words if len(w) > 1 and w not in stop]


def _bigrams(run: str) -> list[str]:
    if len(run) < 2:
        return [run]
    return [run[i:i + 2] for i in range(len(run) - 1)]


def tokenize(text: str, *, bigrams: bool = True) -> list[str]:
    """Search terms of ``text`` in order (with repeats): used both to index and to query.
    ``bigrams=False`` keeps only whole words (Thai dictionary words; CJK still as bigrams),
    for judging how much of a question a passage covers."""
    terms: list[str] = []
    for match in _RUN.finditer(normalize(text)):
        kind = match.lastgroup
        run = match.group()
        if kind == "num":
            number = run.replace(",", "").rstrip(".")
            if number.endswith(".00"):
                number = number[:-3]
            terms.append(number)
        elif kind == "latin":
            if run.replace("'", "") not in ENGLISH_STOP_WORDS and len(run) > 1:
                terms.append(stem(run))
        elif kind == "thai":
            terms.extend(thai_words(run))
            if bigrams:
                terms.extend(_bigrams(run))
        else:
            terms.extend(_bigrams(run))
    return [t[:MAX_TERM_CHARS] for t in terms if t]


def term_counts(text: str) -> Counter[str]:
    """How often each search term occurs in ``text``."""
    return Counter(tokenize(text))


def detect_language(text: str) -> str:
    """``th``, ``ja``, ``zh`` or ``en``, by which script most of the letters are written in."""
    thai = len(_THAI_LETTERS.findall(text))
    kana = len(_KANA.findall(text))
    han = len(_HAN.findall(text))
    latin = len(_LATIN.findall(text))
    if thai and thai >= max(latin, han) * 0.5:
        return "th"
    if kana:
        return "ja"
    if han and han >= latin * 0.5:
        return "zh"
    return "en"
