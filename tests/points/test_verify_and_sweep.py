"""``wugong verify-ledger`` finds a balance or a board total that no longer matches the entries; the
sweep expires unclaimed orders (refunded once, reminded the day before) and, where the community's
rule says so, points at the end of their year + N, first in first out, once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update

from app.core import clock, db
from app.points import rules as arithmetic
from app.points import scheduled
from app.points import service as points
from app.points.models import Balance, Rules, StoreOrder, Total
from tests import factories as f
from tests.points import support as s

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WUGONG_DATABASE_URL": os.environ["WUGONG_DATABASE_URL"]}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


async def test_verify_ledger_passes_a_true_ledger_and_names_a_tampered_balance(client: Any, session: Any) -> None:
    e = await s.estate(session)
    await s.bonus(client, e, [e.resident, e.neighbour], 40)
    await s.bonus(client, e, e.resident, 30, unit="hours")
    it = await s.item(client, e, price=15)
    await s.redeem(client, e, e.resident, it["id"])
    ok = await asyncio.to_thread(run_cli, "verify-ledger")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "ledger OK" in ok.stdout and "4 entries, 3 balances checked" in ok.stdout
    await session.execute(update(Balance).where(Balance.person_id == e.neighbour.id, Balance.unit == "points")
                          .values(balance=400))
    await session.commit()
    bad = await asyncio.to_thread(run_cli, "verify-ledger")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert f"person={e.neighbour.id} unit=points: entries say 40, balance holds 400" in bad.stdout
    assert "1 difference(s)" in bad.stdout


async def test_verify_ledger_names_a_tampered_board_total(client: Any, session: Any) -> None:
    e = await s.estate(session)
    await s.bonus(client, e, e.resident, 40)
    await session.execute(update(Total).where(Total.person_id == e.resident.id, Total.period == "all")
                          .values(gained=4000))
    await session.commit()
    bad = await asyncio.to_thread(run_cli, "verify-ledger")
    assert bad.returncode == 1 and "period=all: entries say 40/0, total holds 4000/0" in bad.stdout, bad.stdout


async def test_an_unclaimed_order_is_reminded_then_expires_and_is_refunded_once(client: Any, session: Any) -> None:
    e = await s.estate(session)
    await client.put(e.url("/points/rules"), headers=f.auth(e.committee), json={"points_per_hour": 10,
                                                                               "pickup_days": 3})
    await s.bonus(client, e, e.resident, 50)
    it = await s.item(client, e, name="面粉", price=20, stock=1)
    order = (await s.redeem(client, e, e.resident, it["id"])).json()
    due = datetime.fromisoformat(order["expires_at"])
    assert timedelta(days=2, hours=23) < due - clock.now() <= timedelta(days=3)
    early = await scheduled.run_once(due - timedelta(days=2))
    assert early.ran and early.expired_orders == [] and early.reminded_orders == []
    eve = await scheduled.run_once(due - timedelta(hours=20))
    assert eve.reminded_orders == [order["id"]]
    assert (await scheduled.run_once(due - timedelta(hours=10))).reminded_orders == []  # once
    inbox = (await client.get("/api/v1/notifications", headers=f.auth(e.resident))).json()["items"]
    assert inbox[0]["text"].startswith("「面粉」还没领取，")
    late = await scheduled.run_once(due + timedelta(minutes=1))
    assert late.expired_orders == [order["id"]]
    assert (await scheduled.run_once(due + timedelta(minutes=2))).expired_orders == []
    assert await s.balance(client, e, e.resident) == (50, 0)
    mine = (await client.get(e.url(f"/store/orders/{order['id']}"), headers=f.auth(e.resident))).json()
    assert (mine["status"], mine["status_text"], mine["code"]) == ("expired", "已过期", None)
    texts = [x["text"] for x in (await s.my_points(client, e, e.resident))["entries"]]
    assert texts[0] == "订单「面粉」过期未领取，积分退回"
    assert (await client.get(e.url(f"/store/items/{it['id']}"), headers=f.auth(e.resident))).json()["stock"] == 1
    f.assert_problem(await client.post(e.url("/store/pickups"), headers=f.auth(e.committee),
                                       json={"code": order["code"]}), 409, "store.code_closed")


async def _at(when: datetime, work: Any) -> None:
    with clock.fixed_at(when):
        async with db.sessionmaker()() as w:
            await work(w)
            await w.commit()


async def test_points_expire_at_the_end_of_the_next_year_first_in_first_out(client: Any, session: Any) -> None:
    e = await s.estate(session)
    session.add(Rules(community_id=e.c.id, points_per_hour=10, expiry_years=1, pickup_days=14))
    await session.commit()
    pid = e.resident.id

    def bonus(amount: int) -> Any:
        return lambda w: points.post(w, community_id=e.c.id, person_id=pid, unit=points.Unit.points,
                                     kind=points.Kind.bonus, amount=amount, actor_id=None, reason="志愿")

    def spend(amount: int) -> Any:
        return lambda w: points.post(w, community_id=e.c.id, person_id=pid, unit=points.Unit.points,
                                     kind=points.Kind.adjusted, amount=-amount, actor_id=None, reason="兑换")

    await _at(datetime(2024, 5, 1, tzinfo=UTC), bonus(100))
    await _at(datetime(2025, 2, 1, tzinfo=UTC), spend(30))  # taken from 2024's points first
    await _at(datetime(2025, 6, 1, tzinfo=UTC), bonus(50))
    # during 2025 nothing has expired yet; the sweep in 2026 expires what is left of 2024's (70)
    assert (await scheduled.run_once(datetime(2025, 12, 31, 15, tzinfo=UTC))).expired_entries == 0
    first = await scheduled.run_once(datetime(2026, 1, 2, tzinfo=UTC))
    assert first.expired_entries == 1
    assert (await scheduled.run_once(datetime(2026, 1, 3, tzinfo=UTC))).expired_entries == 0
    assert await s.balance(client, e, e.resident) == (50, 0)
    entry = (await s.my_points(client, e, e.resident))["entries"][0]
    assert (entry["kind"], entry["amount"], entry["text"]) == ("expired", -70, "2024年及以前获得的积分按社区规则到期")
    inbox = (await client.get("/api/v1/notifications", headers=f.auth(e.resident))).json()["items"]
    assert inbox[0]["text"] == "您2024年及以前获得的 70 积分按社区规则已到期"
    # 2027: 2025's 50 go too
    assert (await scheduled.run_once(datetime(2027, 1, 1, 1, tzinfo=UTC))).expired_entries == 1
    assert await s.balance(client, e, e.resident) == (0, 0)
    rules = (await session.execute(select(Rules).where(Rules.community_id == e.c.id))).scalar_one()
    assert rules.expired_through == 2025


async def test_hours_and_communities_without_the_rule_never_expire(client: Any, session: Any) -> None:
    e = await s.estate(session)
    await _at(datetime(2020, 5, 1, tzinfo=UTC), lambda w: points.post(
        w, community_id=e.c.id, person_id=e.resident.id, unit=points.Unit.points, kind=points.Kind.bonus,
        amount=10, actor_id=None))
    await s.bonus(client, e, e.resident, 60, unit="hours")
    assert (await scheduled.run_once(datetime(2030, 1, 1, tzinfo=UTC))).expired_entries == 0
    assert await s.balance(client, e, e.resident) == (10, 60)


async def test_a_sweep_that_finds_the_lease_taken_does_nothing(client: Any, session: Any) -> None:
    from app.core import lease

    async with db.sessionmaker()() as w:
        assert await lease.acquire(w, scheduled.LEASE, "someone-else", timedelta(minutes=5))
    assert (await scheduled.run_once()).ran is False
    assert (await session.execute(select(StoreOrder))).scalars().all() == []


# --- the arithmetic, directly -----------------------------------------------------------------------

def test_hours_read_as_people_say_them() -> None:
    assert [arithmetic.hours_text(m) for m in (0, 60, 90, 20, 125, -90)] == ["0", "1", "1.5", "0.33", "2.08", "-1.5"]


@given(st.integers(0, 10_000), st.integers(0, 10_000), st.one_of(st.none(), st.integers(0, 10_000)))
def test_a_capped_award_never_passes_the_cap_nor_the_ask(requested: int, earned: int, cap: int | None) -> None:
    paid = arithmetic.capped(requested, earned, cap)
    assert 0 <= paid <= requested
    if cap is not None:
        assert earned + paid <= max(cap, earned)
        assert paid == requested or earned + paid >= cap


@given(st.integers(0, 10_000), st.integers(0, 10_000), st.integers(0, 10_000))
def test_expiry_never_takes_more_than_is_held_or_left_of_the_old_credits(old: int, debits: int, held: int) -> None:
    out = arithmetic.to_expire(old, debits, held)
    assert 0 <= out <= held and out <= max(0, old - debits)


def test_months_are_beijing_months() -> None:
    # 2026-11-30 17:00 UTC is 1 December in Beijing
    assert arithmetic.month_of(datetime(2026, 11, 30, 17, tzinfo=UTC)) == "2026-12"
    start, end = arithmetic.month_bounds("2026-12")
    assert (start, end) == (datetime(2026, 11, 30, 16, tzinfo=UTC), datetime(2026, 12, 31, 16, tzinfo=UTC))


async def test_wugong_sweep_says_what_it_did_with_the_store(client: Any, session: Any) -> None:
    e = await s.estate(session)
    await s.bonus(client, e, e.resident, 50)
    order = (await s.redeem(client, e, e.resident, (await s.item(client, e, price=20))["id"])).json()
    await session.execute(update(StoreOrder).where(StoreOrder.id == order["id"])
                          .values(expires_at=clock.now() - timedelta(minutes=1)))
    await session.commit()
    done = await asyncio.to_thread(run_cli, "sweep")
    assert done.returncode == 0, done.stderr
    assert "Points: 1 unclaimed order(s) expired and refunded, 0 reminded, 0 expiry entr(ies) written." in \
        done.stdout.splitlines()
    assert await s.balance(client, e, e.resident) == (50, 0)
    quiet = await asyncio.to_thread(run_cli, "sweep")
    assert not [line for line in quiet.stdout.splitlines() if line.startswith("Points")]
