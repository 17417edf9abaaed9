"""Dependencies every router uses: the request's session and the caller's locale."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import session_dependency
from app.core.errors import request_locale

# scope="function": commit before the response leaves, so a client that gets 201 and reads at
# once sees its own write (the "request" scope would commit after the answer was sent).
Session = Annotated[AsyncSession, Depends(session_dependency, scope="function")]


def _locale(request: Request) -> str:
    return request_locale(request)


Locale = Annotated[str, Depends(_locale)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


ClientIp = Annotated[str, Depends(client_ip)]
