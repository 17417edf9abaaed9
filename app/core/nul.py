"""Refuse the NUL character anywhere in a request's text: its path, its query, its JSON body.

PostgreSQL can neither store NUL in text nor compare text with it (``invalid byte sequence for
encoding "UTF8": 0x00``), so a NUL that reached a query answered 500, whatever the field; SQLite
stores it, so the same input behaved differently on each. No field has a use for it: it is refused
at the door, before anything reads it, as invalid input (422) that says where it was.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.asgi import replay_body
from app.core.errors import problem

ESCAPED_NUL = b"\\u0000"  # how JSON spells it; a raw 0x00 byte is not JSON at all


class RefuseNul:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where: list[Any] | None = None
        query: bytes = scope.get("query_string", b"")
        if "\x00" in scope["path"]:
            where = ["path"]
        elif b"%00" in query or b"\x00" in query:
            name = next((k for k, v in parse_qsl(query.decode("latin-1"), keep_blank_values=True)
                         if "\x00" in k + v), "")
            where = ["query", name.replace("\x00", "")]
        elif b"json" in dict(scope["headers"]).get(b"content-type", b""):
            body = await _read(receive)
            if ESCAPED_NUL in body:
                where = _nul_in_json(body)
            receive = replay_body(body, receive)
        if where is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        response = problem(request, 422, "invalid", "error.invalid",
                           errors=[{"loc": where, "msg_key": "validation.nul_character", "type": "nul_character"}])
        await response(scope, receive, send)


async def _read(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _nul_in_json(body: bytes) -> list[Any] | None:
    """Where in the body a string (or a key) holds NUL; None if none does (an escaped backslash
    followed by ``u0000`` is text, and a body that is not JSON is for the app to refuse)."""
    try:
        value = json.loads(body)
    except ValueError:
        return None

    def find(node: Any, path: list[Any]) -> list[Any] | None:
        if isinstance(node, str):
            return path if "\x00" in node else None
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in items:
            if isinstance(key, str) and "\x00" in key:
                return [*path, key.replace("\x00", "")]
            found = find(child, [*path, key])
            if found is not None:
                return found
        return None

    return find(value, ["body"])
