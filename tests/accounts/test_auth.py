from __future__ import annotations

from app.accounts.sms import memory_outbox


async def sign_in(client, phone: str) -> dict:
    r = await client.post("/api/v1/auth/otp", json={"phone": phone})
    assert r.status_code == 202, r.text
    code = memory_outbox().last_code(phone)
    r = await client.post("/api/v1/auth/token", json={"phone": phone, "code": code})
    assert r.status_code == 200, r.text
    return r.json()


async def test_phone_and_code_sign_in_gives_tokens_and_me(client):
    tokens = await sign_in(client, "13800000001")
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 900
    r = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert r.status_code == 200
    assert r.json()["phone"] == "13800000001"
    assert r.json()["memberships"] == []
