"""The ceiling: a bare FastAPI app with one JSON endpoint, served exactly like Wugong.

Whatever this reaches on the machine (same uvicorn, same workers, same client) is the most any
FastAPI app could; Wugong's numbers divided by these show what our middleware, auth and
database work cost on top of the framework.
"""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

# About the size of a resident's GET /api/v1/me.
_BODY: dict[str, object] = {
    "id": "01hzy5c3kq8w7m2n4p6r8t0v2x", "name": "李明", "phone": "13800000005", "username": None,
    "locale": "zh-CN", "is_platform_admin": False, "current_community_id": "01hzy5c3kq8w7m2n4p6r8t0v2y",
    "memberships": [{"membership_id": "01hzy5c3kq8w7m2n4p6r8t0v2z", "community_id": "01hzy5c3kq8w7m2n4p6r8t0v2y",
                     "community_name": "幸福里社区", "community_kind": "community",
                     "roles": ["owner", "resident"], "via": "member"}],
    "region_admin_of": [], "pending_joins": [],
}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/ceiling")
async def ceiling() -> dict[str, object]:
    return _BODY
