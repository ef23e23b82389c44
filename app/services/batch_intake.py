"""What a batch upload contains: PDFs sent one by one, or one zip of PDFs read safely. A zip is
refused whole, with a message naming the reason, when it has too many entries, would inflate past
the size limit (checked on the declared sizes first and again on the bytes actually inflated,
since headers can lie), holds encrypted entries, or names a path that leaves the archive
(``../``, absolute paths, drive letters, backslashes). Folders, hidden files and files that are
not PDFs are skipped and reported by name."""

from __future__ import annotations

import unicodedata
import zipfile
from typing import BinaryIO

from app.core.errors import InvalidInput
from app.core.settings import BatchSettings

ZIP_MAGIC = b"PK\x03\x04"


class ZipRefused(InvalidInput):
    code = "zip_refused"


def open_upload(files: list[tuple[str | None, BinaryIO]],
                caps: BatchSettings) -> tuple[list[tuple[str, BinaryIO]], list[str]]:
    """The (name, stream) of every PDF in the upload and the names of entries skipped. One zip
    is read entry by entry; anything else is passed on for the usual per-file checks."""
    if len(files) == 1 and _is_zip(files[0][1], files[0][0]):
        return read_zip(files[0][1], caps)
    return [(name or "", stream) for name, stream in files], []


def _is_zip(stream: BinaryIO, name: str | None) -> bool:
    head = stream.read(4)
    stream.seek(0)
    return head == ZIP_MAGIC or (name or "").lower().endswith(".zip")


def read_zip(stream: BinaryIO, caps: BatchSettings) -> tuple[list[tuple[str, BinaryIO]],
                                                             list[str]]:
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ZipRefused(f"the upload is not a readable zip file: {exc}") from exc
    infos = archive.infolist()
    if len(infos) > caps.max_zip_entries:
        raise ZipRefused(f"zip has {len(infos)} entries; the limit is {caps.max_zip_entries}")
    declared = sum(info.file_size for info in infos)
    if declared > caps.max_zip_inflated_bytes:
        raise ZipRefused(f"zip would inflate to {declared} bytes, over the "
                         f"{caps.max_zip_inflated_bytes} byte limit (refused as a zip bomb)")
    budget = _InflateBudget(caps.max_zip_inflated_bytes)
    entries: list[tuple[str, BinaryIO]] = []
    skipped: list[str] = []
    for info in infos:
        check_entry_name(info.filename)
        if info.flag_bits & 0x1:
            raise ZipRefused(f"zip entry {info.filename!r} is encrypted; send it unencrypted")
        base = info.filename.rstrip("/").rsplit("/", 1)[-1]
        if info.is_dir():
            continue
        if base.startswith(".") or info.filename.startswith("__MACOSX/") \
                or not base.lower().endswith(".pdf"):
            skipped.append(info.filename)
            continue
        entries.append((base, _MemberStream(archive, info, budget)))  # type: ignore[arg-type]
    return entries, skipped


def check_entry_name(name: str) -> None:
    """Refuses entry names that would leave the folder they are extracted to."""
    parts = name.split("/")
    reason = None
    if "\\" in name:
        reason = "contains a backslash"
    elif name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        reason = "is an absolute path"
    elif ".." in parts:
        reason = "climbs out of the archive with '..'"
    elif any(unicodedata.category(ch) == "Cc" for ch in name):
        reason = "contains control characters"
    if reason:
        raise ZipRefused(f"zip entry {name!r} {reason}; no file of this zip was stored")


class _InflateBudget:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def spend(self, size: int) -> None:
        self.used += size
        if self.used > self.limit:
            raise ZipRefused(f"zip inflates to more than {self.limit} bytes (refused as a zip "
                             "bomb); no file of this zip was stored")


class _MemberStream:
    """Reads one zip entry lazily, charging every inflated byte to the zip's budget."""

    def __init__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo,
                 budget: _InflateBudget) -> None:
        self._archive, self._info, self._budget = archive, info, budget
        self._handle: BinaryIO | None = None

    def read(self, size: int = -1) -> bytes:
        if self._handle is None:
            self._handle = self._archive.open(self._info)  # type: ignore[assignment]
        try:
            block = self._handle.read(size)  # type: ignore[union-attr]
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ZipRefused(f"zip entry {self._info.filename!r} is corrupt: {exc}") from exc
        self._budget.spend(len(block))
        return block
