"""The blob store: uploaded PDFs on a local (or mounted, shared) folder, addressed by tenant and
content hash so a file is written once however often it is uploaded. Writes go to a temporary
name and are renamed into place, so a reader never sees half a file."""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from app.core.errors import EmptyFile, FileTooLarge, NotAPdf

PDF_MAGIC = b"%PDF-"
# the PDF spec lets the header start anywhere in the first 1024 bytes
MAGIC_WINDOW = 1024
COPY_BLOCK = 1024 * 1024


@dataclass(frozen=True)
class StagedBlob:
    """An upload copied to the store's staging area, checked and hashed, not yet committed."""

    path: Path
    sha256: str
    size: int


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "staging").mkdir(parents=True, exist_ok=True)

    def path_for(self, tenant_id: uuid.UUID, sha256: str) -> Path:
        return self.root / str(tenant_id) / sha256[:2] / f"{sha256}.pdf"

    def stage(self, source: BinaryIO, *, filename: str, max_bytes: int) -> StagedBlob:
        """Copies ``source`` into staging while hashing it, enforcing the size limit and checking
        that the bytes are a PDF. Raises ``EmptyFile``, ``FileTooLarge`` or ``NotAPdf``."""
        digest = hashlib.sha256()
        size = 0
        head = b""
        fd, tmp_name = tempfile.mkstemp(dir=self.root / "staging", suffix=".part")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                while block := source.read(COPY_BLOCK):
                    size += len(block)
                    if size > max_bytes:
                        limit_mib = max_bytes / (1024 * 1024)
                        raise FileTooLarge(
                            f"{filename}: file is larger than the {limit_mib:g} MiB limit")
                    if len(head) < MAGIC_WINDOW:
                        head += block[: MAGIC_WINDOW - len(head)]
                    digest.update(block)
                    out.write(block)
            if size == 0:
                raise EmptyFile(f"{filename}: file is empty (0 bytes)")
            if PDF_MAGIC not in head:
                raise NotAPdf(f"{filename}: not a PDF (no %PDF- header in the first "
                              f"{MAGIC_WINDOW} bytes)")
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return StagedBlob(path=tmp, sha256=digest.hexdigest(), size=size)

    def commit(self, staged: StagedBlob, tenant_id: uuid.UUID) -> Path:
        """Moves a staged blob to its final place (a no-op when the same content is there)."""
        final = self.path_for(tenant_id, staged.sha256)
        if final.exists():
            staged.path.unlink(missing_ok=True)
            return final
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged.path, final)
        return final

    def discard(self, staged: StagedBlob) -> None:
        staged.path.unlink(missing_ok=True)

    def delete(self, tenant_id: uuid.UUID, sha256: str) -> None:
        self.path_for(tenant_id, sha256).unlink(missing_ok=True)
