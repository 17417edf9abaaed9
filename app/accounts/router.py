from __future__ import annotations

from fastapi import APIRouter, Response

from app.accounts import service
from app.accounts.deps import CurrentPerson
from app.accounts.schemas import LogoutRequest, MeUpdate, OtpRequest, RefreshRequest, TokenPair, TokenRequest
from app.communities import service as communities
from app.communities.schemas import MeRead
from app.core.deps import ClientIp, Session
from app.core.errors import Invalid

router = APIRouter(tags=["auth"])


@router.post("/auth/otp", status_code=202)
async def request_otp(body: OtpRequest, session: Session, ip: ClientIp) -> dict[str, str]:
    await service.request_code(session, body.phone, ip)
    return {"status": "sent"}


@router.post("/auth/token")
async def token(body: TokenRequest, session: Session, ip: ClientIp) -> TokenPair:
    if body.phone and body.code:
        return await service.sign_in_with_code(session, body.phone, body.code, ip)
    if body.username and body.password:
        return await service.sign_in_with_password(session, body.username, body.password, ip)
    raise Invalid("credentials_required")


@router.post("/auth/refresh")
async def refresh(body: RefreshRequest, session: Session) -> TokenPair:
    return await service.refresh(session, body.refresh_token)


@router.post("/auth/logout", status_code=204)
async def logout(body: LogoutRequest, person: CurrentPerson, session: Session) -> Response:
    await service.logout(session, person, body.refresh_token, body.everywhere)
    return Response(status_code=204)


@router.get("/me", tags=["me"])
async def me(person: CurrentPerson, session: Session) -> MeRead:
    return MeRead.model_validate(await communities.me(session, person))


@router.patch("/me", tags=["me"])
async def update_me(body: MeUpdate, person: CurrentPerson, session: Session) -> MeRead:
    await communities.update_me(session, person, body.model_dump(exclude_unset=True))
    return MeRead.model_validate(await communities.me(session, person))
