"""Where uploaded files live: a small interface, and the local-disk store behind ``/media``.

Keys are paths the server makes (``<community id>/<upload id>.jpg``), never a name a user
sent, so a key can neither climb out of the store nor collide with someone else's file.
The interface is async so that an object store (S3, OSS, COS) can stand in later; such a
store would hand out its own pre-signed URLs from ``private_url``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
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
        """Where anyone fetches the file (if it is public): a path on this site, or an absolute URL."""
        ...

    def private_url(self, key: str, expires: int) -> str:
        """Where whoever holds this URL fetches the file until ``expires`` (Unix seconds)."""
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

    def private_url(self, key: str, expires: int) -> str:
        return f"{self.url(key)}?exp={expires}&sig={signature(key, expires)}"

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


# --- signed URLs ---------------------------------------------------------------------------------

def _signing_key() -> bytes:
    """A key of its own, derived from the secret key: a media signature is good for nothing else."""
    return hashlib.sha256(b"wugong media url\0" + get_settings().secret_key.encode()).digest()


def signature(key: str, expires: int) -> str:
    """HMAC-SHA256 of the key and the expiry, 128 bits of it in URL-safe base64."""
    mac = hmac.new(_signing_key(), f"{key}\n{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:16]).decode().rstrip("=")


def signed(key: str, expires: str, sig: str, now: float) -> bool:
    """Whether ``sig`` is ours for this key and expiry, and the expiry has not passed."""
    if not expires.isdigit() or len(expires) > 12 or int(expires) <= now or not sig.isascii():
        return False
    return hmac.compare_digest(signature(key, int(expires)), sig)


def get_storage() -> Storage:
    return LocalStorage(get_settings().media_dir)
