"""Small pieces for ASGI middleware."""

from __future__ import annotations

from starlette.types import Message, Receive


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A receive() that hands the already-read body to the app once, then what the client does next
    (a disconnect): for middleware that must read a body before the app does (app/core/nul.py,
    app/core/idempotency.py)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
