"""Demo data: one street 街道 with an old residential compound and a village, and a person in every role.

The places are what a committee would have on paper before going digital: 幸福里社区, a 1990s
compound of 12 six-storey buildings in 3 grids (about 300 households with their exclusive
areas in m²), and 李家墩村, a village of 4 villager groups 村民小组. Each imported its household
roster 住户花名册 the way a committee does (a spreadsheet through ``import_roster``); residents
joined by the invite link, some matched by the roster, some waiting for the committee.

Deterministic (a fixed random seed), and loaded only into a database without communities.
Everything goes through the domain services where a rule lives (regions, communities, roster,
memberships, invites, joins); the households are entered as a survey 摸底 would have listed them.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import service as accounts_service
from app.accounts.models import Person
from app.communities import service as communities_service
from app.communities.models import Building, Community, Grid, Household
from app.communities.schemas import (
    BuildingCreate,
    CommunityCreate,
    GridCreate,
    InviteCreate,
    MemberUpdate,
    RegionCreate,
)
from app.core.policy import Role

SEED = 2024
DEMO_PASSWORD = "wugong-demo"
COMPOUND = "幸福里社区"
VILLAGE = "李家墩村"
STREET = "花山街道"


@dataclass(frozen=True)
class DemoAccount:
    phone: str
    name: str
    role: str  # what the table shows
    place: str
    username: str | None = None


PLATFORM_ADMIN = DemoAccount("13800000000", "系统管理员", "platform admin 平台管理员", "全平台", "admin")
COMMITTEE = DemoAccount("13800000001", "陈丽华", "committee 两委", COMPOUND, "committee")
GRID_WORKER = DemoAccount("13800000002", "刘建国", "grid worker 网格员 · 第一网格", COMPOUND, "grid")
BUILDING_LEADER = DemoAccount("13800000003", "张桂兰", "building leader 楼栋长 · 1栋", COMPOUND)
HANDLER = DemoAccount("13800000004", "王志强", "handler 处置人 · 幸福里物业", COMPOUND, "handler")
OWNER = DemoAccount("13800000005", "李明", "owner 业主 · 1栋1单元301", COMPOUND)
RESIDENT = DemoAccount("13800000006", "赵敏", "resident 居民", COMPOUND)
VILLAGE_COMMITTEE = DemoAccount("13800000007", "李德福", "committee 村委会", VILLAGE, "village")
REGION_ADMIN = DemoAccount("13800000009", "周海燕", "region admin 街道干部", STREET, "street")

ACCOUNTS = (PLATFORM_ADMIN, COMMITTEE, GRID_WORKER, BUILDING_LEADER, HANDLER, OWNER, RESIDENT,
            VILLAGE_COMMITTEE, REGION_ADMIN)

# People who used the invite link but are not on the roster: the committee's queue.
APPLICANTS = (("13800000011", "吴晓东", "3栋2单元502"), ("13800000012", "郑秀英", "7栋1单元201"),
              ("13800000013", "何俊", "11栋2单元602"))


class DemoPresent(Exception):
    """The database already has communities; demo data goes only into an empty one."""

    def __init__(self, demo_loaded: bool) -> None:
        super().__init__("demo data already loaded" if demo_loaded else "database has communities")
        self.demo_loaded = demo_loaded


@dataclass
class DemoResult:
    communities: dict[str, str] = field(default_factory=dict)  # name -> id
    invites: dict[str, str] = field(default_factory=dict)  # community name -> invite code
    buildings: int = 0
    households: int = 0
    roster_entries: int = 0
    pending_joins: int = 0


# --- names and numbers -------------------------------------------------------------------------

_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜"
             "叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶"
             "黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
_GIVEN = ("伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
          "超", "秀兰", "霞", "平", "刚", "桂英", "建国", "建华", "志强", "海燕", "晓东", "春梅", "玉兰", "红梅",
          "国庆", "建军", "凤英", "淑珍", "德福", "家豪", "子涵", "梓轩", "欣怡", "雨桐", "诗涵", "一诺", "浩然",
          "思远", "佳琪", "晨阳", "俊杰", "文静", "丽娟", "秀珍", "玉珍", "金凤", "桂芳", "志明", "文华", "永强",
          "春华", "海涛", "宏伟", "晓燕", "小红", "丹", "萍", "琳", "鹏", "飞", "宇", "浩", "辉", "斌", "卫东",
          "爱华", "红霞", "秀梅", "丽萍", "雪梅", "婷婷", "佳怡", "子轩", "宇航", "欣然", "梓涵", "文斌", "小军")
_PHONE_PREFIXES = ("135", "136", "137", "139", "150", "151", "152", "158", "159", "182", "187", "188", "199")


class _People:
    """Plausible names and unique phones from one seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.phones: set[str] = {a.phone for a in ACCOUNTS} | {p for p, _, _ in APPLICANTS}

    def given(self) -> str:
        return self.rng.choice(_GIVEN)

    def surname(self, common: str | None = None, share: float = 0.0) -> str:
        # The common surnames come first in the list: weight them like a real register.
        if common and self.rng.random() < share:
            return common
        return _SURNAMES[min(int(self.rng.expovariate(1 / 18)), len(_SURNAMES) - 1)]

    def phone(self) -> str:
        while True:
            p = self.rng.choice(_PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if p not in self.phones:
                self.phones.add(p)
                return p


@dataclass
class _Row:
    name: str
    phone: str
    building: str
    unit: str
    room: str
    area: Decimal | None
    owner: bool


def _family(people: _People, h: Household, building: str, *, common: str | None = None,
            share: float = 0.0) -> list[_Row]:
    """The owner, then 0–3 others living with them (spouse, children, a parent)."""
    surname = people.surname(common, share)
    rows = [_Row(surname + people.given(), people.phone(), building, h.unit, h.room, h.owner_area_m2, True)]
    for i in range(people.rng.choices((0, 1, 2, 3), weights=(30, 40, 22, 8))[0]):
        other = people.surname() if i == 0 else surname  # a spouse, then children
        rows.append(_Row(other + people.given(), people.phone(), building, h.unit, h.room, None, False))
    return rows


def _roster_csv(rows: list[_Row]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["姓名", "手机号", "楼栋", "单元", "房号", "面积", "业主"])
    for r in rows:
        w.writerow([r.name, r.phone, r.building, r.unit, r.room, "" if r.area is None else str(r.area),
                    "是" if r.owner else "否"])
    return out.getvalue().encode("utf-8")


def _m2(value: float) -> Decimal:
    return Decimal(str(round(value, 2))).quantize(Decimal("0.01"))


# --- loading ---------------------------------------------------------------------------------

async def present(session: AsyncSession) -> DemoPresent | None:
    """Why demo data can't be loaded here (already loaded, or a real database), or None."""
    communities = (await session.execute(select(func.count()).select_from(Community))).scalar_one()
    if not communities:
        return None
    committee = (await session.execute(select(Person.id).where(Person.phone == COMMITTEE.phone))).first()
    return DemoPresent(demo_loaded=committee is not None)


async def _person(session: AsyncSession, account: DemoAccount) -> Person:
    person = Person(phone=account.phone, name=account.name)
    session.add(person)
    await session.flush()
    if account.username:
        await accounts_service.set_password(session, person, account.username, DEMO_PASSWORD)
    return person


async def load(session: AsyncSession) -> DemoResult:
    """Load the demo into ``session`` (flushed, not committed). Raises DemoPresent if not empty."""
    reason = await present(session)
    if reason is not None:
        raise reason
    rng = random.Random(SEED)
    people = _People(rng)
    result = DemoResult()

    admin = await accounts_service.create_admin(session, PLATFORM_ADMIN.phone, name=PLATFORM_ADMIN.name,
                                                username=PLATFORM_ADMIN.username, password=DEMO_PASSWORD)
    city = await communities_service.create_region(session, admin, RegionCreate(name="武汉市", level="city"))
    district = await communities_service.create_region(
        session, admin, RegionCreate(name="洪山区", level="district", parent_id=city.id))
    street = await communities_service.create_region(
        session, admin, RegionCreate(name=STREET, level="street", parent_id=district.id))
    street_admin = await _person(session, REGION_ADMIN)
    await communities_service.add_region_admin(session, street.id, street_admin.id)

    compound = await communities_service.create_community(session, admin, CommunityCreate(
        name=COMPOUND, kind="community", region_id=street.id, address="武汉市洪山区花山街道幸福里1号",
        description="建于1990年代的老旧小区：12栋六层住宅，3个网格，约300户。"
                    "正在征集老旧小区改造意愿，屋场会每月第一个周六在小区广场召开。"))
    village = await communities_service.create_community(session, admin, CommunityCreate(
        name=VILLAGE, kind="village", region_id=street.id, address="武汉市洪山区花山街道李家墩村",
        description="4个村民小组，以李姓为主。村湾环境整治与村民议事会在村委会二楼。"))
    result.communities = {COMPOUND: compound.id, VILLAGE: village.id}

    committee = await _person(session, COMMITTEE)
    await communities_service.add_member(session, compound.id, committee, [Role.committee],
                                         display_name="陈丽华（社区书记）")
    village_committee = await _person(session, VILLAGE_COMMITTEE)
    await communities_service.add_member(session, village.id, village_committee, [Role.committee],
                                         display_name="李德福（村委会主任）")

    first_grid, leader_home, owner_home = await _compound_places(session, rng, committee, compound.id)
    compound_rows = await _compound_roster(session, people, compound.id, leader_home, owner_home)
    await _village_places(session, rng, village_committee, village.id)
    village_rows = await _village_roster(session, people, village.id)
    result.roster_entries = len(compound_rows) + len(village_rows)

    grid_worker = await _person(session, GRID_WORKER)
    m = await communities_service.add_member(session, compound.id, grid_worker, [Role.grid_worker],
                                             display_name="刘建国（第一网格网格员）")
    await communities_service.update_member(session, committee, compound.id, m.id,
                                            MemberUpdate(grid_ids=[first_grid.id]))
    leader = await _person(session, BUILDING_LEADER)
    await communities_service.add_member(session, compound.id, leader, [Role.building_leader, Role.owner],
                                         household_id=leader_home.id, building_id=leader_home.building_id)
    handler = await _person(session, HANDLER)
    await communities_service.add_member(session, compound.id, handler, [Role.handler],
                                         display_name="王志强（幸福里物业）")

    # Both rosters are in before anyone joins, so joining by invite matches them.
    await communities_service.import_roster(session, committee, compound.id, _roster_csv(compound_rows),
                                            "幸福里社区住户花名册.csv", "zh-CN")
    await communities_service.import_roster(session, village_committee, village.id, _roster_csv(village_rows),
                                            "李家墩村村民花名册.csv", "zh-CN")

    compound_invite = await communities_service.create_invite(
        session, committee, compound.id, InviteCreate(expires_in_days=365, note="居民微信群邀请"))
    village_invite = await communities_service.create_invite(
        session, village_committee, village.id, InviteCreate(expires_in_days=365, note="村民微信群邀请"))
    result.invites = {COMPOUND: compound_invite.code, VILLAGE: village_invite.code}

    owner = await _person(session, OWNER)  # on the roster: joins straight in, as an owner
    await communities_service.join(session, owner, compound_invite.code, OWNER.name, "")
    resident = await _person(session, RESIDENT)  # a tenant, not on the roster: the committee approved her
    joined = await communities_service.join(session, resident, compound_invite.code, RESIDENT.name, "9栋1单元402")
    assert joined.join_request_id is not None
    await communities_service.decide_join(session, committee, compound.id, joined.join_request_id, approve=True)
    for phone, name, room in APPLICANTS:
        applicant = await _person(session, DemoAccount(phone, name, "", COMPOUND))
        await communities_service.join(session, applicant, compound_invite.code, name, room)
        result.pending_joins += 1

    result.buildings = (await session.execute(select(func.count()).select_from(Building))).scalar_one()
    result.households = (await session.execute(select(func.count()).select_from(Household))).scalar_one()
    return result


# 1990s floor plans: the two flats on a landing (x01, x02), exclusive area in m².
_PLANS = ((56.38, 71.62), (62.15, 78.40), (68.92, 86.27), (74.50, 95.83), (88.16, 109.44), (104.72, 138.95))


async def _compound_places(session: AsyncSession, rng: random.Random, committee: Person,
                           cid: str) -> tuple[Grid, Household, Household]:
    """3 grids of 4 buildings; 6 floors, 2 flats per landing, 2 units (3 in the long buildings)."""
    grids = [await communities_service.create_grid(session, committee, cid, GridCreate(name=n))
             for n in ("第一网格", "第二网格", "第三网格")]
    households: dict[tuple[int, int, int, int], Household] = {}
    for number in range(1, 13):
        building = await communities_service.create_building(
            session, committee, cid, BuildingCreate(name=f"{number}栋", grid_id=grids[(number - 1) // 4].id))
        plan = rng.choice(_PLANS)
        for unit in range(1, 4 if number in (5, 9) else 3):
            for floor in range(1, 7):
                for flat in (1, 2):
                    # Same plan on every floor; surveys differ by a few hundredths.
                    area = _m2(plan[flat - 1] + rng.choice((0.0, 0.0, 0.0, 0.06, -0.04, 0.11)))
                    room = f"{floor}{flat:02d}"
                    h = Household(community_id=cid, building_id=building.id, unit=f"{unit}单元", room=room,
                                  address=f"{number}栋{unit}单元{room}", owner_area_m2=area)
                    households[(number, unit, floor, flat)] = h
    session.add_all(households.values())
    await session.flush()
    return grids[0], households[(1, 2, 2, 2)], households[(1, 1, 3, 1)]


async def _compound_roster(session: AsyncSession, people: _People, cid: str, leader_home: Household,
                           owner_home: Household) -> list[_Row]:
    """About 85 % of flats have a roster; a few are empty or rented out with no one listed."""
    q = select(Household, Building.name).join(Building, Building.id == Household.building_id).where(
        Household.community_id == cid).order_by(Household.address)
    rows: list[_Row] = []
    for h, building in (await session.execute(q)).all():
        if h.id == leader_home.id:
            rows.append(_Row(BUILDING_LEADER.name, BUILDING_LEADER.phone, building, h.unit, h.room,
                             h.owner_area_m2, True))
            continue
        if h.id == owner_home.id:
            family = _family(people, h, building)
            family[0] = _Row(OWNER.name, OWNER.phone, building, h.unit, h.room, h.owner_area_m2, True)
            rows.extend(family)
            continue
        if people.rng.random() < 0.85:
            rows.extend(_family(people, h, building))
    return rows


async def _village_places(session: AsyncSession, rng: random.Random, committee: Person, cid: str) -> None:
    """4 villager groups, 15–25 houses each, in 2 grids; house floor areas from the 宅基地 survey."""
    grids = [await communities_service.create_grid(session, committee, cid, GridCreate(name=n))
             for n in ("东片网格", "西片网格")]
    houses: list[Household] = []
    for i, label in enumerate("一二三四"):
        group = await communities_service.create_building(session, committee, cid, BuildingCreate(
            name=f"第{label}村民小组", grid_id=grids[i // 2].id, kind="village_group"))
        for number in range(1, rng.randint(15, 25) + 1):
            room = f"{number}号"
            houses.append(Household(community_id=cid, building_id=group.id, unit="", room=room,
                                     address=f"李家墩村{label}组{room}", owner_area_m2=_m2(rng.uniform(118, 265))))
    session.add_all(houses)
    await session.flush()


async def _village_roster(session: AsyncSession, people: _People, cid: str) -> list[_Row]:
    q = select(Household, Building.name).join(Building, Building.id == Household.building_id).where(
        Household.community_id == cid).order_by(Household.address)
    rows: list[_Row] = []
    for h, group in (await session.execute(q)).all():
        if people.rng.random() < 0.92:
            rows.extend(_family(people, h, group, common="李", share=0.6))
    return rows


def accounts_table(result: DemoResult | None = None) -> str:
    """The demo accounts and how to sign in, for the terminal."""
    lines = [f"{'phone':<12} {'username':<10} {'password':<12} who", "-" * 72]
    for a in ACCOUNTS:
        lines.append(f"{a.phone:<12} {a.username or '-':<10} {DEMO_PASSWORD if a.username else '-':<12} "
                     f"{a.name} · {a.role} · {a.place}")
    lines += [
        "",
        "Sign in with phone + one-time code: with the console SMS backend the code appears in the",
        "server log as `SMS to <phone>: code <code>`. Staff may also use username + password.",
        "Pending join requests (幸福里社区): " + ", ".join(f"{n} {p}" for p, n, _ in APPLICANTS),
    ]
    if result is not None and result.invites:
        lines.append("Invite links: " + " · ".join(f"{name} /s/{code}" for name, code in result.invites.items()))
    return "\n".join(lines)
