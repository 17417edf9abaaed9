"""The demo compound's points 爱心积分, time bank 时间银行 and store 积分超市: a month of history
behind the honour board, through the services, each step at the time it happened.

``seed_demo`` plans its steps on the demo's timeline (app/demo.py ``_Timeline``): people are
named by their key in the demo's cast ("committee", "owner", "resident", "leader", "grid", "n0" …
"n9") and their scope is read when they first act. The store is stocked (one item given by a local
business, one by an organisation, one taken off sale), the printed owner has an order waiting for
pickup (his home shows it), and there are orders handed over, cancelled and expired. One neighbour
chose not to be named on the board. Task rewards ("earned") come from app/tasks' own demo; here the
committee's bonuses, a correction and hours given and held stand for a month of volunteering.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.communities.deps import CommunityScope
from app.core import clock
from app.points import service as points
from app.points import store
from app.points.schemas import ItemCreate, RulesUpdate
from app.points.service import Unit

Step = Callable[[], Awaitable[object]]
ScopeOf = Callable[[str], Awaitable[CommunityScope]]

# (when, who, amount, unit, reason): the committee's thanks for the month's volunteering
BONUSES: tuple[tuple[str, tuple[str, ...], int, str, str], ...] = (
    ("30 10:00", ("owner", "resident", "leader", *(f"n{i}" for i in range(10))), 50, "points",
     "首批志愿者登记"),
    ("29 18:00", ("n0", "n1", "n2", "n3", "owner"), 20, "points", "周六清扫楼道和楼下绿化带"),
    ("27 20:30", ("leader", "n4"), 15, "points", "协助组织小区夜话"),
    ("24 17:40", ("n5", "n6", "resident"), 20, "points", "清理1栋至4栋楼道小广告"),
    ("22 11:00", ("n7",), 30, "points", "义务维修单元门禁"),
    ("20 16:30", ("n0", "n3", "n8"), 10, "points", "垃圾分类督导值守"),
    ("18 19:00", ("owner", "n2", "n9"), 25, "points", "老旧小区改造意愿入户宣传"),
    ("15 10:30", ("n1", "n4", "n6"), 120, "hours", "陪独居老人去医院复诊"),
    ("12 09:00", ("leader", "n5"), 20, "points", "重阳节为老人包饺子"),
    ("9 18:30", ("n3", "n7", "resident"), 15, "points", "雨后疏通排水沟"),
    ("6 16:00", ("n0", "n2", "n8", "n9"), 10, "points", "屋场会摆放桌椅和签到"),
    ("4 20:00", ("owner", "n6"), 90, "hours", "帮邻居修理水管"),
    ("2 17:30", ("n1", "n4", "n5", "grid"), 20, "points", "冬季消防隐患排查"),
    ("1 19:00", ("n3", "resident", "n8"), 15, "points", "清扫落叶"),
)

ITEMS = (
    ItemCreate(name="东北大米 5kg", description="社区统一采购，凭核销码到居委会领取。", price=120, stock=20,
               per_person_limit=2),
    ItemCreate(name="洗衣液 2L", price=40, stock=36, per_person_limit=3),
    ItemCreate(name="保温杯", description="不锈钢 500ml", price=80, stock=8, per_person_limit=1,
               sponsor="幸福里便民超市", sponsor_kind="merchant"),
    ItemCreate(name="义诊体检券", description="社区卫生服务中心每月第二个周三上午", price=30, stock=15,
               sponsor="花山街道社区卫生服务中心", sponsor_kind="organisation"),
    ItemCreate(name="环保购物袋", price=10, stock=0, on_sale=False),
)

OPTED_OUT = "n2"
"""The neighbour who chose not to be named on the honour board (一位邻居)."""


@dataclass
class PointsDemo:
    items: dict[str, str] = field(default_factory=dict)  # name -> id
    orders: dict[str, str] = field(default_factory=dict)  # state -> order id


async def seed_demo(session: AsyncSession, *, scope_of: ScopeOf, at: Callable[[str], datetime],
                    schedule: Callable[[datetime, Step], None]) -> PointsDemo:
    """Plan the month on the timeline (``schedule(when, step)``; ``at("3 19:40")``: three days ago,
    Beijing time). Returns what it made, filled in as the timeline runs."""
    made = PointsDemo()

    async def rules() -> None:
        await points.update_rules(session, await scope_of("committee"),
                                  RulesUpdate(points_per_hour=10, monthly_cap=300, expiry_years=1,
                                              pickup_days=14).model_dump())

    async def stock() -> None:
        committee = await scope_of("committee")
        for data in ITEMS:
            made.items[data.name] = (await store.create_item(session, committee, data)).id

    schedule(at("30 09:00"), rules)
    schedule(at("30 09:20"), stock)

    for when, keys, amount, unit, reason in BONUSES:
        async def give(keys: tuple[str, ...] = keys, amount: int = amount, unit: str = unit,
                       reason: str = reason) -> None:
            people = [(await scope_of(k)).person.id for k in keys]
            await points.give_bonus(session, await scope_of("committee"), person_ids=people, unit=Unit(unit),
                                    amount=amount, reason=reason)
        schedule(at(when), give)

    async def correction() -> None:
        await points.adjust(session, await scope_of("committee"), person_id=(await scope_of("n9")).person.id,
                            unit=Unit.points, amount=-5, reason="6日签到重复登记，更正")

    async def donation() -> None:
        await points.donate(session, await scope_of("n1"), to_person_id=(await scope_of("leader")).person.id,
                            minutes=60, note="给张阿姨，请志愿者陪她买菜")

    async def opt_out() -> None:
        n = await scope_of(OPTED_OUT)
        await points.set_board_visibility(session, n.community_id, n.person.id, False)

    schedule(at("5 10:00"), correction)
    schedule(at("14 15:00"), donation)
    schedule(at("17 21:00"), opt_out)

    async def redeem(key: str, item: str, state: str, quantity: int = 1) -> None:
        made.orders[state] = (await store.redeem(session, await scope_of(key), made.items[item], quantity)).id

    async def expiring() -> None:  # fourteen days later the sweep expires it and refunds the points
        await redeem("n0", "洗衣液 2L", "expired")

    async def picked_up() -> None:
        await redeem("n3", "洗衣液 2L", "fulfilled")

    async def hand_over() -> None:
        committee = await scope_of("committee")
        order = await store.visible_order(session, committee, made.orders["fulfilled"])
        await store.pickup(session, committee, store.pickup_code(order))

    async def changed_mind() -> None:
        await redeem("resident", "义诊体检券", "cancelled")
        await store.transition(session, await scope_of("resident"), made.orders["cancelled"], "cancel", "")

    async def sweep() -> None:
        await store.sweep(session, clock.now())

    async def waiting() -> None:
        await redeem("owner", "保温杯", "ready")

    async def rice() -> None:
        await redeem("n7", "洗衣液 2L", "ready_n7", 2)

    schedule(at("26 19:10"), expiring)
    schedule(at("19 08:40"), picked_up)
    schedule(at("19 09:15"), hand_over)
    schedule(at("11 20:20"), changed_mind)
    schedule(at("10 10:00"), sweep)
    schedule(at("3 18:45"), waiting)
    schedule(at("2 19:30"), rice)
    return made
