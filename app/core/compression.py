"""Compressed answers: brotli when the client takes it, else gzip (ASGI middleware).

Residents open Wugong on cheap phones over metered mobile data; text (HTML, JSON, JS, CSS, SVG,
the catalogues) shrinks to a third or less. Only text is compressed, never an event stream
(live poll results must reach the phone the moment they are sent, unbuffered), a picture (already
compressed), an answer that already has a Content-Encoding (static files come precompressed,
app/web/assets.py) or one too small to gain. Streamed answers are compressed chunk by chunk, each
flushed at once. Answers that could be compressed always carry ``Vary: Accept-Encoding``.
"""

from __future__ import annotations

import zlib
from typing import Any

import brotli
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Below this a compressed body saves less than a packet, and costs the CPU anyway.
MIN_SIZE = 512
# Answers made per request: fast settings (brotli 5 is as fast as gzip 6 and ~10% smaller).
# Static files are compressed once, at the strongest settings (compress(..., static=True)).
DYNAMIC = {"br": 5, "gzip": 6}
STATIC = {"br": 11, "gzip": 9}
TEXT_TYPES = {"application/json", "application/javascript", "application/xml", "image/svg+xml"}


def compressible(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    if media == "text/event-stream":
        return False
    return media.startswith("text/") or media in TEXT_TYPES or media.endswith(("+json", "+xml"))


def choose(accept_encoding: str) -> str | None:
    """br if the client takes it, else gzip, else None (an explicit q=0 refuses a coding)."""
    taken: dict[str, float] = {}
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if coding:
            taken[coding.strip()] = q
    for coding in ("br", "gzip"):
        if taken.get(coding, taken.get("*", 0.0)) > 0:
            return coding
    return None


def compress(data: bytes, encoding: str, *, static: bool = False) -> bytes:
    level = (STATIC if static else DYNAMIC)[encoding]
    if encoding == "br":
        return bytes(brotli.compress(data, quality=level))
    compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


class _Stream:
    """One streamed answer's compressor: every chunk comes out whole, at once."""

    def __init__(self, encoding: str) -> None:
        self.br: Any = brotli.Compressor(quality=DYNAMIC["br"]) if encoding == "br" else None
        self.gzip = None if self.br else zlib.compressobj(DYNAMIC["gzip"], zlib.DEFLATED, 16 + zlib.MAX_WBITS)

    def chunk(self, data: bytes, last: bool) -> bytes:
        if self.br is not None:
            return bytes(self.br.process(data) + (self.br.finish() if last else self.br.flush()))
        assert self.gzip is not None
        return self.gzip.compress(data) + self.gzip.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


class CompressMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "HEAD":
            await self.app(scope, receive, send)
            return
        encoding = choose(Headers(scope=scope).get("accept-encoding", ""))
        start: Message | None = None  # held until the first body shows whether to compress
        stream: _Stream | None = None
        passing = False

        async def send_compressed(message: Message) -> None:
            nonlocal start, stream, passing
            kind = message["type"]
            if kind == "http.response.start":
                headers = MutableHeaders(raw=message["headers"])
                text = compressible(headers.get("content-type", "")) and "content-encoding" not in headers
                if text:
                    headers.add_vary_header("Accept-Encoding")
                if (not text or encoding is None or message["status"] in (204, 206, 304)
                        or "no-transform" in headers.get("cache-control", "")):
                    passing = True
                    await send(message)
                else:
                    start = message
                return
            if passing:
                await send(message)
                return
            if kind != "http.response.body":
                passing = True
                if start is not None:
                    await send(start)
                    start = None
                await send(message)
                return
            body: bytes = message.get("body", b"")
            more = message.get("more_body", False)
            if start is not None:
                assert encoding is not None
                headers = MutableHeaders(raw=start["headers"])
                if not more and len(body) < MIN_SIZE:
                    passing = True
                    await send(start)
                    await send(message)
                    return
                headers["Content-Encoding"] = encoding
                if (etag := headers.get("etag")) and not etag.startswith("W/"):
                    headers["ETag"] = f"W/{etag}"  # the same resource, no longer the same bytes
                if more:
                    del headers["Content-Length"]
                    stream = _Stream(encoding)
                    body = stream.chunk(body, last=False)
                else:
                    body = compress(body, encoding)
                    headers["Content-Length"] = str(len(body))
                await send(start)
                start = None
                await send({"type": "http.response.body", "body": body, "more_body": more})
                return
            assert stream is not None
            await send({"type": "http.response.body", "body": stream.chunk(body, last=not more), "more_body": more})

        await self.app(scope, receive, send_compressed)
