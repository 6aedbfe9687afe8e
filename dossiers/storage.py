"""Content-addressed document storage on the local disk.

Files are named by their SHA-256, written to a temporary name and renamed into
place, so a crash never leaves a half file under a real name and the same scan
uploaded twice is stored once. Replace with an object store adapter of the same
two methods for multi-host deployments.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class LocalDocumentStore:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def put(self, sha256: str, extension: str, content: bytes) -> str:
        key = f"{sha256[:2]}/{sha256}.{extension}"
        target = self.root / key
        if target.exists():
            return key
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()
