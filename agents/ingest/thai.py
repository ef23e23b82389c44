"""Thai script rules the ingest core needs: which code points are combining marks, how a PDF
extractor visibly mangles Thai (a mark with no base consonant, SARA AM split into NIKHAHIT + SARA
AA), the one repair that is always safe (re-joining a split SARA AM), and where a Thai string may be
cut without tearing a character cluster apart. Thai has no spaces between words, so chunking leans
on these boundaries.
"""

from __future__ import annotations

import re
import unicodedata

CONSONANTS = frozenset(chr(c) for c in range(0x0E01, 0x0E2F))
# above/below vowels, tone marks and signs that sit on a base consonant
COMBINING_MARKS = frozenset(
    "\u0e31" + "".join(chr(c) for c in range(0x0E34, 0x0E3B)) + "".join(
        chr(c) for c in range(0x0E47, 0x0E4F)
    )
)
# vowels written after the consonant they belong to: a cut just before one splits a syllable
FOLLOWING_VOWELS = frozenset("\u0e30\u0e32\u0e33\u0e45")
# vowels written before their consonant: a cut just after one splits a syllable
LEADING_VOWELS = frozenset("\u0e40\u0e41\u0e42\u0e43\u0e44")

_MARKS_CLASS = "\u0e31\u0e34-\u0e3a\u0e47-\u0e4e"
_ANY_MARK = re.compile(f"[{_MARKS_CLASS}]")
# a mark must follow a consonant (RU and LU included) or another mark of its cluster
_ORPHAN_MARK = re.compile(f"(?<![\u0e01-\u0e2e{_MARKS_CLASS}])[{_MARKS_CLASS}]")
_SPLIT_SARA_AM = re.compile("\u0e4d([\u0e48-\u0e4b]?)\u0e32")
_THAI_LETTER = re.compile("[\u0e01-\u0e5b]")


def is_thai(ch: str) -> bool:
    """True for any character of the Thai block."""
    return "\u0e00" <= ch <= "\u0e7f"


def count_thai(text: str) -> int:
    """How many Thai characters ``text`` holds."""
    return len(_THAI_LETTER.findall(text))


def count_split_sara_am(text: str) -> int:
    """How many SARA AM the extractor wrote as NIKHAHIT + SARA AA (``น้ำ`` read as ``น ้ ํ า``)."""
    return len(_SPLIT_SARA_AM.findall(text))


def repair_split_sara_am(text: str) -> str:
    """Re-join NIKHAHIT + SARA AA into SARA AM, keeping a tone mark before it (logical order)."""
    if "\u0e4d" not in text:
        return text
    return _SPLIT_SARA_AM.sub("\\1\u0e33", text)


def count_orphan_marks(text: str) -> int:
    """How many Thai combining marks have no base consonant under them.

    A mark may stack on a consonant or on another mark of the same cluster (a tone mark on an
    upper vowel); a mark after a space, a line break, a Latin letter or a leading vowel is an
    orphan: the extractor dropped or reordered its base.
    """
    if not _ANY_MARK.search(text):
        return 0
    return len(_ORPHAN_MARK.findall(text))


def is_cluster_boundary(text: str, index: int) -> bool:
    """True when cutting ``text`` at ``index`` leaves every Thai cluster whole.

    A cut is refused before a combining mark or a following vowel (they belong to the consonant
    on the left) and after a leading vowel (it belongs to the consonant on the right).
    """
    if index <= 0 or index >= len(text):
        return True
    after = text[index]
    before = text[index - 1]
    if after in COMBINING_MARKS or after in FOLLOWING_VOWELS:
        return False
    if unicodedata.category(after) in ("Mn", "Mc", "Me"):
        return False
    if before in LEADING_VOWELS:
        return False
    return True
