"""Who is calling: the bearer token's person (401 otherwise)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.accounts import service
from app.accounts.models import Person
from app.core.deps import Session


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def current_person(request: Request, session: Session) -> Person:
    person = await service.authenticate(session, bearer_token(request))
    request.state.person_id = person.id
    return person


CurrentPerson = Annotated[Person, Depends(current_person)]
