"""What the browser tests do again and again: read a texted code, sign in, arrange a community."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from app.accounts.sms import memory_outbox
from tests import factories as f


async def sms_code(phone: str, wait_seconds: float = 5.0) -> str:
    """The last code texted to ``phone`` (the memory SMS backend is the phone's inbox)."""
    for _ in range(int(wait_seconds / 0.05)):
        code = memory_outbox().last_code(phone)
        if code:
            return code
        await asyncio.sleep(0.05)
    raise AssertionError(f"no SMS to {phone}")


async def sign_in_on_page(page: Any, phone: str) -> None:
    """Fill the sign-in card on the current page, as a person would."""
    await page.fill("#si-phone-input", phone)
    await page.click("[data-send-code]")
    await page.wait_for_selector("[data-code-sent]:not([hidden])")
    await page.fill("#si-code", await sms_code(phone))
    await page.click('[data-panel="phone"] [type="submit"]')


async def give_tokens(client: httpx.AsyncClient, page: Any, phone: str | None) -> None:
    """Sign ``phone`` in over the API and hand the tokens to the page, skipping the form."""
    assert phone
    await client.post("/api/v1/auth/otp", json={"phone": phone})
    tokens = (await client.post("/api/v1/auth/token", json={"phone": phone, "code": await sms_code(phone)})).json()
    if not page.url.startswith("http"):
        await page.goto("/offline")
    await page.evaluate("(pair) => import('/static/js/api.js').then((api) => api.saveTokens(pair))", tokens)


class Neighbourhood:
    """A community with a street above it, one building, a committee member and an invite."""

    def __init__(self, community: Any, building: Any, committee: Any, invite: dict[str, Any]) -> None:
        self.community, self.building, self.committee, self.invite = community, building, committee, invite

    @property
    def cid(self) -> str:
        return str(self.community.id)


async def neighbourhood(session: Any, client: httpx.AsyncClient,
                        roster: tuple[tuple[str, str], ...] = ()) -> Neighbourhood:
    street = await f.region(session, name="花山街道")
    community = await f.community(session, name="幸福里社区", region_id=street.id)
    building = await f.building(session, community, name="1栋")
    committee = await f.member(session, community, "committee", name="陈主任")
    headers = f.auth(committee)
    if roster:
        rows = (f"{name},{phone},1栋,{101 + i},是" for i, (name, phone) in enumerate(roster))
        lines = ["姓名,手机号,楼栋,房号,业主", *rows]
        r = await client.post(f"/api/v1/communities/{community.id}/households/import", headers=headers,
                              files={"file": ("roster.csv", "\n".join(lines).encode(), "text/csv")})
        assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/communities/{community.id}/invites", json={"note": "1栋微信群"}, headers=headers)
    assert r.status_code == 201, r.text
    return Neighbourhood(community, building, committee, r.json())
