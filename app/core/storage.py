"""Where uploaded files live: a small interface, and the local-disk store behind ``/media``.

Keys are paths the server makes (``<community id>/<upload id>.jpg``), never a name a user
sent, so a key can neither climb out of the store nor collide with someone else's file.
The interface is async so that an object store (S3, OSS, COS) can stand in later.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from app.core.config import get_settings

_KEY = re.compile(r"[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*")


class Storage(Protocol):
    async def save(self, key: str, data: bytes, content_type: str) -> None: ...

    async def read(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...

    def url(self, key: str) -> str:
        """Where a browser fetches the file: a path on this site, or an absolute URL."""
        ...


def check_key(key: str) -> str:
    """Refuse anything but lower-case relative segments: no ``..``, no absolute paths."""
    if len(key) > 200 or not _KEY.fullmatch(key) or any(part.startswith(".") for part in key.split("/")):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class LocalStorage:
    """Files under ``settings.media_dir``, which the app serves at ``/media``."""

    def __init__(self, root: Path, url_prefix: str = "/media") -> None:
        self.root = root
        self.url_prefix = url_prefix.rstrip("/")

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def save(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, self.path(key), data)

    async def read(self, key: str) -> bytes:
        return await asyncio.to_thread(self.path(key).read_bytes)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path(key).unlink, missing_ok=True)

    def url(self, key: str) -> str:
        return f"{self.url_prefix}/{check_key(key)}"

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        # Write beside the target and rename, so a reader never sees half a file.
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def get_storage() -> Storage:
    return LocalStorage(get_settings().media_dir)
