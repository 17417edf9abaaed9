"""The authorization matrix: every operation of the OpenAPI document × every kind of caller.

Callers: signed out, a resident, a handler, a grid worker (all of the demo compound), and the
committee of the village next door. What each may do comes from what the operation declares: a
bearer token (``security``) and the permission of its ``Require(...)`` (``x-permission``), held by
the roles app/core/policy.py lists. Refused callers get exactly the refusal — 401 without a token,
404 from a community that is not theirs, 403 without the permission — and a refusal changes
nothing. Callers who may pass are sent nothing valid (an id that names nothing, a body that is not
an object), so they get past the door and no further.

An operation this test cannot judge fails it: a new endpoint is public only by being listed here,
and one in a community needs a permission (or a place in MEMBERS_ONLY).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from app.core import policy
from app.main import create_app
from tests.contract.conftest import DemoServer

DOCUMENT: dict[str, Any] = create_app().openapi()
OPERATIONS = sorted((method.upper(), path) for path, item in DOCUMENT["paths"].items() for method in item)
CALLERS = ("signed_out", "resident", "handler", "grid_worker", "other_committee")

# Anyone may call these, signed in or not.
PUBLIC = {
    ("POST", "/api/v1/auth/otp"), ("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/refresh"),
    ("GET", "/api/v1/invites/{code}"), ("GET", "/api/v1/receipts/{receipt}"), ("GET", "/api/v1/polls/{poll_id}/chain"),
    ("GET", "/s/{code}/qr.svg"), ("GET", "/s/{code}/qr.png"), ("GET", "/healthz"), ("GET", "/readyz"),
    ("GET", "/s/{code}/poster.json"),
}
# Anyone signed in may call these; what they then see or may change is the service's to decide.
SIGNED_IN = {
    ("POST", "/api/v1/auth/logout"), ("GET", "/api/v1/me"), ("PATCH", "/api/v1/me"),
    ("GET", "/api/v1/regions"), ("POST", "/api/v1/regions"), ("GET", "/api/v1/regions/{region_id}"),
    ("GET", "/api/v1/regions/{region_id}/escalations"),
    ("GET", "/api/v1/communities"), ("POST", "/api/v1/communities"), ("POST", "/api/v1/join"),
    ("GET", "/api/v1/notifications"), ("GET", "/api/v1/notifications/unread-count"),
    ("POST", "/api/v1/notifications/read"),
}
# In a community, any member may call these without a further permission.
MEMBERS_ONLY = {("GET", "/api/v1/communities/{cid}")}

COMMUNITY = "/api/v1/communities/{cid}"
NOTHING = "nothing0"  # fits every id, code and receipt parameter, and names nothing


def judge(method: str, path: str, caller: str, roles: frozenset[str]) -> tuple[int, str] | None:
    """The refusal (status, code) this caller must get, or None if it may pass the door."""
    operation = DOCUMENT["paths"][path][method.lower()]
    secured = bool(operation.get("security"))
    permission = operation.get("x-permission")
    op = (method, path)
    if op in PUBLIC:
        assert not secured, f"{method} {path} is listed as public but asks for a token"
        return None
    assert secured, f"{method} {path} asks for no token: list it in PUBLIC, or give it a caller (Require, ...)"
    if caller == "signed_out":
        return 401, "token_missing"
    if not path.startswith(COMMUNITY + "/") and path != COMMUNITY:
        assert op in SIGNED_IN, f"{method} {path}: who may call it? List it in SIGNED_IN or put it in a community"
        return None
    if caller == "other_committee":
        return 404, "community_not_found"
    if permission is None:
        assert op in MEMBERS_ONLY, f"{method} {path} has no permission: add Require(...), or list it in MEMBERS_ONLY"
        return None
    assert permission in policy.PERMISSIONS, f"{method} {path}: unknown permission {permission}"
    return None if policy.allowed(permission, roles) else (403, "forbidden_role")


def request_for(method: str, path: str, server: DemoServer) -> dict[str, Any]:
    operation = DOCUMENT["paths"][path][method.lower()]
    url = re.sub(r"\{(\w+)\}", lambda m: server.community_id if m.group(1) == "cid" else NOTHING, path)
    request: dict[str, Any] = {"method": method, "url": url}
    if "requestBody" in operation:
        request["json"] = []  # not an object: past the door, a 422
    return request


def _headers(server: DemoServer, caller: str) -> dict[str, str]:
    return server.headers(None if caller == "signed_out" else caller)


@pytest.fixture(scope="module")
async def roles(demo_server: DemoServer) -> dict[str, frozenset[str]]:
    """Each caller's roles in the compound, as GET /me tells them."""
    out = {"signed_out": frozenset[str]()}
    async with httpx.AsyncClient(base_url=demo_server.url) as client:
        for caller in CALLERS[1:]:
            me = (await client.get("/api/v1/me", headers=demo_server.headers(caller))).json()
            out[caller] = frozenset(next((m["roles"] for m in me["memberships"]
                                          if m["community_id"] == demo_server.community_id), []))
    assert out["resident"] == {"resident"} and "handler" in out["handler"] and "grid_worker" in out["grid_worker"]
    assert out["other_committee"] == frozenset()
    return out


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
async def test_each_caller_gets_the_refusal_the_operation_declares(
        demo_server: DemoServer, roles: dict[str, frozenset[str]], method: str, path: str) -> None:
    expected = {caller: judge(method, path, caller, roles[caller]) for caller in CALLERS}
    request = request_for(method, path, demo_server)
    wrong = []
    async with httpx.AsyncClient(base_url=demo_server.url, timeout=30) as client:
        before = await demo_server.digest()
        for caller in [c for c in CALLERS if expected[c] is not None]:  # the refusals, first
            status, code = expected[caller]  # type: ignore[misc]
            r = await client.request(**request, headers=_headers(demo_server, caller))
            body = r.json() if r.headers.get("content-type", "").startswith("application/problem+json") else {}
            if (r.status_code, body.get("code")) != (status, code) or not body.get("detail"):
                wrong.append(f"{caller}: expected {status} {code}, got {r.status_code} {r.text[:200]}")
        if await demo_server.digest() != before:
            wrong.append("a refusal changed the database")
        for caller in [c for c in CALLERS if expected[c] is None]:
            r = await client.request(**request, headers=_headers(demo_server, caller))
            refused = r.status_code in (401, 403) or (r.status_code == 404 and "community_not_found" in r.text)
            if refused or r.status_code >= 500:
                wrong.append(f"{caller}: expected past the door, got {r.status_code} {r.text[:200]}")
    if wrong:
        pytest.fail(f"{method} {path}\n" + "\n".join(wrong), pytrace=False)


def test_the_matrix_covers_every_operation_and_caller() -> None:
    """What the matrix runs, counted (and a guard that the document was read at all)."""
    assert len(OPERATIONS) >= 80
    print(f"\nauthorization matrix: {len(OPERATIONS)} operations × {len(CALLERS)} callers "
          f"= {len(OPERATIONS) * len(CALLERS)} cases")
