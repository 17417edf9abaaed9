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
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import service as accounts_service
from app.accounts.models import Person
from app.communities import service as communities_service
from app.communities.deps import CommunityScope
from app.communities.models import Building, Community, Grid, Household
from app.communities.schemas import (
    BuildingCreate,
    CommunityCreate,
    GridCreate,
    InviteCreate,
    MemberUpdate,
    RegionCreate,
)
from app.core import clock, uploads
from app.core.errors import AppError
from app.core.policy import Role
from app.core.storage import Storage, get_storage
from app.issues import service as issues_service
from app.issues.models import Issue
from app.issues.schemas import CommentCreate, HandlerCreate, IssueCreate, TransitionIn
from app.polls import service as polls_service
from app.polls.schemas import BallotIn, OptionIn, PaperBallotIn, PollCreate

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
    issues: dict[str, int] = field(default_factory=dict)  # community name -> issues reported
    polls: dict[str, int] = field(default_factory=dict)  # community name -> polls


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

    issue_rng = random.Random(SEED + 1)  # its own generator: the places and people above stay as they were
    neighbours = await _roster_joins(session, issue_rng, compound_rows, compound_invite.code, 10)
    villagers = await _roster_joins(session, issue_rng, village_rows, village_invite.code, 3)
    staff = _Staff(committee=committee, grid_worker=grid_worker, handler=handler, owner=owner,
                   resident=resident, leader=leader)
    result.issues[COMPOUND] = await _compound_issues(session, issue_rng, compound, staff, neighbours)
    result.issues[VILLAGE] = await _village_issues(session, village, village_committee, villagers)
    result.polls[COMPOUND] = await _compound_polls(session, compound, staff, neighbours)

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


# --- the issue list ----------------------------------------------------------------------------

async def _roster_joins(session: AsyncSession, rng: random.Random, rows: list[_Row], code: str,
                        n: int) -> list[Person]:
    """A few households on the roster joined by the invite link (matched at once): the neighbours
    who report, support and comment on the issue list."""
    taken = {a.phone for a in ACCOUNTS}
    joined: list[Person] = []
    for row in rng.sample([r for r in rows if r.owner and r.phone not in taken], n):
        person = Person(phone=row.phone, name=row.name)
        session.add(person)
        await session.flush()
        await communities_service.join(session, person, code, row.name, "")
        joined.append(person)
    return joined


@dataclass(frozen=True)
class _Staff:
    committee: Person
    grid_worker: Person
    handler: Person
    owner: Person
    resident: Person
    leader: Person


@dataclass(frozen=True)
class _Spec:
    """One issue and the steps it has been through since it was reported (see ``_IssueBook.run``)."""

    title: str
    description: str
    category: str
    building: str | None
    where: str
    reporter: str  # a key of _IssueBook.people
    steps: tuple[str, ...] = ()
    handler: str = "幸福里物业"
    supports: int = 0
    comments: tuple[tuple[str, str], ...] = ()
    note: str = ""  # the handler's resolution note, or what a grid worker did on the spot
    reason: str = ""  # why rejected, reopened or merged
    into: str = ""  # the title of the issue it merges into
    pin: bool = True  # a point on the map (at its building)
    staff_only: bool = False


# 幸福里社区: 12 buildings in three rows of four around (30.5067, 114.4180), all within ~250 m.
CENTRE = (30.5067, 114.4180)
_BUILDING_PINS = {f"{n}栋": (CENTRE[0] + (1 - (n - 1) // 4) * 0.0012, CENTRE[1] + ((n - 1) % 4 - 1.5) * 0.0011)
                  for n in range(1, 13)}

_COMPOUND_ISSUES: tuple[_Spec, ...] = (
    # Waiting for the committee 待受理.
    _Spec("5栋北侧路灯不亮", "5栋北侧小路的路灯已经一个多星期不亮了，晚上下班回来黑漆漆的，老人走路容易摔倒。",
          "照明", "5栋", "5栋北侧小路", "resident", supports=5,
          comments=(("leader", "我们单元的老人也反映了，晚上只能打手电筒。"),)),
    _Spec("8栋下水道堵塞，污水外溢", "8栋1单元门口的下水道堵了，下雨后污水漫到路面，气味很大，孩子上学要绕着走。",
          "排水", "8栋", "8栋1单元门口", "n0", supports=6,
          comments=(("n1", "昨天晚上又冒水了，希望尽快疏通。"), ("owner", "上次疏通是去年夏天，可能管道本身有问题。"))),
    _Spec("楼道堆放杂物，堵塞消防通道", "2栋2单元一楼到三楼楼道里堆了旧家具和纸箱，消防通道被堵，存在火灾隐患。",
          "安全隐患", "2栋", "2栋2单元楼道", "n2", supports=3),
    _Spec("东门车辆乱停，救护车进不来", "小区东门内侧经常有车辆乱停，上周救护车进来都很困难，希望划线并加强管理。",
          "停车", None, "小区东门", "n3", supports=7, pin=False,
          comments=(("resident", "晚上七点以后最严重，建议设个临时停车点。"),)),
    _Spec("广场健身器材损坏", "小区广场的漫步机扶手断了，有尖锐的断口，小孩玩耍容易受伤。",
          "公共服务", "6栋", "小区广场（6栋南侧）", "n4", supports=2),
    _Spec("10栋楼下井盖松动", "10栋楼下的井盖踩上去会晃动并发出响声，晚上看不清，担心有人踩空。",
          "安全隐患", "10栋", "10栋2单元前", "leader", supports=4),
    _Spec("8栋旁污水井冒水", "8栋旁边的污水井往外冒水，路面都是污水。",
          "排水", "8栋", "8栋东侧", "n5", steps=("merge",), into="8栋下水道堵塞，污水外溢",
          reason="与“8栋下水道堵塞，污水外溢”为同一处问题，合并办理。"),
    # Accepted 已受理, waiting to be dispatched.
    _Spec("垃圾清运不及时", "最近三天11栋旁的垃圾站没有清运，垃圾桶满了堆在地上，天气热味道很大。",
          "环境卫生", "11栋", "11栋旁垃圾站", "n6", steps=("accept",), supports=5),
    _Spec("小区主路地砖破损", "从大门到3栋的主路上有多块地砖碎裂翘起，推婴儿车和轮椅很不方便。",
          "道路", "3栋", "大门至3栋主路", "owner", steps=("accept",), supports=2),
    # Dispatched 已派单, with the category's deadline.
    _Spec("4栋路灯忽明忽暗", "4栋门口的路灯一闪一闪的，可能是灯管或线路老化。", "照明", "4栋", "4栋门口",
          "n7", steps=("dispatch",)),
    _Spec("6栋前绿化带缺损", "6栋前的绿化带被踩出一条路，冬青死了一片，下雨天全是泥。", "绿化", "6栋", "6栋前绿化带",
          "n8", steps=("accept", "dispatch"), supports=3),
    _Spec("12栋外墙电线私拉乱接", "12栋外墙上有多根电线私拉乱接，还有从窗户拉出来给电动车充电的，很危险。",
          "安全隐患", "12栋", "12栋西侧外墙", "grid", steps=("dispatch",), handler="花山供电所"),
    _Spec("7栋化粪池满溢", "7栋后面的化粪池满了往外溢，臭味很重，夏天蚊蝇很多。", "排水", "7栋", "7栋北侧",
          "n9", steps=("accept", "dispatch"), handler="花山水务", supports=4),
    # Overdue 超期: dispatched, the deadline passed, escalated 督办 to the street.
    _Spec("违章搭建雨棚", "3栋一楼住户在楼前公共绿地上搭建了彩钢雨棚，占用公共空间，还挡住了二楼的采光。",
          "违章搭建", "3栋", "3栋1单元前", "n1", steps=("accept", "overdue"), supports=6,
          comments=(("owner", "已经一个多月了，希望尽快处理。"),)),
    # In progress 处置中.
    _Spec("9栋楼道灯不亮", "9栋1单元三楼到六楼的楼道灯都不亮，晚上上下楼很不安全。", "照明", "9栋",
          "9栋1单元楼道", "resident", steps=("dispatch", "start"), supports=2),
    _Spec("11栋下水道返味", "11栋2单元一楼下水道返臭味，家里都能闻到。", "排水", "11栋", "11栋2单元",
          "n6", steps=("accept", "dispatch", "start"),
          comments=(("handler", "已安排师傅明天上午上门查看，请家里留人。"),)),
    # Resolved 已办结, waiting for the reporter (the demo owner) to verify.
    _Spec("1栋单元门禁损坏", "1栋1单元的单元门门禁坏了，门一直关不上，陌生人随便进出。", "公共服务", "1栋",
          "1栋1单元门口", "owner", steps=("accept", "dispatch", "start", "resolve"), supports=3,
          note="已更换门禁电磁锁和闭门器，门可以正常关闭。"),
    _Spec("1栋楼下垃圾桶破损", "1栋楼下的两个分类垃圾桶盖子坏了，野猫翻得到处都是。", "环境卫生", "1栋",
          "1栋东侧垃圾投放点", "owner", steps=("dispatch", "resolve"), note="已更换两个带盖分类垃圾桶。"),
    # Closed 已关闭: verified by the reporter, or closed on the spot by the grid worker.
    _Spec("车棚顶棚漏雨", "2栋旁非机动车棚顶棚破了几个洞，下雨电动车全淋湿。", "公共服务", "2栋", "2栋旁车棚",
          "n2", steps=("accept", "dispatch", "start", "resolve", "verify"), supports=4,
          note="已更换破损的采光板6块。"),
    _Spec("4栋楼道灯更换", "4栋2单元楼道声控灯坏了。", "照明", "4栋", "4栋2单元楼道", "leader",
          steps=("dispatch", "resolve", "verify"), note="已更换为LED声控灯。"),
    _Spec("绿化带杂草丛生", "10栋和11栋之间绿化带杂草长到半人高，有蛇出没的传言。", "绿化", "10栋",
          "10栋与11栋之间", "n4", steps=("accept", "dispatch", "start", "resolve", "verify"),
          note="已完成除草和修剪，清运杂草两车。"),
    _Spec("3栋门前井盖移位", "3栋门前井盖被车压得移位了，露出一道缝。", "安全隐患", "3栋", "3栋门前", "grid",
          steps=("close_on_spot",), note="巡查发现后现场已复位，并放置了警示锥。"),
    # Reopened 重新办理: the reporter was not satisfied.
    _Spec("9栋楼顶水箱漏水", "9栋楼顶水箱漏水，顶楼住户天花板发霉。", "排水", "9栋", "9栋楼顶", "resident",
          steps=("dispatch", "start", "resolve", "reopen"), note="已对水箱接口重新做了密封。",
          reason="下雨后天花板又渗水了，漏水点可能不在水箱接口，请再查一下。"),
    # Rejected 不予受理.
    _Spec("建议小区内开设菜市场", "小区附近没有菜市场，建议在小区广场开一个早市。", "其他", None, "", "n3",
          steps=("reject",), pin=False,
          reason="小区内没有合规的经营场地，广场属于公共活动空间。已将需求转告街道，附近菜市场建设请关注街道公告。"),
    # Staff only 仅工作人员可见: a neighbour dispute the grid worker is mediating.
    _Spec("邻里纠纷：楼上漏水协商未果", "2栋1单元401与301因卫生间漏水赔偿协商未果，双方情绪激动，需社区调解。",
          "邻里纠纷", "2栋", "2栋1单元", "grid", steps=("accept",), pin=False, staff_only=True,
          comments=(("committee", "周六上午约双方到社区调解室，请物业一同到场查看漏水点。"),)),
)

_VILLAGE_ISSUES: tuple[_Spec, ...] = (
    _Spec("二组村道坑洼，雨天积水", "第二村民小组通往村口的水泥路有好几个大坑，下雨天积水，电动车容易滑倒。",
          "道路", "第二村民小组", "二组村道", "v0", supports=2, pin=False),
    _Spec("塘边垃圾堆积", "村东头水塘边有人倒建筑垃圾和生活垃圾，影响水质。", "环境卫生", "第一村民小组",
          "村东水塘", "v1", steps=("accept",), pin=False),
    _Spec("村口路灯不亮", "村口到公交站那段路的路灯坏了三盏，晚上回村很黑。", "照明", "第三村民小组",
          "村口至公交站", "v2", steps=("dispatch",), handler="花山供电所", pin=False),
)


def _jpeg(rng: random.Random) -> bytes:
    """A plain stand-in for a handler's after-photo."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (480, 360), (rng.randrange(150, 210),) * 3)
    ImageDraw.Draw(image).rectangle((120, 90, 360, 270), fill=(rng.randrange(40, 120), 150, rng.randrange(60, 140)))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=80)
    return buf.getvalue()


class _IssueBook:
    """Reports the specs and walks each one through its steps, each step taken by whoever may take it."""

    def __init__(self, session: AsyncSession, rng: random.Random, community: Community,
                 scopes: dict[str, CommunityScope], handlers: dict[str, str], storage: Storage) -> None:
        self.session, self.rng, self.community = session, rng, community
        self.scopes, self.handlers, self.storage = scopes, handlers, storage
        self.ids: dict[str, str] = {}  # title -> issue id

    async def photo(self, who: CommunityScope) -> list[str]:
        upload = await uploads.create_upload(self.session, self.storage, community_id=self.community.id,
                                             uploader_id=who.person.id, data=_jpeg(self.rng))
        return [upload.id]

    async def step(self, who: str, issue_id: str, body: TransitionIn) -> Issue:
        return await issues_service.transition(self.session, self.scopes[who], issue_id, body)

    async def run(self, spec: _Spec, buildings: dict[str, str], pins: dict[str, tuple[float, float]]) -> Issue:
        session, categories = self.session, {c.name: c.id for c in await issues_service.categories(
            self.session, self.community.id)}
        lat = lng = None
        if spec.pin and spec.building in pins:
            lat, lng = (round(v + self.rng.uniform(-0.00015, 0.00015), 6) for v in pins[spec.building])
        staff = spec.reporter == "grid"
        issue = await issues_service.report_issue(session, self.scopes[spec.reporter], IssueCreate(
            title=spec.title, description=spec.description, category_id=categories[spec.category],
            building_id=buildings[spec.building] if spec.building else None, location_text=spec.where,
            lat=lat, lng=lng, source="grid_patrol" if staff else "resident", staff_only=spec.staff_only))
        self.ids[spec.title] = issue.id
        others = [k for k in self.scopes if k not in (spec.reporter, "committee", "grid", "handler")]
        for who in self.rng.sample(others, min(spec.supports, len(others))):
            await issues_service.support(session, self.scopes[who], issue.id, True)
        for who, body in spec.comments:
            await issues_service.add_comment(session, self.scopes[who], issue.id, CommentCreate(body=body))
        handler_id = self.handlers.get(spec.handler)
        for action in spec.steps:
            if action == "accept":
                await self.step("committee", issue.id, TransitionIn(action="accept"))
            elif action == "reject":
                await self.step("committee", issue.id, TransitionIn(action="reject", reason=spec.reason))
            elif action == "merge":
                await self.step("committee", issue.id, TransitionIn(action="merge", into=self.ids[spec.into],
                                                                    reason=spec.reason))
            elif action == "dispatch":
                await self.step("committee", issue.id, TransitionIn(action="dispatch", handler_id=handler_id))
            elif action == "overdue":
                # A demo has no past: the deadline passes a second after loading, and the sweep's
                # escalation 督办 is taken now (scheduled.sweep would commit the half-loaded demo).
                await self.step("committee", issue.id, TransitionIn(
                    action="dispatch", handler_id=handler_id, deadline_at=clock.now() + timedelta(seconds=1),
                    note="请于限期内拆除"))
                await issues_service.escalate(session, issue, reason="overdue")
            elif action == "start":
                await self.step("handler", issue.id, TransitionIn(action="start"))
            elif action == "resolve":
                await self.step("handler", issue.id, TransitionIn(
                    action="resolve", note=spec.note, photo_ids=await self.photo(self.scopes["handler"])))
            elif action == "verify":
                await self.step(spec.reporter, issue.id, TransitionIn(action="verify", note="已经修好了，谢谢！"))
            elif action == "reopen":
                await self.step(spec.reporter, issue.id, TransitionIn(action="reopen", reason=spec.reason))
            elif action == "close_on_spot":
                await self.step("grid", issue.id, TransitionIn(
                    action="close_on_spot", note=spec.note, photo_ids=await self.photo(self.scopes["grid"])))
            else:  # pragma: no cover - a typo in the specs above
                raise ValueError(action)
        return issue


async def _scope(session: AsyncSession, community: Community, person: Person) -> CommunityScope:
    membership, roles = await communities_service.roles_in(session, person, community)
    return CommunityScope(community=community, person=person, membership=membership, roles=roles)


async def _buildings(session: AsyncSession, cid: str) -> dict[str, str]:
    q = select(Building.name, Building.id).where(Building.community_id == cid)
    return {name: bid for name, bid in (await session.execute(q)).all()}


async def _compound_issues(session: AsyncSession, rng: random.Random, compound: Community, staff: _Staff,
                           neighbours: list[Person]) -> int:
    """About two dozen issues in every state, each taken there through the issue service."""
    people = {"committee": staff.committee, "grid": staff.grid_worker, "handler": staff.handler,
              "owner": staff.owner, "resident": staff.resident, "leader": staff.leader,
              **{f"n{i}": p for i, p in enumerate(neighbours)}}
    scopes = {k: await _scope(session, compound, p) for k, p in people.items()}
    units: tuple[tuple[str, list[str]], ...] = (("幸福里物业", [staff.handler.id]), ("花山供电所", []),
                                                ("花山水务", []))
    handlers: dict[str, str] = {}
    for name, members in units:
        handler, _ = await issues_service.create_handler(session, scopes["committee"],
                                                         HandlerCreate(name=name, member_ids=members))
        handlers[name] = handler.id
    book = _IssueBook(session, rng, compound, scopes, handlers, get_storage())
    buildings = await _buildings(session, compound.id)
    for spec in _COMPOUND_ISSUES:
        await book.run(spec, buildings, _BUILDING_PINS)
    return len(_COMPOUND_ISSUES)


async def _village_issues(session: AsyncSession, village: Community, committee: Person,
                          villagers: list[Person]) -> int:
    people = {"committee": committee, **{f"v{i}": p for i, p in enumerate(villagers)}}
    scopes = {k: await _scope(session, village, p) for k, p in people.items()}
    handler, _ = await issues_service.create_handler(session, scopes["committee"], HandlerCreate(name="花山供电所"))
    book = _IssueBook(session, random.Random(SEED + 2), village, scopes, {"花山供电所": handler.id}, get_storage())
    buildings = await _buildings(session, village.id)
    for spec in _VILLAGE_ISSUES:
        await book.run(spec, buildings, {})
    return len(_VILLAGE_ISSUES)


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
    if result is not None and result.issues:
        lines.append("Issue list: " + " · ".join(
            f"{name} {n} issues at /c/{result.communities[name]}/issues" for name, n in result.issues.items())
            + f" (sign in as {OWNER.phone} {OWNER.name} to verify a resolved one)")
    if result is not None and result.polls:
        lines.append("Decisions: " + " · ".join(
            f"{name} {n} polls at /c/{result.communities[name]}/polls" for name, n in result.polls.items()))
    return "\n".join(lines)


# --- decisions 居民决策 ----------------------------------------------------------------------------

async def _facilitate(session: AsyncSession, facilitator: CommunityScope, poll_id: str, rng: random.Random,
                      how_many: int, pick: list[list[str]], witness: str) -> int:
    """Paper ballots 纸质选票 collected door to door, entered by the grid worker with a witness."""
    poll = await polls_service.poll_for_demo(session, poll_id)
    entered = 0
    for elector in await polls_service.unvoted_electors(session, poll.id, how_many):
        await polls_service.enter_paper_ballot(session, facilitator, poll, PaperBallotIn(
            elector_id=elector.id, choices=rng.choice(pick), witness=witness, voter_name=elector.label[:50]))
        entered += 1
    return entered


async def _vote(session: AsyncSession, scope: CommunityScope, poll_id: str, choices: list[str]) -> bool:
    poll = await polls_service.poll_for_demo(session, poll_id)
    try:
        await polls_service.cast_ballot(session, scope, poll, BallotIn(choices=choices))
    except AppError:  # not in this poll's electorate (a tenant in an owners' vote …)
        return False
    return True


async def _compound_polls(session: AsyncSession, compound: Community, staff: _Staff,
                          neighbours: list[Person]) -> int:
    """Five decisions in every stage: an owners' vote under the Civil Code being collected, a
    household dot-vote over the issue list, a hidden renovation survey, a ranked choice on public
    notice with an answered objection, and a final one."""
    rng = random.Random(SEED + 3)
    committee = await _scope(session, compound, staff.committee)
    grid = await _scope(session, compound, staff.grid_worker)
    voters = [await _scope(session, compound, p) for p in (staff.owner, staff.leader, staff.resident, *neighbours)]
    soon = clock.now() + timedelta(days=6)
    owner_home = (await communities_service.voter_standing(session, compound.id, staff.owner.id))[0]
    building_id = (await session.execute(select(Household.building_id).where(Household.id == owner_home))).scalar()

    # 1. 民法典第二百七十八条: raising the maintenance fund for a lift, owners of one building, by area.
    lift = await polls_service.create_poll(session, committee, PollCreate(
        title="1栋加装电梯：是否筹集维修资金", kind="proposal", electorate="owners", matter="raise_fund",
        scope_building_id=building_id, closes_at=soon, notice_days=7, description=(
            "1栋拟加装电梯，费用由业主按面积分摊，需筹集维修资金。按《民法典》第二百七十八条，须专有部分面积和"
            "人数均三分之二以上的业主参与表决，并经参与表决的面积和人数均四分之三以上同意。")))
    await polls_service.open_poll(session, staff.committee.id, lift, at_once=True)
    for v in voters[:2]:
        await _vote(session, v, lift.id, ["yes"])
    await _facilitate(session, grid, lift.id, rng, 14, [["yes"]] * 5 + [["no"], ["abstain"]], "王秀英（楼栋长）")

    # 2. A household dot-vote 圈点投票 over the open issues: which three to fix first.
    open_issues = (await session.execute(select(Issue).where(
        Issue.community_id == compound.id, Issue.status.in_(("reported", "accepted", "dispatched")),
        Issue.staff_only.is_(False)).order_by(Issue.supports_count.desc(), Issue.id).limit(6))).scalars().all()
    dots = await polls_service.create_poll(session, committee, PollCreate(
        title="下个月先解决哪三件事？", kind="approval", max_choices=3, electorate="households", closes_at=soon,
        options=[OptionIn(issue_id=i.id) for i in open_issues], notice_days=3,
        description="每户3个点，投给您最希望先解决的问题。结果将作为下次屋场会的议题顺序。"))
    await polls_service.open_poll(session, staff.committee.id, dots, at_once=True)
    option_ids = [o.id for o in await polls_service.options(session, dots.id)]
    for v in voters:
        await _vote(session, v, dots.id, rng.sample(option_ids, 3))
    await _facilitate(session, grid, dots.id, rng, 20, [rng.sample(option_ids, 3) for _ in range(8)],
                      "刘建国（网格员）")

    # 3. 老旧小区改造意愿: the willingness survey, results hidden until it closes.
    survey = await polls_service.create_poll(session, committee, PollCreate(
        title="老旧小区改造意愿征询", kind="proposal", electorate="owners",
        preset="old_compound_renovation_willingness", hide_results=True, closes_at=soon + timedelta(days=8),
        description="改造内容：外墙保温、雨污分流、增设停车位、加装路灯。三分之二以上业主同意方可申报。"))
    await polls_service.open_poll(session, staff.committee.id, survey, at_once=True)
    for v in voters[:3]:
        await _vote(session, v, survey.id, ["yes"])

    # 4. Ranked choice 排序 on the parking plan: closed, counted, on public notice with an objection.
    parking = await polls_service.create_poll(session, committee, PollCreate(
        title="小区停车管理方案", kind="ranked", electorate="households", closes_at=soon, notice_days=5,
        options=[OptionIn(label="划线停车，按月收费"), OptionIn(label="划线停车，免费但限一户一车"),
                 OptionIn(label="引入智能道闸，临时停车收费"), OptionIn(label="维持现状")],
        description="请按您的偏好排序：第一位最想要。采用即时决选（逐轮淘汰得票最少者）。"))
    await polls_service.open_poll(session, staff.committee.id, parking, at_once=True)
    plan = [o.id for o in await polls_service.options(session, parking.id)]
    for v in voters:
        await _vote(session, v, parking.id, rng.sample(plan, rng.randint(2, 4)))
    await _facilitate(session, grid, parking.id, rng, 25, [rng.sample(plan, 3) for _ in range(10)], "刘建国（网格员）")
    parking = await polls_service.close_poll(session, staff.committee.id, parking)
    parking = await polls_service.publish_notice(session, staff.committee.id, parking,
                                                 "公示期5天，对结果有异议请在本页提出，社区将逐条答复。")
    objection = await polls_service.file_objection(session, voters[0], parking,
                                                   "我家老人不会用手机，是否都已入户收集纸质选票？")
    await polls_service.answer_objection(session, committee, parking, objection.id,
                                         "网格员已对未在手机上投票的住户逐户上门，收集纸质选票25张，均有楼栋长见证。")

    # 5. A named vote 记名 that is final: the date of the next 屋场会.
    meeting = await polls_service.create_poll(session, committee, PollCreate(
        title="下次屋场会定在哪天？", kind="single", electorate="residents", secret=False, closes_at=soon,
        notice_days=0, options=[OptionIn(label="周六上午"), OptionIn(label="周六晚上"), OptionIn(label="周日下午")]))
    await polls_service.open_poll(session, staff.committee.id, meeting, at_once=True)
    days = [o.id for o in await polls_service.options(session, meeting.id)]
    for v in voters:
        await _vote(session, v, meeting.id, [rng.choice(days)])
    meeting = await polls_service.close_poll(session, staff.committee.id, meeting)
    await polls_service.publish_notice(session, staff.committee.id, meeting, "")
    return 5
