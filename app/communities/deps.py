"""Tenancy in one place: load the community named in the path and the caller's roles in it.

A community the caller may not see answers 404, exactly like one that does not exist.
``Require("permission")`` checks the caller's roles against app/core/policy.py (403).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Request

from app.accounts import service as accounts
from app.accounts.deps import bearer_token
from app.accounts.models import Person
from app.communities import service
from app.communities.models import Community, Membership
from app.core import policy
from app.core.deps import Session
from app.core.errors import Forbidden, NotFound


@dataclass(frozen=True)
class CommunityScope:
    """The community a request acts in, who acts, and with which roles."""

    community: Community
    person: Person
    membership: Membership | None
    roles: frozenset[str]

    @property
    def community_id(self) -> str:
        return self.community.id

    def can(self, permission: str) -> bool:
        return policy.allowed(permission, self.roles)


async def community_scope(
    request: Request, session: Session, cid: Annotated[str, Path(max_length=26)]
) -> CommunityScope:
    # The caller and their standing in the community in one statement (accounts.deps.current_person
    # would read the caller first, on its own).
    claims = accounts.token_claims(bearer_token(request))
    person, community, membership, roles = await service.caller_scope(session, claims, cid)
    request.state.person_id = person.id
    if community is not None and not roles and await service.awaiting_approval(session, community.id, person.id):
        # They know the community (they asked to join it): say where their request stands, not "not found".
        # community_name: what the sentence quotes, on its own, for the page to mark as user content.
        raise Forbidden("join_pending", community=community.name, extra={"community_name": community.name})
    if community is None or not roles:
        raise NotFound("community_not_found")
    return CommunityScope(community=community, person=person, membership=membership, roles=roles)


Scope = Annotated[CommunityScope, Depends(community_scope)]


class RequirePermission:
    """The dependency behind ``Require``; ``permission`` stays readable, so the OpenAPI document and the
    authorization tests know what each route declares (app/openapi.py)."""

    def __init__(self, permission: str) -> None:
        if permission not in policy.PERMISSIONS:
            raise KeyError(permission)
        self.permission = permission

    async def __call__(self, scope: Scope) -> CommunityScope:
        if not scope.can(self.permission):
            raise Forbidden("forbidden_role")
        return scope


def Require(permission: str) -> Any:  # reads as a declaration at the route
    """A dependency that yields the scope when the caller holds ``permission`` there."""
    return Depends(RequirePermission(permission))
