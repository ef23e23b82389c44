"""Whether OCR can run on this machine: Tesseract's binding importable and its English and Thai
models installed. The API's readiness check asks this without loading the engine; the ingest
pipeline asks it to decide whether pages without a text layer are read by OCR."""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path

# Where Debian's tesseract-ocr-* packages (and other distributions') put the trained models
TESSDATA_CANDIDATES = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
)
REQUIRED_LANGUAGES = ("eng", "tha")


def find_tessdata(configured: Path | None = None) -> Path | None:
    """The folder holding Tesseract's English and Thai models, or None when there is none."""
    candidates = [str(configured)] if configured else [
        os.environ.get("TESSDATA_PREFIX", ""), *TESSDATA_CANDIDATES]
    for folder in candidates:
        if folder and all((Path(folder) / f"{lang}.traineddata").is_file()
                          for lang in REQUIRED_LANGUAGES):
            return Path(folder)
    return None


@lru_cache(maxsize=8)
def availability(configured: Path | None = None) -> tuple[Path | None, str | None]:
    """The models' folder when OCR can run, else None and the reason."""
    if importlib.util.find_spec("tesserocr") is None:
        return None, "the tesserocr package is not installed"
    folder = find_tessdata(configured)
    if folder is None:
        where = configured or "the system's tessdata folders"
        return None, (f"Tesseract's eng and tha models are not in {where} "
                      "(Debian: apt-get install tesseract-ocr-eng tesseract-ocr-tha)")
    return folder, None
