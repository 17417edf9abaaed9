"""Cross-cutting behaviour: health, readiness, problem+json, locales, idempotency."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from app.communities.models import Grid
from app.core.i18n import catalogue, negotiate
from tests import factories as f
from tests.factories import assert_problem


async def test_health_and_readiness(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    r = await client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["checks"]["database"] == "ok"


async def test_openapi_describes_the_api(client):
    spec = (await client.get("/openapi.json")).json()
    assert "/api/v1/auth/token" in spec["paths"]
    assert "/api/v1/communities/{cid}/members" in spec["paths"]


async def test_unknown_route_is_problem_json_in_callers_language(client):
    zh = assert_problem(await client.get("/api/v1/nothing-here"), 404, "not_found")
    en = assert_problem(await client.get("/api/v1/nothing-here", headers={"Accept-Language": "en-US,en;q=0.9"}), 404)
    assert zh["detail"] != en["detail"]
    assert "Not found" in en["detail"]


async def test_malformed_json_is_a_translated_422(client):
    r = await client.post("/api/v1/auth/otp", content=b"{not json", headers={"Content-Type": "application/json"})
    body = assert_problem(r, 422, "invalid")
    assert body["errors"] and body["errors"][0]["msg"]


def test_language_negotiation():
    assert negotiate(None) == "zh-CN"
    assert negotiate("en-GB,en;q=0.8") == "en"
    assert negotiate("fr,en;q=0.5,zh;q=0.9") == "zh-CN"
    assert negotiate("en", preferred="zh-CN") == "zh-CN"
    assert negotiate("de") == "zh-CN"


def test_both_catalogues_have_the_same_keys():
    zh, en = set(catalogue("zh-CN")), set(catalogue("en"))
    assert zh == en, {"only zh-CN": sorted(zh - en), "only en": sorted(en - zh)}


async def test_locale_catalogue_is_served(client):
    r = await client.get("/locales/en.json")
    assert r.status_code == 200 and r.json()["error.not_found"].startswith("Not found")


async def test_idempotency_key_replays_the_first_answer_once(client, session):
    c = await f.community(session)
    boss = await f.member(session, c, "committee")
    headers = {**f.auth(boss), "Idempotency-Key": "grid-create-1"}
    first = await client.post(f"/api/v1/communities/{c.id}/grids", json={"name": "东区"}, headers=headers)
    again = await client.post(f"/api/v1/communities/{c.id}/grids", json={"name": "东区"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    n = (await session.execute(select(func.count()).select_from(Grid).where(Grid.community_id == c.id))).scalar()
    assert n == 1


async def test_idempotency_key_with_another_body_is_refused(client, session):
    c = await f.community(session)
    boss = await f.member(session, c, "committee")
    headers = {**f.auth(boss), "Idempotency-Key": "k-2"}
    first = await client.post(f"/api/v1/communities/{c.id}/grids", json={"name": "东区"}, headers=headers)
    assert first.status_code == 201
    r = await client.post(f"/api/v1/communities/{c.id}/grids", json={"name": "西区"}, headers=headers)
    assert_problem(r, 422, "idempotency_key_reused")


async def test_concurrent_retries_with_one_key_have_one_effect(client, session):
    c = await f.community(session)
    boss = await f.member(session, c, "committee")
    headers = {**f.auth(boss), "Idempotency-Key": "burst"}
    answers = await asyncio.gather(*[
        client.post(f"/api/v1/communities/{c.id}/grids", json={"name": "南区"}, headers=headers) for _ in range(10)])
    assert {r.status_code for r in answers} <= {201, 409}
    assert any(r.status_code == 201 for r in answers)
    assert all(r.headers["retry-after"].isdigit() for r in answers if r.status_code == 409)
    n = (await session.execute(select(func.count()).select_from(Grid).where(Grid.community_id == c.id))).scalar()
    assert n == 1


async def test_keys_of_many_writes_arriving_together_are_recorded_in_shared_commits(client, session):
    """The keys of writes that arrive together are claimed together (app/core/group_commit.py); each
    answer is recorded in its own request's transaction: each still gets its own answer, once, and
    its own replay."""
    from app.core.idempotency import journal
    from app.core.models import IdempotencyRecord

    c = await f.community(session)
    boss = await f.member(session, c, "committee")
    url = f"/api/v1/communities/{c.id}/grids"
    batches, items = journal.batches, journal.items
    firsts = await asyncio.gather(*[client.post(url, json={"name": f"第{i}网格"},
                                                headers={**f.auth(boss), "Idempotency-Key": f"grid-{i}"})
                                    for i in range(20)])
    assert [r.status_code for r in firsts] == [201] * 20
    assert journal.items - items == 20  # a new key for each; the answers went with the grids
    assert journal.batches - batches < 20, "the records were not written together"
    answered = select(func.count()).select_from(IdempotencyRecord).where(IdempotencyRecord.status_code == 201,
                                                                         IdempotencyRecord.owner.is_(None))
    assert (await session.execute(answered)).scalar() == 20
    agains = await asyncio.gather(*[client.post(url, json={"name": f"第{i}网格"},
                                                headers={**f.auth(boss), "Idempotency-Key": f"grid-{i}"})
                                    for i in range(20)])
    assert [r.json() for r in agains] == [r.json() for r in firsts]
    assert all(r.headers.get("idempotent-replayed") == "true" for r in agains)
    n = (await session.execute(select(func.count()).select_from(Grid).where(Grid.community_id == c.id))).scalar()
    assert n == 20


async def test_an_unsettled_answer_is_not_kept_for_the_retry(client, session):
    """A 401 (or 429, or 5xx) is not an answer to replay: its record is dropped; a 201 is kept."""
    from app.core.models import IdempotencyRecord

    c = await f.community(session)
    boss = await f.member(session, c, "committee")
    url = f"/api/v1/communities/{c.id}/grids"
    kept = select(func.count()).select_from(IdempotencyRecord)
    r = await client.post(url, json={"name": "东区"}, headers={"Idempotency-Key": "k", "Authorization": "Bearer x"})
    assert_problem(r, 401)
    assert (await session.execute(kept)).scalar() == 0
    await session.commit()  # a fresh snapshot for the next look
    r = await client.post(url, json={"name": "东区"}, headers={"Idempotency-Key": "k", **f.auth(boss)})
    assert r.status_code == 201
    assert (await session.execute(kept)).scalar() == 1


async def test_over_long_idempotency_key_is_refused(client, session):
    c = await f.community(session)
    boss = await f.member(session, c, "committee")
    r = await client.post(f"/api/v1/communities/{c.id}/grids", json={"name": "北区"},
                          headers={**f.auth(boss), "Idempotency-Key": "x" * 201})
    assert_problem(r, 400, "idempotency_key_invalid")


async def test_readiness_checks_redis_when_configured(client):
    from app.core.config import get_settings

    checks = (await client.get("/readyz")).json()["checks"]
    if get_settings().redis_url:
        assert checks["redis"] == "ok"
    else:
        assert "redis" not in checks


async def test_an_oversized_body_with_an_idempotency_key_is_refused_unread(client, session):
    from app.core.config import get_settings

    c = await f.community(session)
    boss = await f.member(session, c, "committee")
    huge = b"x" * (get_settings().upload_max_bytes + 128 * 1024)
    r = await client.post(f"/api/v1/communities/{c.id}/uploads", content=huge,
                          headers={**f.auth(boss), "Idempotency-Key": "big",
                                   "Content-Type": "application/octet-stream"})
    assert_problem(r, 413, "too_large")


async def test_a_retried_upload_form_matches_despite_a_new_boundary(client, session):
    import io

    from PIL import Image

    c = await f.community(session)
    boss = await f.member(session, c, "committee")
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(buf, "JPEG")
    headers = {**f.auth(boss), "Idempotency-Key": "photo-1"}
    url = f"/api/v1/communities/{c.id}/uploads"
    first = await client.post(url, files={"file": ("a.jpg", buf.getvalue(), "image/jpeg")}, headers=headers)
    again = await client.post(url, files={"file": ("a.jpg", buf.getvalue(), "image/jpeg")}, headers=headers)
    assert first.status_code == 201, first.text
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert again.headers.get("idempotent-replayed") == "true"


async def test_a_signed_out_token_gets_no_replayed_answer(client, session):
    c = await f.community(session)
    boss = await f.member(session, c, "committee")
    headers = {**f.auth(boss), "Idempotency-Key": "g-1"}
    assert (await client.post(f"/api/v1/communities/{c.id}/grids", json={"name": "东区"},
                              headers=headers)).status_code == 201
    out = await client.post("/api/v1/auth/logout", json={"everywhere": True}, headers=f.auth(boss))
    assert out.status_code == 204
    r = await client.post(f"/api/v1/communities/{c.id}/grids", json={"name": "东区"}, headers=headers)
    assert_problem(r, 401, "token_revoked")


async def test_the_query_string_is_part_of_the_request_identity(client, session):
    c = await f.community(session)
    boss = await f.member(session, c, "committee")
    headers = {**f.auth(boss), "Idempotency-Key": "q-1"}
    assert (await client.post(f"/api/v1/communities/{c.id}/grids?x=1", json={"name": "东区"},
                              headers=headers)).status_code == 201
    r = await client.post(f"/api/v1/communities/{c.id}/grids?x=2", json={"name": "东区"}, headers=headers)
    assert_problem(r, 422, "idempotency_key_reused")


def test_ids_made_in_a_burst_sort_in_the_order_made():
    from app.core.ids import new_id

    ids = [new_id() for _ in range(2000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) and all(len(i) == 26 for i in ids)


def test_a_started_server_moves_its_startup_heap_out_of_the_collectors_way(tmp_path):
    """A full garbage collection walks every object the process holds (~100 ms on this code base,
    every request in flight waiting): what startup made is frozen out of its way, once."""
    import os
    import subprocess
    import sys

    code = ("import asyncio, gc\n"
            "from app.main import create_app\n"
            "app = create_app()\n"
            "async def main():\n"
            "    print(gc.get_freeze_count())\n"
            "    async with app.router.lifespan_context(app):\n"
            "        print(gc.get_freeze_count())\n"
            "asyncio.run(main())\n")
    env = {**os.environ, "WUGONG_DATA_DIR": str(tmp_path), "WUGONG_SWEEP_SECONDS": "0",
           "WUGONG_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/wugong.db"}
    env.pop("WUGONG_REDIS_URL", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                         check=True)
    before, after = (int(n) for n in out.stdout.split())
    assert before == 0 and after > 50_000
