"""The per-page quality gate: turns an extractor's raw page text into LexLedger's page text
(line endings, spaces and Thai normalized, NFC) and decides the page's flags. ``needs_ocr``: no
text layer worth the name; ``garbled``: glyph garbage such as ``(cid:NN)`` or ``/NN`` runs, U+FFFD
replacement characters, private-use code points or stray control characters; ``thai_mangled``:
Thai whose marks lost their base consonant or whose SARA AM was split in two. It also scores two
readings of the same page so the better one can be kept.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from itertools import islice

from agents.ingest import thai
from agents.ingest.model import GARBLED, NEEDS_OCR, THAI_MANGLED

# glyphs with no usable Unicode: replacement and non-characters, private use, stray controls
_GARBAGE_CHAR = re.compile(
    "[\ufffd\ufffe\uffff\ue000-\uf8ff\U000f0000-\U0010ffff\x00-\x08\x0b\x0e-\x1f\x7f]"
)
# (cid:NN) is how pdfminer-style extractors write a glyph with no Unicode mapping
_CID = re.compile(r"\(cid:\d+\)")
# ... and "/12 /i255/13" how pypdf writes glyphs it cannot map (their names): three or more in a
# run, so a date's "12/31/2022" is not one
_GLYPH_NAMES = re.compile(r"(?:/i?\d+ ?){3,}")
_THAI = re.compile("[\u0e00-\u0e7f]")
_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")
_ODD_SPACES = re.compile("[\u00a0\u2007\u202f\u3000]")
_CONTROLS_OR_ODD_SPACES = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f\u00a0\u2007\u202f\u3000]")
_TRAILING_SPACE = re.compile("[ \t]+\n")
# one scan that says whether a page needs any of the slower checks below
_UNUSUAL = re.compile(
    "[\x00-\x08\x0b\x0e-\x1f\x7f\u0e00-\u0e7f\ue000-\uf8ff\ufffd-\uffff\U000f0000-\U0010ffff]"
)
_MEANINGFUL = re.compile(r"[^\W_]", re.UNICODE)

# A page with a few bullets in a private-use font is fine; a page where one character in twenty
# is garbage is not readable enough to extract facts from.
GARBAGE_MIN_COUNT = 5
GARBAGE_MIN_RATIO = 0.05
# fewer letters/digits than this on a page that carries an image: a scan with a stamp or a
# page number in its text layer
SCAN_MAX_LETTERS = 20
# visibly mangled Thai: any split SARA AM, or this many marks with no base
THAI_MIN_ORPHANS = 2


@dataclass(frozen=True)
class PageQuality:
    """What the gate measured on one page's text."""

    letters: int  # letters and digits; see ``measure`` for when the count stops early
    garbage: int
    thai_split_sara_am: int
    thai_orphan_marks: int

    @property
    def garbled(self) -> bool:
        # a short page whose glyphs are mostly garbage is garbled too, not merely short
        if self.garbage > self.letters:
            return True
        total = self.letters + self.garbage
        return self.garbage >= GARBAGE_MIN_COUNT and self.garbage >= GARBAGE_MIN_RATIO * total

    @property
    def thai_mangled(self) -> bool:
        return self.thai_split_sara_am > 0 or self.thai_orphan_marks >= THAI_MIN_ORPHANS

    @property
    def defects(self) -> int:
        """One number to compare two readings of a page: lower is better."""
        return self.garbage + self.thai_split_sara_am + self.thai_orphan_marks


def normalize_text(raw: str) -> str:
    """Line endings to ``\\n``, odd spaces to plain spaces, no trailing blanks, NFC.

    Control characters other than tab, line feed and form feed are dropped here; the gate counts
    them on the raw text first.
    """
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROLS_OR_ODD_SPACES.search(text):
        text = _ODD_SPACES.sub(" ", _CONTROLS.sub("", text))
    if " \n" in text or "\t\n" in text:
        text = _TRAILING_SPACE.sub("\n", text)
    return unicodedata.normalize("NFC", text).strip()


def measure(raw: str, *, exact: bool = False) -> PageQuality:
    """Measure an extractor's raw page text before normalization hides anything.

    Letters are counted only as far as the flags need (up to ``SCAN_MAX_LETTERS``) unless
    ``exact`` is asked for or the page holds enough garbage for the garbled ratio to matter:
    counting every letter of every page would cost a third of PDFium's own time.
    """
    glyph_names = "/" in raw and _GLYPH_NAMES.search(raw) is not None
    if "(cid:" not in raw and not glyph_names and not _UNUSUAL.search(raw):
        return PageQuality(_count_letters(raw, exact), 0, 0, 0)
    garbage = 0
    if glyph_names:
        runs = _GLYPH_NAMES.findall(raw)
        garbage += sum(run.count("/") for run in runs)
        raw = _GLYPH_NAMES.sub(" ", raw)
    if _GARBAGE_CHAR.search(raw):
        garbage += len(_GARBAGE_CHAR.findall(raw))
    if "(cid:" in raw:
        cids = len(_CID.findall(raw))
        garbage += cids
        if cids:
            # a page of (cid:12) is not "full of letters"
            raw = _CID.sub("", raw)
    letters = _count_letters(raw, exact or garbage >= GARBAGE_MIN_COUNT)
    split_sara_am = orphan_marks = 0
    if _THAI.search(raw):
        split_sara_am = thai.count_split_sara_am(raw)
        orphan_marks = thai.count_orphan_marks(unicodedata.normalize("NFC", raw))
    return PageQuality(letters, garbage, split_sara_am, orphan_marks)


def _count_letters(text: str, exact: bool) -> int:
    if exact:
        return len(_MEANINGFUL.findall(text))
    return sum(1 for _ in islice(_MEANINGFUL.finditer(text), SCAN_MAX_LETTERS))


def gate(raw: str, *, has_images: bool) -> tuple[str, tuple[str, ...], PageQuality]:
    """Normalize ``raw`` page text and return it with its flags and measurements.

    A split SARA AM is re-joined in the returned text (the repair cannot change meaning), but the
    page still carries ``thai_mangled``: the flag records what the extractor produced.
    """
    quality = measure(raw)
    text = thai.repair_split_sara_am(normalize_text(raw))
    flags: list[str] = []
    if quality.letters == 0 or (has_images and quality.letters < SCAN_MAX_LETTERS):
        flags.append(NEEDS_OCR)
    if quality.garbled:
        flags.append(GARBLED)
    if quality.thai_mangled:
        flags.append(THAI_MANGLED)
    return text, tuple(flags), quality


def has_thai(text: str) -> bool:
    """Whether ``text`` holds any Thai character."""
    return _THAI.search(text) is not None


def better_reading(first: PageQuality, second: PageQuality) -> bool:
    """True when ``second`` is a better reading of a page than ``first``.

    Each reading scores its letters minus twice its defects (a garbage glyph both hides a letter
    and is noise); a tie keeps the first reading.
    """
    return second.letters - 2 * second.defects > first.letters - 2 * first.defects
