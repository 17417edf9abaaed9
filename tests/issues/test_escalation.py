"""Deadlines and escalation 超期督办: the sweep, its lease, the region view and who is told."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts.models import Person
from app.communities.models import Community, Region, RegionAdmin
from app.core import clock, db, lease
from app.core.lease import Lease
from app.issues import scheduled
from app.issues.models import Issue, IssueEvent
from tests import factories as f
from tests.factories import assert_problem
from tests.issues.support import Place, act, photo, place, report

ROOT = Path(__file__).resolve().parent.parent.parent


async def overdue_issue(client: Any, session: AsyncSession, p: Place, title: str = "3栋路灯不亮") -> str:
    """A dispatched issue whose deadline passed an hour ago."""
    issue = await report(client, p, title=title)
    r = await act(client, p, issue["id"], p.committee, "dispatch", handler_id=p.handler_id)
    assert r.status_code == 200, r.text
    await session.execute(update(Issue).where(Issue.id == issue["id"])
                          .values(deadline_at=clock.now() - timedelta(hours=1)))
    await session.commit()
    return str(issue["id"])


async def escalations(session: AsyncSession, issue_id: str) -> list[IssueEvent]:
    q = select(IssueEvent).where(IssueEvent.issue_id == issue_id, IssueEvent.action == "escalate")
    return list((await session.execute(q)).scalars().all())


async def under_a_street(session: AsyncSession, p: Place) -> tuple[Region, Region, Person, Person]:
    """Put the community under 花山街道 in 江夏区, each with an admin."""
    district = await f.region(session, "江夏区", "district")
    street = await f.region(session, "花山街道", "street", parent_id=district.id)
    await session.execute(update(Community).where(Community.id == p.c.id).values(region_id=street.id))
    street_admin = await f.person(session, name="街道王科长")
    district_admin = await f.person(session, name="区里周处长")
    session.add_all([RegionAdmin(region_id=street.id, person_id=street_admin.id),
                     RegionAdmin(region_id=district.id, person_id=district_admin.id)])
    await session.commit()
    return district, street, street_admin, district_admin


async def inbox(client: Any, who: Person, lang: str = "zh-CN") -> list[dict[str, Any]]:
    r = await client.get("/api/v1/notifications", headers=f.auth(who, lang))
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def test_the_sweep_escalates_an_overdue_issue_once(client, session):
    p = await place(client, session)
    iid = await overdue_issue(client, session, p)
    on_time = (await report(client, p, title="绿化带杂草"))["id"]
    r = await act(client, p, on_time, p.committee, "dispatch", handler_id=p.handler_id)
    assert r.status_code == 200

    first = await scheduled.run_once()
    assert first.ran and first.escalated == [iid]
    again = await scheduled.run_once()
    assert again.ran and again.escalated == []

    (event,) = await escalations(session, iid)
    assert event.data == {"reason": "overdue"} and event.actor_id is None
    detail = (await client.get(f"/api/v1/communities/{p.c.id}/issues/{iid}", headers=f.auth(p.resident))).json()
    assert detail["escalated"] is True and detail["overdue"] is True
    assert detail["status"] == "dispatched"  # escalation flags, it does not change the state
    timeline = (await client.get(f"/api/v1/communities/{p.c.id}/issues/{iid}/timeline",
                                 headers=f.auth(p.resident))).json()
    assert [e["action"] for e in timeline][-1] == "escalate" and timeline[-1]["data"] == {"reason": "overdue"}
    assert await escalations(session, on_time) == []


async def test_closed_or_unscheduled_issues_are_not_swept(client, session):
    p = await place(client, session)
    iid = await overdue_issue(client, session, p)
    after = await photo(client, p.c, p.handler)
    assert (await act(client, p, iid, p.handler, "resolve", note="修好了", photo_ids=[after])).status_code == 200
    assert (await act(client, p, iid, p.resident, "verify")).status_code == 200
    await report(client, p, title="还没派单的问题")  # no deadline yet

    assert (await scheduled.run_once()).escalated == []


async def test_the_level_above_is_told_and_sees_it_in_the_region_view(client, session):
    p = await place(client, session)
    district, street, street_admin, district_admin = await under_a_street(session, p)
    iid = await overdue_issue(client, session, p)
    await report(client, p, title="没有超期的问题")
    await scheduled.run_once()

    for admin, region in ((street_admin, street), (district_admin, district)):
        r = await client.get(f"/api/v1/regions/{region.id}/escalations", headers=f.auth(admin))
        assert r.status_code == 200, r.text
        (item,) = r.json()["items"]
        assert item["id"] == iid and item["community_name"] == "幸福里社区" and item["overdue"] is True
        assert item["escalation_reason"] == "overdue" and item["category"] == "照明"
        (n,) = await inbox(client, admin)
        assert n["kind"] == "issue.escalated" and n["data"]["issue_id"] == iid
        assert n["text"] == "幸福里社区：「3栋路灯不亮」超期未办结，已升级督办"
    (n,) = await inbox(client, street_admin, "en")
    assert n["text"] == "幸福里社区: “3栋路灯不亮” is past its deadline and has been escalated"
    assert [x["kind"] for x in await inbox(client, p.committee)] == ["issue.escalated", "issue.reported",
                                                                      "issue.reported"]
    # The residents and the handler are not the level above.
    assert [x["kind"] for x in await inbox(client, p.resident)] == ["issue.status_changed"]
    assert [x["kind"] for x in await inbox(client, p.handler)] == ["issue.assigned"]


async def test_others_may_not_see_a_regions_escalations(client, session):
    p = await place(client, session)
    _, street, _, _ = await under_a_street(session, p)
    await overdue_issue(client, session, p)
    await scheduled.run_once()
    elsewhere = await f.region(session, "纸坊街道", "street")
    other_admin = await f.person(session, name="别的街道")
    session.add(RegionAdmin(region_id=elsewhere.id, person_id=other_admin.id))
    await session.commit()

    for who in (p.resident, p.committee, other_admin):
        assert_problem(await client.get(f"/api/v1/regions/{street.id}/escalations", headers=f.auth(who)), 404)
    assert_problem(await client.get("/api/v1/regions/nope/escalations", headers=f.auth(other_admin)), 404)
    assert_problem(await client.get(f"/api/v1/regions/{street.id}/escalations"), 401)
    r = await client.get(f"/api/v1/regions/{elsewhere.id}/escalations", headers=f.auth(other_admin))
    assert r.status_code == 200 and r.json()["items"] == []


async def test_a_third_reopen_escalates_and_tells_the_level_above(client, session):
    p = await place(client, session)
    _, _, street_admin, _ = await under_a_street(session, p)
    issue = await report(client, p)
    iid = issue["id"]
    assert (await act(client, p, iid, p.committee, "dispatch", handler_id=p.handler_id)).status_code == 200
    for _ in range(3):
        after = await photo(client, p.c, p.handler)
        assert (await act(client, p, iid, p.handler, "resolve", note="修了", photo_ids=[after])).status_code == 200
        assert (await act(client, p, iid, p.resident, "reopen", reason="还是坏的")).status_code == 200
    (n,) = await inbox(client, street_admin)
    assert n["data"]["reason"] == "reopened" and "多次被退回" in n["text"]
    assert (await scheduled.run_once()).escalated == []  # already escalated: the sweep leaves it
    assert len(await escalations(session, iid)) == 1


async def _sweep_in_own_session() -> scheduled.SweepResult:
    async with db.sessionmaker()() as s:
        result = await scheduled.sweep(s, clock.now())
        await s.commit()
        return result


async def test_two_sweeps_at_once_escalate_each_issue_once(client, session):
    p = await place(client, session)
    ids = [await overdue_issue(client, session, p, title=f"路灯{i}") for i in range(3)]

    results = await asyncio.gather(_sweep_in_own_session(), _sweep_in_own_session())

    assert sorted(i for r in results for i in r.escalated) == sorted(ids)
    for iid in ids:
        assert len(await escalations(session, iid)) == 1
    q = select(func.count()).select_from(IssueEvent).where(IssueEvent.action == "escalate")
    assert (await session.execute(q)).scalar_one() == 3


async def test_a_lease_has_one_holder_until_it_expires(app):
    maker = async_sessionmaker(db.get_engine(), expire_on_commit=False)
    ttl = timedelta(minutes=5)
    async with maker() as s:
        assert await lease.acquire(s, "test.job", "a", ttl)
        assert not await lease.acquire(s, "test.job", "b", ttl)
        assert await lease.acquire(s, "test.job", "a", ttl)  # the holder renews
        await s.execute(update(Lease).where(Lease.name == "test.job").values(expires_at=clock.now()))
        await s.commit()
        assert await lease.acquire(s, "test.job", "b", ttl)  # expired: another takes it
        assert not await lease.acquire(s, "test.job", "a", ttl)
        await lease.release(s, "test.job", "b")
        await s.commit()
        assert await lease.acquire(s, "test.job", "a", ttl)
    race = await asyncio.gather(*(_acquire(maker, "test.race", f"h{i}") for i in range(5)))
    assert sorted(race) == [False, False, False, False, True]


async def _acquire(maker: async_sessionmaker[AsyncSession], name: str, holder: str) -> bool:
    async with maker() as s:
        return await lease.acquire(s, name, holder, timedelta(minutes=5))


async def test_a_sweep_waits_while_another_holds_the_lease(app):
    async with db.sessionmaker()() as s:
        assert await lease.acquire(s, scheduled.LEASE, "another-process", timedelta(minutes=5))
    skipped = await scheduled.run_once()
    assert skipped.ran is False and skipped.escalated == []


def test_wugong_sweep_runs_once_and_says_what_it_did(tmp_path: Path) -> None:
    data = tmp_path / "data"
    url = f"sqlite+aiosqlite:///{data / 'wugong.db'}"
    env = {**os.environ, "WUGONG_DATA_DIR": str(data), "WUGONG_DATABASE_URL": url, "WUGONG_SMS_BACKEND": "console"}

    def wugong(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60, check=False)

    assert wugong("migrate").returncode == 0
    issue_id = asyncio.run(_overdue_issue_in(url))

    done = wugong("sweep")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"Escalated 1 overdue issue(s): {issue_id}",
                                        "Polls: 0 opened, 0 closed, 0 made final."]
    again = wugong("sweep")
    assert again.returncode == 0 and again.stdout.splitlines()[0] == "No overdue issues to escalate."
    with sqlite3.connect(data / "wugong.db") as conn:
        assert conn.execute("SELECT count(*) FROM issue_events WHERE action = 'escalate'").fetchone()[0] == 1
        assert conn.execute("SELECT escalated_at FROM issues").fetchone()[0] is not None
        assert conn.execute("SELECT count(*) FROM notifications WHERE kind = 'issue.escalated'").fetchone()[0] == 1


async def _overdue_issue_in(url: str) -> str:
    engine = db.make_engine(url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as s:
            c = await f.community(s)
            await f.member(s, c, "committee", name="陈主任")
            issue = Issue(community_id=c.id, title="井盖松动", status="dispatched",
                          deadline_at=clock.now() - timedelta(days=1))
            s.add(issue)
            await s.commit()
            return issue.id
    finally:
        await engine.dispose()
