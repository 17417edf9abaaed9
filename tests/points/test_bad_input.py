"""Every points and store endpoint refuses malformed, oversized and missing input, the wrong role,
another community's ids and a stale state with problem+json in the caller's language, and a
refusal changes nothing the ledger or the store holds."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories as f
from tests.points import support as s

LANGS = ("zh-CN", "en")


async def refused(client: Any, session: Any, method: str, url: str, headers: dict[str, str], status: int,
                  code: str | None, json: Any = None, content: bytes | None = None) -> dict[str, Any]:
    """The request is refused as said, in both languages, and nothing changes."""
    before = await s.fingerprint(session)
    bodies = []
    for lang in LANGS:
        h = {**headers, "Accept-Language": lang}
        if content is not None:
            h["Content-Type"] = "application/json"
        r = await client.request(method, url, headers=h, json=json, content=content)
        bodies.append(f.assert_problem(r, status, code))
    zh, en = bodies
    assert zh["detail"] != en["detail"] or zh["errors"] != en["errors"], (zh, en)
    assert en["detail"].isascii() or "“" in en["detail"], en["detail"]
    assert await s.fingerprint(session) == before
    return en


@pytest.fixture
async def world(client: Any, session: Any) -> dict[str, Any]:
    e = await s.estate(session)
    other = await s.estate(session, name="李家墩村")
    await s.bonus(client, e, e.resident, 100)
    await s.bonus(client, e, e.resident, 100, unit="hours")
    it = await s.item(client, e)
    theirs = await s.item(client, other)
    order = (await s.redeem(client, e, e.resident, it["id"])).json()
    await s.bonus(client, other, other.resident, 100)
    their_order = (await s.redeem(client, other, other.resident, theirs["id"])).json()
    return {"e": e, "other": other, "item": it, "their_item": theirs, "order": order, "their_order": their_order}


# (method, path, body) of every write, with a body that is fine for the committee
def writes(w: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    e = w["e"]
    return [
        ("POST", "/points/adjustments", {"person_id": e.resident.id, "amount": 1, "reason": "补发"}),
        ("POST", "/points/bonuses", {"person_ids": [e.resident.id], "amount": 1, "reason": "奖励"}),
        ("POST", "/points/donations", {"to_person_id": e.neighbour.id, "minutes": 1}),
        ("PUT", "/points/rules", {"points_per_hour": 10}),
        ("PUT", "/points/me/board-visibility", {"show_name": False}),
        ("POST", "/store/items", {"name": "香皂", "price": 1, "stock": 1}),
        ("PATCH", f"/store/items/{w['item']['id']}", {"price": 2}),
        ("POST", "/store/orders", {"item_id": w["item"]["id"], "quantity": 1}),
        ("POST", f"/store/orders/{w['order']['id']}/transitions", {"action": "cancel"}),
        ("POST", "/store/pickups", {"code": w["order"]["code"]}),
    ]


async def test_malformed_json_and_non_objects_are_refused_everywhere(client: Any, session: Any,
                                                                     world: dict[str, Any]) -> None:
    e = world["e"]
    for method, path, _ in writes(world):
        await refused(client, session, method, e.url(path), f.auth(e.committee), 422, "invalid", content=b"{nope")
        await refused(client, session, method, e.url(path), f.auth(e.committee), 422, "invalid", json=[1, 2])


async def test_unknown_fields_are_refused_everywhere(client: Any, session: Any, world: dict[str, Any]) -> None:
    e = world["e"]
    for method, path, body in writes(world):
        body = await refused(client, session, method, e.url(path), f.auth(e.committee), 422, "invalid",
                             json={**body, "sneaky": 1})
        assert ["body", "sneaky"] in [x["loc"] for x in body["errors"]], (path, body)


@pytest.mark.parametrize(("path_key", "body", "loc"), [
    ("adjust", {"amount": 1, "reason": "x"}, ("person_id",)),
    ("adjust", {"person_id": "P", "reason": "x"}, ("amount",)),
    ("adjust", {"person_id": "P", "amount": 1, "reason": ""}, ("reason",)),
    ("adjust", {"person_id": "P", "amount": 1, "reason": "长" * 201}, ("reason",)),
    ("adjust", {"person_id": "P", "amount": 1_000_001, "reason": "x"}, ("amount",)),
    ("adjust", {"person_id": "P", "amount": "ten", "reason": "x"}, ("amount",)),
    ("adjust", {"person_id": "P", "amount": 1.5, "reason": "x"}, ("amount",)),
    ("adjust", {"person_id": "P", "amount": 1, "reason": "x", "unit": "coins"}, ("unit",)),
    ("adjust", {"person_id": "", "amount": 1, "reason": "x"}, ("person_id",)),
    ("bonus", {"person_ids": [], "amount": 1, "reason": "x"}, ("person_ids",)),
    ("bonus", {"person_ids": ["P"] * 101, "amount": 1, "reason": "x"}, ("person_ids",)),
    ("bonus", {"person_ids": ["P"], "amount": 0, "reason": "x"}, ("amount",)),
    ("bonus", {"person_ids": ["P"], "amount": -3, "reason": "x"}, ("amount",)),
    ("bonus", {"person_ids": ["P"], "amount": 1}, ("reason",)),
    ("donate", {"to_person_id": "P", "minutes": 0}, ("minutes",)),
    ("donate", {"to_person_id": "P"}, ("minutes",)),
    ("donate", {"to_person_id": "P", "minutes": 1, "note": "长" * 201}, ("note",)),
    ("rules", {"points_per_hour": -1}, ("points_per_hour",)),
    ("rules", {"points_per_hour": 10, "monthly_cap": -5}, ("monthly_cap",)),
    ("rules", {"points_per_hour": 10, "expiry_years": 11}, ("expiry_years",)),
    ("rules", {"points_per_hour": 10, "pickup_days": 0}, ("pickup_days",)),
    ("rules", {}, ("points_per_hour",)),
    ("visibility", {}, ("show_name",)),
    ("visibility", {"show_name": "perhaps"}, ("show_name",)),
    ("item", {"price": 1, "stock": 1}, ("name",)),
    ("item", {"name": "", "price": 1, "stock": 1}, ("name",)),
    ("item", {"name": "长" * 61, "price": 1, "stock": 1}, ("name",)),
    ("item", {"name": "x", "price": 0, "stock": 1}, ("price",)),
    ("item", {"name": "x", "price": 1, "stock": -1}, ("stock",)),
    ("item", {"name": "x", "price": 1, "stock": 1, "per_person_limit": 0}, ("per_person_limit",)),
    ("item", {"name": "x", "price": 1, "stock": 1, "sponsor_kind": "government"}, ("sponsor_kind",)),
    ("item", {"name": "x", "price": 1, "stock": 1, "description": "长" * 1001}, ("description",)),
    ("item", {"name": "x", "price": 1, "stock": 1, "photo_upload_id": "NOT AN ID"}, ("photo_upload_id",)),
    ("patch", {"price": 0}, ("price",)),
    ("patch", {"name": None}, ("name",)),
    ("patch", {"stock": None}, ("stock",)),
    ("order", {"quantity": 1}, ("item_id",)),
    ("order", {"item_id": "I", "quantity": 0}, ("quantity",)),
    ("order", {"item_id": "I", "quantity": 101}, ("quantity",)),
    ("transition", {"action": "steal"}, ("action",)),
    ("transition", {}, ("action",)),
    ("transition", {"action": "cancel", "reason": "长" * 201}, ("reason",)),
    ("pickup", {}, ("code",)),
    ("pickup", {"code": 1234567890}, ("code",)),
])
async def test_bad_fields_are_named_in_both_languages(client: Any, session: Any, world: dict[str, Any], path_key: str,
                                                      body: dict[str, Any], loc: tuple[str, ...]) -> None:
    e = world["e"]
    method, path = {
        "adjust": ("POST", "/points/adjustments"), "bonus": ("POST", "/points/bonuses"),
        "donate": ("POST", "/points/donations"), "rules": ("PUT", "/points/rules"),
        "visibility": ("PUT", "/points/me/board-visibility"), "item": ("POST", "/store/items"),
        "patch": ("PATCH", f"/store/items/{world['item']['id']}"), "order": ("POST", "/store/orders"),
        "transition": ("POST", f"/store/orders/{world['order']['id']}/transitions"),
        "pickup": ("POST", "/store/pickups"),
    }[path_key]
    fill = {"P": e.neighbour.id, "I": world["item"]["id"]}
    body = {k: ([fill.get(x, x) for x in v] if isinstance(v, list) else fill.get(v, v) if isinstance(v, str) else v)
            for k, v in body.items()}
    answer = await refused(client, session, method, e.url(path), f.auth(e.committee), 422, "invalid", json=body)
    assert ["body", *loc] in [x["loc"][:1 + len(loc)] for x in answer["errors"]], answer


async def test_each_write_refuses_the_wrong_role(client: Any, session: Any, world: dict[str, Any]) -> None:
    e = world["e"]
    committee_only = {"/points/adjustments", "/points/bonuses", "/points/rules", "/store/items", "/store/pickups"}
    for method, path, body in writes(world):
        if path in committee_only or path.startswith("/store/items/"):
            for who in (e.resident, e.grid_worker):
                await refused(client, session, method, e.url(path), f.auth(who), 403, "forbidden_role", json=body)
    for path in ("/points/exports/ledger.csv", "/points/exports/ledger.xlsx", "/store/orders/export.csv",
                 "/store/orders/export.xlsx", f"/points/people/{e.resident.id}"):
        await refused(client, session, "GET", e.url(path), f.auth(e.resident), 403, "forbidden_role")


async def test_every_endpoint_answers_an_outsider_as_if_the_community_did_not_exist(
        client: Any, session: Any, world: dict[str, Any]) -> None:
    e, other = world["e"], world["other"]
    reads = ["/points/me", "/points/me/entries", "/points/board", "/points/rules", "/store/items",
             f"/store/items/{world['item']['id']}", "/store/orders", f"/store/orders/{world['order']['id']}",
             f"/store/orders/{world['order']['id']}/qr.svg", f"/points/people/{e.resident.id}",
             "/points/exports/ledger.csv", "/store/orders/export.csv"]
    for path in reads:
        await refused(client, session, "GET", e.url(path), f.auth(other.committee), 404, "community_not_found")
    for method, path, body in writes(world):
        await refused(client, session, method, e.url(path), f.auth(other.committee), 404, "community_not_found",
                      json=body)
        await refused(client, session, method, e.url(path), {}, 401, "token_missing", json=body)


async def test_another_communitys_ids_name_nothing_here(client: Any, session: Any, world: dict[str, Any]) -> None:
    e, other = world["e"], world["other"]
    h = f.auth(e.committee)
    theirs = other.resident.id
    body = await refused(client, session, "POST", e.url("/points/adjustments"), h, 422, "member_not_found",
                         json={"person_id": theirs, "amount": 1, "reason": "x"})
    assert body["errors"][0]["loc"] == ["body", "person_id"]
    await refused(client, session, "POST", e.url("/points/bonuses"), h, 422, "member_not_found",
                  json={"person_ids": [e.resident.id, theirs], "amount": 1, "reason": "x"})
    await refused(client, session, "POST", e.url("/points/donations"), f.auth(e.resident), 422, "member_not_found",
                  json={"to_person_id": theirs, "minutes": 1})
    await refused(client, session, "POST", e.url("/store/orders"), f.auth(e.resident), 422, "store.item_not_found",
                  json={"item_id": world["their_item"]["id"]})
    for method, path, body in [
        ("GET", f"/store/items/{world['their_item']['id']}", None),
        ("PATCH", f"/store/items/{world['their_item']['id']}", {"price": 3}),
        ("GET", f"/store/orders/{world['their_order']['id']}", None),
        ("POST", f"/store/orders/{world['their_order']['id']}/transitions", {"action": "cancel"}),
    ]:
        code = "store.item_not_found" if "items" in path else "store.order_not_found"
        await refused(client, session, method, e.url(path), h, 404, code, json=body)
    await refused(client, session, "POST", e.url("/store/pickups"), h, 404, "store.code_unknown",
                  json={"code": world["their_order"]["code"]})
    other_upload = await s_photo(client, other)
    await refused(client, session, "POST", e.url("/store/items"), h, 422, "upload_not_found",
                  json={"name": "x", "price": 1, "stock": 1, "photo_upload_id": other_upload})
    await refused(client, session, "GET", e.url(f"/points/board?grid_id={other.grid.id}"), f.auth(e.resident), 422,
                  "grid_not_found")


async def s_photo(client: Any, e: s.Estate) -> str:
    from tests.issues.support import photo

    return await photo(client, e.c, e.committee)


async def test_stale_state_and_rules_of_the_ledger_are_conflicts(client: Any, session: Any,
                                                                 world: dict[str, Any]) -> None:
    e = world["e"]
    h = f.auth(e.resident)
    await refused(client, session, "POST", e.url("/points/donations"), h, 409, "points.insufficient",
                  json={"to_person_id": e.neighbour.id, "minutes": 101})
    await refused(client, session, "POST", e.url("/points/donations"), h, 422, "points.donation_to_self",
                  json={"to_person_id": e.resident.id, "minutes": 1})
    await refused(client, session, "POST", e.url("/points/adjustments"), f.auth(e.committee), 422,
                  "points.amount_zero", json={"person_id": e.resident.id, "amount": 0, "reason": "x"})
    url = e.url(f"/store/orders/{world['order']['id']}/transitions")
    assert (await client.post(url, headers=h, json={"action": "cancel"})).status_code == 200
    await refused(client, session, "POST", url, h, 409, "store.cancel_not_now", json={"action": "cancel"})
    await refused(client, session, "POST", url, f.auth(e.committee), 409, "store.fulfil_not_now",
                  json={"action": "fulfil"})
    await refused(client, session, "POST", e.url("/store/pickups"), f.auth(e.committee), 409, "store.code_closed",
                  json={"code": world["order"]["code"]})


@pytest.mark.parametrize("query", [
    "/points/me?limit=0", "/points/me?limit=101", "/points/me?unit=coins", "/points/me/entries?cursor=%%%",
    "/points/board?period=week", "/points/board?unit=coins", "/points/board?at=2026-13", "/points/board?limit=0",
    "/points/board?grid_id=" + "x" * 27, "/store/items?on_sale=perhaps", "/store/orders?status=lost",
    "/points/exports/ledger.csv?month=2026-1", "/store/orders/export.xlsx?month=tomorrow",
    "/points/exports/ledger.csv?month=0000-01", "/points/board?period=year&at=0000",
    "/store/items/" + "x" * 27,
])
async def test_bad_query_parameters_are_refused(client: Any, session: Any, world: dict[str, Any], query: str) -> None:
    e = world["e"]
    await refused(client, session, "GET", e.url(query), f.auth(e.committee), 422, None)
