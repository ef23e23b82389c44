"""Benchmark of OCR in the ingest pipeline: character error rate against the known text, English
and Thai separately, and pages per second per core, at several render resolutions, side by side
in one run. The pages are LexLedger's own samples made into scans: the English ones rendered by
PDFium, the Thai ones typeset with a shaping engine (tests/pdf_factory.py says why), at
``--scan-dpi`` as a scanner would write them; the pipeline then reads them at each ``--dpi``.

CER is the edit distance between the known text and OCR's, both without whitespace (line breaks
and spacing are layout, not characters), over the known text's length. Pages per second per core
is pages over the parsing child's CPU time for OCR (render + recognition; Tesseract runs on one
thread). Run: ``python bench/ocr.py [--dpi 150 --dpi 200 --dpi 300] [--scan-dpi 300]``."""

from __future__ import annotations

import dataclasses
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Annotated

import numpy as np
import pypdfium2 as pdfium
import typer
from rich.console import Console
from rich.table import Table

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from agents.ingest import EXTRACTOR_OCR, extract_pages  # noqa: E402
from agents.ingest.ocr import options_from  # noqa: E402
from agents.ingest.resident import shutdown_resident  # noqa: E402
from agents.ingest.thai import repair_split_sara_am  # noqa: E402
from app.core.settings import LimitSettings, OcrSettings  # noqa: E402
from app.samples import generate_samples  # noqa: E402
from tests import pdf_factory  # noqa: E402

console = Console(width=140)
LIMITS = LimitSettings(parse_timeout_s=600)


def edit_distance(reference: str, hypothesis: str) -> int:
    """Levenshtein distance, one row at a time in numpy (insertions by a running minimum)."""
    columns = np.arange(len(hypothesis) + 1)
    codes = np.array([ord(c) for c in hypothesis], dtype=np.int64)
    previous = columns.copy()
    for row, char in enumerate(reference, 1):
        best = np.empty_like(previous)
        best[0] = row
        best[1:] = np.minimum(previous[1:] + 1, previous[:-1] + (codes != ord(char)))
        previous = np.minimum.accumulate(best - columns) + columns
    return int(previous[-1])


def letters(text: str) -> str:
    return "".join(repair_split_sara_am(unicodedata.normalize("NFC", text)).split())


def known_pages(samples: dict[str, Path], names: list[str]) -> list[tuple[Path, int, str]]:
    pages = []
    for name in names:
        document = pdfium.PdfDocument(str(samples[name]))
        for index in range(len(document)):
            pages.append((samples[name], index, document[index].get_textpage().get_text_bounded()))
        document.close()
    return pages


def main(
    dpi: Annotated[list[int] | None, typer.Option(help="OCR render resolutions")] = None,
    scan_dpi: Annotated[int, typer.Option(help="the scans' own resolution")] = 300,
) -> None:
    resolutions = dpi or [150, 200, 300]
    work = Path(tempfile.mkdtemp(prefix="lexledger-ocr-bench-"))
    samples = {p.name: p for p in generate_samples(work / "samples")}
    english = known_pages(samples, ["services-agreement.pdf", "financial-statement.pdf"])
    thai = known_pages(samples, ["thai-lease.pdf", "thai-financial-statement.pdf"])
    scans = {
        "English": (pdf_factory.write_image_pages(work / "english.pdf", [
            _render(path, index, scan_dpi) for path, index, _ in english], dpi=scan_dpi),
            [text for *_, text in english]),
        "Thai": (pdf_factory.write_typeset_scan(work / "thai.pdf", [
            text.splitlines() for *_, text in thai], dpi=scan_dpi), [text for *_, text in thai]),
        # footnote-sized print: the agreement's first page set at 7.5 pt
        "English 7.5 pt": (pdf_factory.write_typeset_scan(work / "small.pdf", [
            english[0][2].splitlines()], dpi=scan_dpi, size_pt=7.5), [english[0][2]]),
    }
    base = options_from(OcrSettings())
    if base is None:
        raise SystemExit("OCR is unavailable here: install tesseract-ocr-eng and -tha")
    table = Table(title=f"OCR of {scan_dpi} DPI scans of the samples ({len(english)} English "
                        f"pages, {len(thai)} Thai pages, 1 page of small print)")
    for column in ("render DPI", "language", "pages", "CER", "worst page CER", "mean confidence",
                   "pages/s per core", "wall pages/s"):
        table.add_column(column, justify="right")
    for resolution in resolutions:
        options = dataclasses.replace(base, dpi=resolution)
        for language, (path, truths) in scans.items():
            began = time.perf_counter()
            pages = list(extract_pages(path, limits=LIMITS, ocr=options))
            wall = time.perf_counter() - began
            assert all(p.extractor == EXTRACTOR_OCR for p in pages), [p.flags for p in pages]
            errors = [edit_distance(letters(t), letters(p.text))
                      for t, p in zip(truths, pages, strict=True)]
            sizes = [len(letters(t)) for t in truths]
            cpu = sum(p.ocr.seconds for p in pages if p.ocr)
            confidence = np.mean([p.ocr.confidence or 0 for p in pages if p.ocr])
            table.add_row(str(pages[0].ocr.dpi if pages[0].ocr else resolution), language,
                          str(len(pages)), f"{sum(errors) / sum(sizes):.2%}",
                          f"{max(e / s for e, s in zip(errors, sizes, strict=True)):.2%}",
                          f"{confidence:.1f}", f"{len(pages) / cpu:.2f}",
                          f"{len(pages) / wall:.2f}")
    shutdown_resident()
    console.print(table)


def _render(path: Path, index: int, dpi: int):  # type: ignore[no-untyped-def]
    document = pdfium.PdfDocument(str(path))
    page = document[index]
    image = page.render(scale=dpi / 72, grayscale=True).to_pil()
    document.close()
    return image


if __name__ == "__main__":
    typer.run(main)
