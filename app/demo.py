"""Demo data: one street 街道 with an old residential compound and a village, and a person in every role.

The places are what a committee would have on paper before going digital: 幸福里社区, a 1990s
compound of 12 six-storey buildings in 3 grids (about 300 households with their exclusive
areas in m²), and 李家墩村, a village of 4 villager groups 村民小组. Each imported its household
roster 住户花名册 the way a committee does (a spreadsheet through ``import_roster``); residents
joined by the invite link, some matched by the roster, some waiting for the committee.

Deterministic (a fixed random seed), and loaded only into a database without communities.
Everything goes through the domain services where a rule lives (regions, communities, roster,
memberships, invites, joins, issues, polls); the households are entered as a survey 摸底 would
have listed them. The history is two months long: each step runs with the clock set back to when
it happened (``_Timeline``), in the order it happened, so timelines, deadlines, the overdue issue
and the inbox read like real life, and time-ordered ids agree with the timestamps.

The printed accounts can act at once: the owner and the resident are on the roll of open polls
they have not voted in (``VOTES_FOR``), the owner has fixed issues to verify, the grid worker a
patrol, the handler a queue and the committee new reports and join requests.
"""

from __future__ import annotations

import csv
import heapq
import io
import itertools
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

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
from app.core.policy import Role
from app.core.storage import get_storage
from app.issues import service as issues_service
from app.issues.models import Issue
from app.issues.schemas import CommentCreate, HandlerCreate, IssueCreate, TransitionIn
from app.notifications import service as notifications_service
from app.points import demo as points_demo
from app.polls import service as polls_service
from app.polls.models import Poll
from app.polls.schemas import BallotIn, OptionIn, PaperBallotIn, PollCreate
from app.tasks import demo as tasks_demo

SEED = 2024
DEMO_PASSWORD = "wugong-demo"
COMPOUND = "幸福里社区"
VILLAGE = "李家墩村"
STREET = "花山街道"


# The polls the demo opens, by title (the tests find them so).
LIFT_POLL = "1栋加装电梯：是否筹集维修资金"
DOTS_POLL = "下个月先解决哪三件事？"
SURVEY_POLL = "老旧小区改造意愿征询"
PARKING_POLL = "小区停车管理方案"
MEETING_POLL = "下次屋场会定在哪天？"


@dataclass(frozen=True)
class DemoAccount:
    phone: str
    name: str
    role: str  # what the table shows
    place: str
    username: str | None = None
    can: str = ""  # what a newcomer signed in as them can do at once


OWNER_HOME = "1栋1单元301"
TENANT_HOME = "9栋1单元402"  # rented: the landlord is on the roster, the tenant joined by request

# Open polls each voter of the demo is on the roll of and has not voted in (and may change).
VOTES_FOR: dict[str, tuple[str, ...]] = {
    "13800000005": (LIFT_POLL, SURVEY_POLL, DOTS_POLL),  # the owner: two owners' polls and his flat's dots
    "13800000006": (DOTS_POLL,),  # the tenant: her flat's dots
}


def _votes(phone: str) -> str:
    return "votes in the open polls " + ", ".join(f"「{t}」" for t in VOTES_FOR[phone])


PLATFORM_ADMIN = DemoAccount("13800000000", "系统管理员", "platform admin 平台管理员", "全平台", "admin",
                             can="creates regions and communities")
COMMITTEE = DemoAccount("13800000001", "陈丽华", "committee 两委", COMPOUND, "committee",
                        can="triages new reports and dispatches them (/triage), runs the polls, "
                            "approves the 3 join requests")
GRID_WORKER = DemoAccount("13800000002", "刘建国", "grid worker 网格员 · 第一网格", COMPOUND, "grid",
                          can="patrols 第一网格 (/patrol), closes small problems on the spot, verifies fixed "
                              "ones, enters paper ballots")
BUILDING_LEADER = DemoAccount("13800000003", "张桂兰", "building leader 楼栋长 · 1栋", COMPOUND,
                              can="invites neighbours, enters paper ballots door to door")
HANDLER = DemoAccount("13800000004", "王志强", "handler 处置人 · 幸福里物业", COMPOUND, "handler",
                      can="resolves what is dispatched to 幸福里物业 (/queue) with an after-photo")
OWNER = DemoAccount("13800000005", "李明", f"owner 业主 · {OWNER_HOME}", COMPOUND,
                    can=_votes("13800000005") + "; verifies 2 fixed issues he reported")
RESIDENT = DemoAccount("13800000006", "赵敏", f"resident 居民 · tenant 租户 · {TENANT_HOME}", COMPOUND,
                       can=_votes("13800000006") + " for her flat; reports a problem with a photo")
VILLAGE_COMMITTEE = DemoAccount("13800000007", "李德福", "committee 村委会", VILLAGE, "village",
                                can="triages the village's issue list")
REGION_ADMIN = DemoAccount("13800000009", "周海燕", "region admin 街道干部", STREET, "street",
                           can="follows the overdue issues escalated to the street (督办)")

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
    tasks: dict[str, int] = field(default_factory=dict)  # community name -> tasks (app/tasks/demo.py)


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
    line = _Timeline(clock.now())

    with clock.fixed_at(line.at("62 09:30")):  # the street sets up its two communities
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

    with clock.fixed_at(line.at("61 14:20")):  # the committees enter their places, staff and rosters
        first_grid, homes = await _compound_places(session, rng, committee, compound.id)
        compound_rows = await _compound_roster(session, people, compound.id, homes)
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
                                             household_id=homes["leader"].id,
                                             building_id=homes["leader"].building_id)
        handler = await _person(session, HANDLER)
        await communities_service.add_member(session, compound.id, handler, [Role.handler],
                                             display_name="王志强（幸福里物业）")

        # Both rosters are in before anyone joins, so joining by invite matches them.
        await communities_service.import_roster(session, committee, compound.id, _roster_csv(compound_rows),
                                                "幸福里社区住户花名册.csv", "zh-CN")
        await communities_service.import_roster(session, village_committee, village.id,
                                                _roster_csv(village_rows), "李家墩村村民花名册.csv", "zh-CN")

    with clock.fixed_at(line.at("60 09:10")):  # the invite links go to the WeChat groups
        compound_invite = await communities_service.create_invite(
            session, committee, compound.id, InviteCreate(expires_in_days=365, note="居民微信群邀请"))
        village_invite = await communities_service.create_invite(
            session, village_committee, village.id, InviteCreate(expires_in_days=365, note="村民微信群邀请"))
    result.invites = {COMPOUND: compound_invite.code, VILLAGE: village_invite.code}

    town = _Cast(session, compound, line, line.at("60 09:10"))
    for key, person in (("committee", committee), ("grid", grid_worker), ("handler", handler), ("leader", leader)):
        town.arrived(key, person)
    town.join("owner", OWNER, compound_invite.code, line.at("58 20:15"))  # on the roster: in at once, as owner
    # A tenant, not on the roster: she asks, and the committee approves her for the flat she rents.
    town.join("resident", RESIDENT, compound_invite.code, line.at("47 19:40"), room=TENANT_HOME,
              approved=(line.at("46 09:05"), committee, homes["tenant"].id))
    for (phone, name, room), when in zip(APPLICANTS, ("3 20:10", "2 12:30", "1 21:05"), strict=True):
        town.join(f"applicant {phone}", DemoAccount(phone, name, "", COMPOUND), compound_invite.code,
                  line.at(when), room=room)
        result.pending_joins += 1

    issue_rng = random.Random(SEED + 1)  # its own generator: the places and people above stay as they were
    landlord = {r.phone for r in compound_rows if f"{r.building}{r.unit}{r.room}" == TENANT_HOME}
    for i, row in enumerate(_roster_sample(issue_rng, compound_rows, 10, exclude=landlord)):
        town.join(f"n{i}", DemoAccount(row.phone, row.name, "", COMPOUND), compound_invite.code,
                  line.between(issue_rng, line.at("59 08:00"), line.at("53 21:00")))
    hamlet = _Cast(session, village, line, line.at("60 09:10"))
    hamlet.arrived("committee", village_committee)
    for i, row in enumerate(_roster_sample(issue_rng, village_rows, 3)):
        hamlet.join(f"v{i}", DemoAccount(row.phone, row.name, "", VILLAGE), village_invite.code,
                    line.between(issue_rng, line.at("55 08:00"), line.at("45 21:00")))

    result.issues[COMPOUND] = _compound_issues(line, issue_rng, town)
    result.issues[VILLAGE] = _village_issues(line, hamlet)
    result.polls[COMPOUND] = _compound_polls(line, town, homes)
    await points_demo.seed_demo(session, scope_of=town.scope, at=line.at, schedule=line.add)

    async def issue_in_compound(title: str) -> str | None:
        q = select(Issue.id).where(Issue.community_id == compound.id, Issue.title == title)
        return (await session.execute(q)).scalar_one_or_none()

    result.tasks[COMPOUND] = tasks_demo.seed_demo(line, town, issue_id=issue_in_compound)
    # People read their inbox now and then: what came in the last week is still unread.
    for cast, key in ((town, "committee"), (town, "grid"), (town, "handler"), (town, "leader"), (town, "owner"),
                      (town, "resident"), (hamlet, "committee")):
        for when in ("30 21:30", "7 21:30"):
            line.add(line.at(when), partial(cast.read_inbox, key))
    await line.run()

    result.buildings = (await session.execute(select(func.count()).select_from(Building))).scalar_one()
    result.households = (await session.execute(select(func.count()).select_from(Household))).scalar_one()
    return result


# --- time and people ---------------------------------------------------------------------------

BEIJING = ZoneInfo("Asia/Shanghai")
Step = Callable[[], Awaitable[object]]


class _Timeline:
    """The demo's history, each step at its time. ``at("3 19:40")`` is three days before loading at
    19:40 Beijing time (``"-6 20:00"``: six days ahead, for a poll's closing time). Steps are queued
    while the demo is planned, then run in time order with the clock set back to each one's time."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.today = now.astimezone(BEIJING).date()
        self._queue: list[tuple[datetime, int, Step]] = []
        self._order = itertools.count()
        self._running: datetime | None = None

    def at(self, when: str) -> datetime:
        days, _, hour_minute = when.partition(" ")
        hour, minute = (int(x) for x in hour_minute.split(":"))
        day = self.today - timedelta(days=int(days))
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BEIJING).astimezone(UTC)

    def between(self, rng: random.Random, start: datetime, end: datetime) -> datetime:
        """A moment in (start, end), in the waking hours (07:00–22:00) when the window allows."""
        if end <= start:
            raise ValueError(f"an empty window: {start} – {end}")
        span = (end - start).total_seconds()
        for _ in range(20):
            moment = start + timedelta(seconds=rng.uniform(0, span))
            if 7 <= moment.astimezone(BEIJING).hour < 22:
                return moment
        return moment

    def add(self, when: datetime, step: Step) -> None:
        if when >= self.now or (self._running is not None and when < self._running):
            raise ValueError(f"a demo step at {when} is not between the last step and now")
        heapq.heappush(self._queue, (when, next(self._order), step))

    async def run(self) -> None:
        while self._queue:
            when, _, step = heapq.heappop(self._queue)
            self._running = when
            with clock.fixed_at(when):
                await step()


class _Cast:
    """The people of one community by key ("committee", "owner", "n3" …) and when each came in.
    A join is a step of the timeline; a person's scope is read when they first act."""

    def __init__(self, session: AsyncSession, community: Community, line: _Timeline, staff_since: datetime) -> None:
        self.session, self.community, self.line, self.staff_since = session, community, line, staff_since
        self.people: dict[str, Person] = {}
        self.since: dict[str, datetime] = {}  # key -> when they became a member
        self._scopes: dict[str, CommunityScope] = {}

    def arrived(self, key: str, person: Person) -> None:
        self.people[key], self.since[key] = person, self.staff_since

    def join(self, key: str, account: DemoAccount, code: str, when: datetime, *, room: str = "",
             approved: tuple[datetime, Person, str] | None = None) -> None:
        line = self.line

        async def ask() -> None:
            person = self.people[key] = await _person(self.session, account)
            joined = await communities_service.join(self.session, person, code, account.name, room)
            if approved is not None:
                assert joined.join_request_id is not None
                request_id = joined.join_request_id

                async def approve() -> None:
                    await communities_service.decide_join(self.session, approved[1], self.community.id,
                                                          request_id, approve=True, household_id=approved[2])

                line.add(approved[0], approve)

        line.add(when, ask)
        if not key.startswith("applicant"):
            self.since[key] = approved[0] if approved else when

    def member(self, key: str, when: datetime, what: str) -> None:
        """Refuse a plan in which someone acts before they are in the community."""
        if key not in self.since or self.since[key] >= when:
            raise ValueError(f"{what}: {key} is not a member at {when}")

    async def read_inbox(self, key: str) -> None:
        await notifications_service.mark_read(self.session, self.people[key].id, None)

    async def scope(self, key: str) -> CommunityScope:
        if key not in self._scopes:
            self._scopes[key] = await _scope(self.session, self.community, self.people[key])
        return self._scopes[key]


# 1990s floor plans: the two flats on a landing (x01, x02), exclusive area in m².
_PLANS = ((56.38, 71.62), (62.15, 78.40), (68.92, 86.27), (74.50, 95.83), (88.16, 109.44), (104.72, 138.95))


async def _compound_places(session: AsyncSession, rng: random.Random, committee: Person,
                           cid: str) -> tuple[Grid, dict[str, Household]]:
    """3 grids of 4 buildings; 6 floors, 2 flats per landing, 2 units (3 in the long buildings).
    Also the homes of the building leader, the owner and the tenant of the demo accounts."""
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
    homes = {"leader": households[(1, 2, 2, 2)], "owner": households[(1, 1, 3, 1)],
             "tenant": households[(9, 1, 4, 2)]}
    assert homes["owner"].address == OWNER_HOME and homes["tenant"].address == TENANT_HOME
    return grids[0], homes


async def _compound_roster(session: AsyncSession, people: _People, cid: str,
                           homes: dict[str, Household]) -> list[_Row]:
    """About 85 % of flats have a roster; a few are empty or rented out with no one listed. The
    tenant's flat lists only its landlord, who lives elsewhere."""
    q = select(Household, Building.name).join(Building, Building.id == Household.building_id).where(
        Household.community_id == cid).order_by(Household.address)
    rows: list[_Row] = []
    for h, building in (await session.execute(q)).all():
        if h.id == homes["leader"].id:
            rows.append(_Row(BUILDING_LEADER.name, BUILDING_LEADER.phone, building, h.unit, h.room,
                             h.owner_area_m2, True))
            continue
        if h.id == homes["owner"].id:
            family = _family(people, h, building)
            family[0] = _Row(OWNER.name, OWNER.phone, building, h.unit, h.room, h.owner_area_m2, True)
            rows.extend(family)
            continue
        if h.id == homes["tenant"].id:
            rows.append(_family(people, h, building)[0])
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

def _roster_sample(rng: random.Random, rows: list[_Row], n: int, exclude: set[str] | None = None) -> list[_Row]:
    """A few households on the roster who joined by the invite link (matched at once): the
    neighbours who report, support, comment and vote."""
    taken = {a.phone for a in ACCOUNTS} | (exclude or set())
    return rng.sample([r for r in rows if r.owner and r.phone not in taken], n)


@dataclass(frozen=True)
class _Spec:
    """One issue and the steps it has been through since it was reported (see ``_IssueBook.plan``).

    ``at`` says when: the report, then each step, as "days-ago HH:MM" in Beijing time. Deadlines
    are the category's (``deadline_days`` overrides it), so an issue still open was dispatched
    recently enough not to be overdue, except the one that is."""

    title: str
    description: str
    category: str
    building: str | None
    where: str
    reporter: str  # a key of the community's _Cast
    at: tuple[str, ...]
    steps: tuple[str, ...] = ()
    handler: str = "幸福里物业"
    supports: int = 0
    comments: tuple[tuple[str, str, str], ...] = ()  # (who, what, when)
    note: str = ""  # the handler's resolution note, or what a grid worker did on the spot
    reason: str = ""  # why rejected, reopened or merged
    into: str = ""  # the title of the issue it merges into
    pin: bool = True  # a point on the map (at its building)
    staff_only: bool = False
    deadline_days: int | None = None


# 幸福里社区: 12 buildings in three rows of four around (30.5067, 114.4180), all within ~250 m.
CENTRE = (30.5067, 114.4180)
_BUILDING_PINS = {f"{n}栋": (CENTRE[0] + (1 - (n - 1) // 4) * 0.0012, CENTRE[1] + ((n - 1) % 4 - 1.5) * 0.0011)
                  for n in range(1, 13)}

_COMPOUND_ISSUES: tuple[_Spec, ...] = (
    # Waiting for the committee 待受理.
    _Spec("5栋北侧路灯不亮", "5栋北侧小路的路灯已经一个多星期不亮了，晚上下班回来黑漆漆的，老人走路容易摔倒。",
          "照明", "5栋", "5栋北侧小路", "resident", ("2 21:10",), supports=5,
          comments=(("leader", "我们单元的老人也反映了，晚上只能打手电筒。", "1 19:25"),)),
    _Spec("8栋下水道堵塞，污水外溢", "8栋1单元门口的下水道堵了，下雨后污水漫到路面，气味很大，孩子上学要绕着走。",
          "排水", "8栋", "8栋1单元门口", "n0", ("4 07:40",), supports=6,
          comments=(("n1", "昨天晚上又冒水了，希望尽快疏通。", "3 08:15"),
                    ("owner", "上次疏通是去年夏天，可能管道本身有问题。", "2 12:40"))),
    _Spec("楼道堆放杂物，堵塞消防通道", "2栋2单元一楼到三楼楼道里堆了旧家具和纸箱，消防通道被堵，存在火灾隐患。",
          "安全隐患", "2栋", "2栋2单元楼道", "n2", ("1 10:05",), supports=3),
    _Spec("东门车辆乱停，救护车进不来", "小区东门内侧经常有车辆乱停，上周救护车进来都很困难，希望划线并加强管理。",
          "停车", None, "小区东门", "n3", ("6 20:30",), supports=7, pin=False,
          comments=(("resident", "晚上七点以后最严重，建议设个临时停车点。", "5 19:50"),)),
    _Spec("广场健身器材损坏", "小区广场的漫步机扶手断了，有尖锐的断口，小孩玩耍容易受伤。",
          "公共服务", "6栋", "小区广场（6栋南侧）", "n4", ("1 17:45",), supports=2),
    _Spec("10栋楼下井盖松动", "10栋楼下的井盖踩上去会晃动并发出响声，晚上看不清，担心有人踩空。",
          "安全隐患", "10栋", "10栋2单元前", "leader", ("1 08:20",), supports=4),
    _Spec("8栋旁污水井冒水", "8栋旁边的污水井往外冒水，路面都是污水。",
          "排水", "8栋", "8栋东侧", "n5", ("3 18:30", "2 09:20"), steps=("merge",), into="8栋下水道堵塞，污水外溢",
          reason="与“8栋下水道堵塞，污水外溢”为同一处问题，合并办理。"),
    # Accepted 已受理, waiting to be dispatched.
    _Spec("垃圾清运不及时", "最近三天11栋旁的垃圾站没有清运，垃圾桶满了堆在地上，天气热味道很大。",
          "环境卫生", "11栋", "11栋旁垃圾站", "n6", ("2 08:50", "2 10:15"), steps=("accept",), supports=5),
    _Spec("小区主路地砖破损", "从大门到3栋的主路上有多块地砖碎裂翘起，推婴儿车和轮椅很不方便。",
          "道路", "3栋", "大门至3栋主路", "owner", ("9 18:20", "8 10:30"), steps=("accept",), supports=2),
    # Dispatched 已派单, with the category's deadline.
    _Spec("4栋路灯忽明忽暗", "4栋门口的路灯一闪一闪的，可能是灯管或线路老化。", "照明", "4栋", "4栋门口",
          "n7", ("3 20:40", "2 09:40"), steps=("dispatch",)),
    _Spec("6栋前绿化带缺损", "6栋前的绿化带被踩出一条路，冬青死了一片，下雨天全是泥。", "绿化", "6栋", "6栋前绿化带",
          "n8", ("8 16:10", "7 09:30", "4 10:00"), steps=("accept", "dispatch"), supports=3),
    _Spec("12栋外墙电线私拉乱接", "12栋外墙上有多根电线私拉乱接，还有从窗户拉出来给电动车充电的，很危险。",
          "安全隐患", "12栋", "12栋西侧外墙", "grid", ("1 10:30", "1 11:15"), steps=("dispatch",),
          handler="花山供电所"),
    _Spec("7栋化粪池满溢", "7栋后面的化粪池满了往外溢，臭味很重，夏天蚊蝇很多。", "排水", "7栋", "7栋北侧",
          "n9", ("2 19:00", "1 08:45", "1 09:10"), steps=("accept", "dispatch"), handler="花山水务", supports=4),
    # Overdue 超期: dispatched six weeks ago, the deadline long past, escalated 督办 to the street.
    _Spec("违章搭建雨棚", "3栋一楼住户在楼前公共绿地上搭建了彩钢雨棚，占用公共空间，还挡住了二楼的采光。",
          "违章搭建", "3栋", "3栋1单元前", "n1", ("41 18:40", "40 10:20", "39 15:00"), steps=("accept", "overdue"),
          supports=6, comments=(("owner", "已经一个多月了，希望尽快处理。", "3 20:12"),)),
    # In progress 处置中.
    _Spec("9栋楼道灯不亮", "9栋1单元三楼到六楼的楼道灯都不亮，晚上上下楼很不安全。", "照明", "9栋",
          "9栋1单元楼道", "resident", ("3 21:20", "2 09:50", "2 15:30"), steps=("dispatch", "start"), supports=2),
    _Spec("11栋下水道返味", "11栋2单元一楼下水道返臭味，家里都能闻到。", "排水", "11栋", "11栋2单元",
          "n6", ("2 20:05", "1 08:40", "1 09:00", "1 15:40"), steps=("accept", "dispatch", "start"),
          comments=(("handler", "已安排师傅明天上午上门查看，请家里留人。", "1 15:45"),)),
    # Resolved 已办结, waiting for the reporter (the demo owner) to verify.
    _Spec("1栋单元门禁损坏", "1栋1单元的单元门门禁坏了，门一直关不上，陌生人随便进出。", "公共服务", "1栋",
          "1栋1单元门口", "owner", ("12 19:30", "11 09:15", "11 10:00", "10 14:20", "5 16:30"),
          steps=("accept", "dispatch", "start", "resolve"), supports=3,
          note="已更换门禁电磁锁和闭门器，门可以正常关闭。"),
    _Spec("1栋楼下垃圾桶破损", "1栋楼下的两个分类垃圾桶盖子坏了，野猫翻得到处都是。", "环境卫生", "1栋",
          "1栋东侧垃圾投放点", "owner", ("6 08:10", "5 09:30", "3 15:10"), steps=("dispatch", "resolve"),
          note="已更换两个带盖分类垃圾桶。"),
    # Closed 已关闭: verified by the reporter, or closed on the spot by the grid worker.
    _Spec("车棚顶棚漏雨", "2栋旁非机动车棚顶棚破了几个洞，下雨电动车全淋湿。", "公共服务", "2栋", "2栋旁车棚",
          "n2", ("35 20:00", "34 09:20", "34 10:00", "31 14:00", "28 16:30", "27 19:10"),
          steps=("accept", "dispatch", "start", "resolve", "verify"), supports=4, note="已更换破损的采光板6块。"),
    _Spec("4栋楼道灯更换", "4栋2单元楼道声控灯坏了。", "照明", "4栋", "4栋2单元楼道", "leader",
          ("52 19:00", "51 09:30", "50 16:00", "49 20:30"), steps=("dispatch", "resolve", "verify"),
          note="已更换为LED声控灯。"),
    _Spec("绿化带杂草丛生", "10栋和11栋之间绿化带杂草长到半人高，有蛇出没的传言。", "绿化", "10栋",
          "10栋与11栋之间", "n4", ("24 18:00", "23 09:10", "23 10:00", "19 08:30", "17 17:00", "15 18:20"),
          steps=("accept", "dispatch", "start", "resolve", "verify"), note="已完成除草和修剪，清运杂草两车。"),
    _Spec("3栋门前井盖移位", "3栋门前井盖被车压得移位了，露出一道缝。", "安全隐患", "3栋", "3栋门前", "grid",
          ("18 09:40", "18 10:05"), steps=("close_on_spot",), note="巡查发现后现场已复位，并放置了警示锥。"),
    # Reopened 重新办理: the reporter was not satisfied. A roof job: the committee gave it a month.
    _Spec("9栋楼顶水箱漏水", "9栋楼顶水箱漏水，顶楼住户天花板发霉。", "排水", "9栋", "9栋楼顶", "resident",
          ("20 21:00", "19 10:00", "17 09:30", "9 16:00", "6 20:15"), steps=("dispatch", "start", "resolve", "reopen"),
          deadline_days=30, note="已对水箱接口重新做了密封。",
          reason="下雨后天花板又渗水了，漏水点可能不在水箱接口，请再查一下。"),
    # Rejected 不予受理.
    _Spec("建议小区内开设菜市场", "小区附近没有菜市场，建议在小区广场开一个早市。", "其他", None, "", "n3",
          ("28 20:20", "26 10:30"), steps=("reject",), pin=False,
          reason="小区内没有合规的经营场地，广场属于公共活动空间。已将需求转告街道，附近菜市场建设请关注街道公告。"),
    # Staff only 仅工作人员可见: a neighbour dispute the grid worker is mediating.
    _Spec("邻里纠纷：楼上漏水协商未果", "2栋1单元401与301因卫生间漏水赔偿协商未果，双方情绪激动，需社区调解。",
          "邻里纠纷", "2栋", "2栋1单元", "grid", ("4 16:30", "4 17:00"), steps=("accept",), pin=False,
          staff_only=True,
          comments=(("committee", "周六上午约双方到社区调解室，请物业一同到场查看漏水点。", "3 10:00"),)),
)

_VILLAGE_ISSUES: tuple[_Spec, ...] = (
    _Spec("二组村道坑洼，雨天积水", "第二村民小组通往村口的水泥路有好几个大坑，下雨天积水，电动车容易滑倒。",
          "道路", "第二村民小组", "二组村道", "v0", ("5 19:30",), supports=2, pin=False),
    _Spec("塘边垃圾堆积", "村东头水塘边有人倒建筑垃圾和生活垃圾，影响水质。", "环境卫生", "第一村民小组",
          "村东水塘", "v1", ("8 10:00", "7 09:00"), steps=("accept",), pin=False),
    _Spec("村口路灯不亮", "村口到公交站那段路的路灯坏了三盏，晚上回村很黑。", "照明", "第三村民小组",
          "村口至公交站", "v2", ("3 20:00", "2 10:30"), steps=("dispatch",), handler="花山供电所", pin=False),
)

# Who takes each step (the reporter verifies and reopens: 谁上报谁核查).
_STEP_BY = {"accept": "committee", "reject": "committee", "merge": "committee", "dispatch": "committee",
            "overdue": "committee", "start": "handler", "resolve": "handler", "close_on_spot": "grid"}


def _jpeg(rng: random.Random) -> bytes:
    """A plain stand-in for a handler's after-photo."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (480, 360), (rng.randrange(150, 210),) * 3)
    ImageDraw.Draw(image).rectangle((120, 90, 360, 270), fill=(rng.randrange(40, 120), 150, rng.randrange(60, 140)))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=80)
    return buf.getvalue()


class _IssueBook:
    """Plans each spec on the timeline: the report, the neighbours' supports and comments, and each
    step, taken by whoever may take it, at its time."""

    def __init__(self, line: _Timeline, rng: random.Random, cast: _Cast, handlers: tuple[tuple[str, list[str]], ...],
                 pins: dict[str, tuple[float, float]]) -> None:
        self.line, self.rng, self.cast, self.pins = line, rng, cast, pins
        self.session, self.community = cast.session, cast.community
        self.issues: dict[str, Issue] = {}  # title -> issue, once reported
        self.handlers: dict[str, str] = {}  # unit name -> handler id
        self.storage = get_storage()
        line.add(line.at("60 10:30"), lambda: self._handlers(handlers))

    async def _handlers(self, units: tuple[tuple[str, list[str]], ...]) -> None:
        for name, keys in units:
            handler, _ = await issues_service.create_handler(self.session, await self.cast.scope("committee"),
                                                             HandlerCreate(name=name, member_ids=[
                                                                 self.cast.people[k].id for k in keys]))
            self.handlers[name] = handler.id

    def plan(self, spec: _Spec) -> None:
        times = [self.line.at(w) for w in spec.at]
        if len(times) != 1 + len(spec.steps) or times != sorted(times):
            raise ValueError(f"{spec.title}: one time for the report and each step, in order")
        reported = times[0]
        self.cast.member(spec.reporter, reported, spec.title)
        self.line.add(reported, lambda: self._report(spec))
        end = min(reported + timedelta(days=5), self.line.now - timedelta(minutes=30))
        others = [k for k, since in self.cast.since.items()
                  if k not in (spec.reporter, "committee", "grid", "handler") and since < end - timedelta(hours=1)]
        for who in self.rng.sample(others, min(spec.supports, len(others))):
            start = max(reported, self.cast.since[who]) + timedelta(minutes=20)
            self.line.add(self.line.between(self.rng, start, end), partial(self._support, spec.title, who))
        for who, body, when in spec.comments:
            t = self.line.at(when)
            self.cast.member(who, t, spec.title)
            if t <= reported:
                raise ValueError(f"{spec.title}: a comment before the report")
            self.line.add(t, partial(self._comment, spec.title, who, body))
        for action, t in zip(spec.steps, times[1:], strict=True):
            self.line.add(t, partial(self._step, spec, action))

    async def _report(self, spec: _Spec) -> None:
        categories = {c.name: c.id for c in await issues_service.categories(self.session, self.community.id)}
        buildings = await _buildings(self.session, self.community.id)
        lat = lng = None
        if spec.pin and spec.building in self.pins:
            lat, lng = (round(v + self.rng.uniform(-0.00015, 0.00015), 6) for v in self.pins[spec.building])
        staff = spec.reporter == "grid"
        self.issues[spec.title] = await issues_service.report_issue(
            self.session, await self.cast.scope(spec.reporter), IssueCreate(
                title=spec.title, description=spec.description, category_id=categories[spec.category],
                building_id=buildings[spec.building] if spec.building else None, location_text=spec.where,
                lat=lat, lng=lng, source="grid_patrol" if staff else "resident", staff_only=spec.staff_only))

    async def _support(self, title: str, who: str) -> None:
        await issues_service.support(self.session, await self.cast.scope(who), self.issues[title].id, True)

    async def _comment(self, title: str, who: str, body: str) -> None:
        await issues_service.add_comment(self.session, await self.cast.scope(who), self.issues[title].id,
                                         CommentCreate(body=body))

    async def _photo(self, who: str) -> list[str]:
        upload = await uploads.create_upload(self.session, self.storage, community_id=self.community.id,
                                             uploader_id=self.cast.people[who].id, data=_jpeg(self.rng))
        return [upload.id]

    async def _step(self, spec: _Spec, action: str) -> None:
        who = _STEP_BY.get(action, spec.reporter)
        issue = self.issues[spec.title]
        handler_id = self.handlers.get(spec.handler)
        deadline = clock.now() + timedelta(days=spec.deadline_days) if spec.deadline_days else None
        body = {
            "reject": lambda: TransitionIn(action="reject", reason=spec.reason),
            "merge": lambda: TransitionIn(action="merge", into=self.issues[spec.into].id, reason=spec.reason),
            "dispatch": lambda: TransitionIn(action="dispatch", handler_id=handler_id, deadline_at=deadline),
            "overdue": lambda: TransitionIn(action="dispatch", handler_id=handler_id, note="请于限期内拆除"),
            "verify": lambda: TransitionIn(action="verify", note="已经修好了，谢谢！"),
            "reopen": lambda: TransitionIn(action="reopen", reason=spec.reason),
        }.get(action, lambda: TransitionIn(action=action))()
        if action in ("resolve", "close_on_spot"):
            body = TransitionIn(action=action, note=spec.note, photo_ids=await self._photo(who))
        await issues_service.transition(self.session, await self.cast.scope(who), issue.id, body)
        if action == "overdue":  # nobody acted by the deadline: the next sweep escalated it 督办
            assert issue.deadline_at is not None
            self.line.add(issue.deadline_at + timedelta(minutes=3),
                          lambda: issues_service.escalate(self.session, issue, reason="overdue"))


async def _scope(session: AsyncSession, community: Community, person: Person) -> CommunityScope:
    membership, roles = await communities_service.roles_in(session, person, community)
    return CommunityScope(community=community, person=person, membership=membership, roles=roles)


async def _buildings(session: AsyncSession, cid: str) -> dict[str, str]:
    q = select(Building.name, Building.id).where(Building.community_id == cid)
    return {name: bid for name, bid in (await session.execute(q)).all()}


def _compound_issues(line: _Timeline, rng: random.Random, town: _Cast) -> int:
    """About two dozen issues in every state, over the last two months."""
    book = _IssueBook(line, rng, town, (("幸福里物业", ["handler"]), ("花山供电所", []), ("花山水务", [])),
                      _BUILDING_PINS)
    for spec in _COMPOUND_ISSUES:
        book.plan(spec)
    return len(_COMPOUND_ISSUES)


def _village_issues(line: _Timeline, hamlet: _Cast) -> int:
    book = _IssueBook(line, random.Random(SEED + 2), hamlet, (("花山供电所", []),), {})
    for spec in _VILLAGE_ISSUES:
        book.plan(spec)
    return len(_VILLAGE_ISSUES)


def accounts_table(result: DemoResult | None = None) -> str:
    """The demo accounts, what each can do, and how to sign in, for the terminal."""
    lines = [f"{'phone':<12} {'username':<10} {'password':<12} who", "-" * 72]
    for a in ACCOUNTS:
        lines.append(f"{a.phone:<12} {a.username or '-':<10} {DEMO_PASSWORD if a.username else '-':<12} "
                     f"{a.name} · {a.role} · {a.place}")
        lines.append(f"    → {a.can}")
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

Choose = Callable[[list[str]], list[str]]  # the option ids -> a ballot's choices


class _PollBook:
    """Plans the committee's polls on the timeline, with the votes cast in the app and the paper
    ballots the grid worker collects door to door 纸质选票 and enters with a witness."""

    def __init__(self, line: _Timeline, cast: _Cast, rng: random.Random) -> None:
        self.line, self.cast, self.rng, self.session = line, cast, rng, cast.session
        self.ids: dict[str, str] = {}  # title -> poll id

    def _add(self, when: str | datetime, step: Step) -> datetime:
        t = self.line.at(when) if isinstance(when, str) else when
        self.line.add(t, step)
        return t

    async def _poll(self, title: str) -> Poll:
        return await polls_service.poll_for_demo(self.session, self.ids[title])

    async def _options(self, title: str) -> list[str]:
        return [o.id for o in await polls_service.options(self.session, self.ids[title])]

    def create(self, when: str, title: str, make: Callable[[], Awaitable[PollCreate]]) -> None:
        async def step() -> None:
            poll = await polls_service.create_poll(self.session, await self.cast.scope("committee"), await make())
            self.ids[title] = poll.id
        self._add(when, step)

    def open(self, when: str, title: str) -> None:
        async def step() -> None:
            await polls_service.open_poll(self.session, self.cast.people["committee"].id, await self._poll(title),
                                          at_once=True)
        self._add(when, step)

    def votes(self, title: str, voters: list[str], start: str, end: str, choose: Choose) -> None:
        """Each voter's ballot in the app, at a time of their own."""
        first, last = self.line.at(start), self.line.at(end)
        for who in voters:
            if title in _PROMISED.get(who, ()):
                raise ValueError(f"{who} is promised {title} unvoted")
            self.cast.member(who, first, title)

            async def step(who: str = who) -> None:
                choices = choose(await self._options(title))
                await polls_service.cast_ballot(self.session, await self.cast.scope(who), await self._poll(title),
                                                BallotIn(choices=choices))
            self._add(self.line.between(self.rng, first, last), step)

    def paper(self, title: str, how_many: int, start: str, end: str, choose: Choose, witness: str,
              spare: list[str]) -> None:
        """Paper ballots for households not voting in the app: never those of ``spare`` (who vote in
        the app, now or later)."""
        first, last = self.line.at(start), self.line.at(end)
        for t in sorted(self.line.between(self.rng, first, last) for _ in range(how_many)):
            async def step() -> None:
                skip = {(await self.cast.scope(k)).membership.household_id for k in spare}  # type: ignore[union-attr]
                poll = await self._poll(title)
                (elector,) = await polls_service.unvoted_electors(self.session, poll.id, 1,
                                                                  skip_households={h for h in skip if h})
                await polls_service.enter_paper_ballot(
                    self.session, await self.cast.scope("grid"), poll, PaperBallotIn(
                        elector_id=elector.id, choices=choose(await self._options(title)), witness=witness,
                        voter_name=elector.label[:50]))
            self._add(t, step)

    def close(self, when: str | datetime, title: str) -> None:
        """At its closing time, as the sweep closes it."""
        async def step() -> None:
            await polls_service.close_poll(self.session, None, await self._poll(title))
        self._add(when, step)

    def publish(self, when: str, title: str, note: str) -> None:
        async def step() -> None:
            await polls_service.publish_notice(self.session, self.cast.people["committee"].id,
                                               await self._poll(title), note)
        self._add(when, step)


# The demo voters who must find these polls open and unvoted.
_PROMISED = {"owner": VOTES_FOR[OWNER.phone], "resident": VOTES_FOR[RESIDENT.phone]}


def _compound_polls(line: _Timeline, town: _Cast, homes: dict[str, Household]) -> int:
    """Five decisions in every stage: an owners' vote under the Civil Code being collected, a
    household dot-vote over the issue list, a hidden renovation survey (all three open, days
    old), a ranked choice on public notice with an answered objection, and a final one."""
    rng = random.Random(SEED + 3)
    book = _PollBook(line, town, rng)
    session = town.session
    everyone = ["owner", "leader", "resident", *(f"n{i}" for i in range(10))]
    yes_mostly = [["yes"]] * 5 + [["no"], ["abstain"]]

    def proposal(ballots: list[list[str]]) -> Choose:
        return lambda _: list(rng.choice(ballots))

    # 5. A named vote 记名 that is final: the date of the next 屋场会.
    async def meeting() -> PollCreate:
        return PollCreate(title=MEETING_POLL, kind="single", electorate="residents", secret=False,
                          closes_at=line.at("8 20:00"), notice_days=0,
                          options=[OptionIn(label="周六上午"), OptionIn(label="周六晚上"), OptionIn(label="周日下午")])
    book.create("12 18:30", MEETING_POLL, meeting)
    book.open("12 18:40", MEETING_POLL)
    book.votes(MEETING_POLL, everyone, "12 18:45", "8 19:30", lambda days: [rng.choice(days)])
    book.close("8 20:00", MEETING_POLL)
    book.publish("8 20:30", MEETING_POLL, "")

    # 4. Ranked choice 排序 on the parking plan: closed, counted, on public notice with an objection.
    async def parking() -> PollCreate:
        return PollCreate(
            title=PARKING_POLL, kind="ranked", electorate="households", closes_at=line.at("4 20:00"), notice_days=5,
            options=[OptionIn(label="划线停车，按月收费"), OptionIn(label="划线停车，免费但限一户一车"),
                     OptionIn(label="引入智能道闸，临时停车收费"), OptionIn(label="维持现状")],
            description="请按您的偏好排序：第一位最想要。采用即时决选（逐轮淘汰得票最少者）。")
    book.create("21 10:00", PARKING_POLL, parking)
    book.open("20 09:00", PARKING_POLL)
    book.votes(PARKING_POLL, everyone, "20 09:10", "5 21:00", lambda plan: rng.sample(plan, rng.randint(2, 4)))
    book.paper(PARKING_POLL, 25, "17 18:00", "5 20:30", lambda plan: rng.sample(plan, 3), "刘建国（网格员）",
               everyone)
    book.close("4 20:00", PARKING_POLL)
    book.publish("4 20:40", PARKING_POLL, "公示期5天，对结果有异议请在本页提出，社区将逐条答复。")
    objection: dict[str, str] = {}

    async def object_() -> None:
        found = await polls_service.file_objection(session, await town.scope("owner"), await book._poll(PARKING_POLL),
                                                   "我家老人不会用手机，是否都已入户收集纸质选票？")
        objection["id"] = found.id

    async def answer() -> None:
        await polls_service.answer_objection(session, await town.scope("committee"), await book._poll(PARKING_POLL),
                                             objection["id"],
                                             "网格员已对未在手机上投票的住户逐户上门，收集纸质选票25张，均有楼栋长见证。")
    line.add(line.at("3 09:12"), object_)
    line.add(line.at("2 16:40"), answer)

    # 1. 民法典第二百七十八条: raising the maintenance fund for a lift, owners of one building, by area.
    async def lift() -> PollCreate:
        return PollCreate(
            title=LIFT_POLL, kind="proposal", electorate="owners", matter="raise_fund",
            scope_building_id=homes["owner"].building_id, closes_at=line.at("-6 20:00"), notice_days=7, description=(
                "1栋拟加装电梯，费用由业主按面积分摊，需筹集维修资金。按《民法典》第二百七十八条，须专有部分面积和"
                "人数均三分之二以上的业主参与表决，并经参与表决的面积和人数均四分之三以上同意。"))
    book.create("9 15:00", LIFT_POLL, lift)
    book.open("8 09:00", LIFT_POLL)
    book.votes(LIFT_POLL, ["leader"], "8 09:30", "8 21:00", proposal([["yes"]]))
    book.paper(LIFT_POLL, 14, "7 18:00", "1 20:30", proposal(yes_mostly), "张桂兰（楼栋长）", ["owner", "leader"])

    # 2. A household dot-vote 圈点投票 over the open issues: which three to fix first.
    async def dots() -> PollCreate:
        open_issues = (await session.execute(select(Issue).where(
            Issue.community_id == town.community.id, Issue.status.in_(("reported", "accepted", "dispatched")),
            Issue.staff_only.is_(False)).order_by(Issue.supports_count.desc(), Issue.id).limit(6))).scalars().all()
        return PollCreate(
            title=DOTS_POLL, kind="approval", max_choices=3, electorate="households", closes_at=line.at("-6 20:00"),
            options=[OptionIn(issue_id=i.id) for i in open_issues], notice_days=3,
            description="每户3个点，投给您最希望先解决的问题。结果将作为下次屋场会的议题顺序。")
    book.create("3 09:00", DOTS_POLL, dots)
    book.open("3 09:20", DOTS_POLL)
    app_voters = [k for k in everyone if k not in ("owner", "resident")]
    book.votes(DOTS_POLL, app_voters, "3 09:30", "1 21:30", lambda options: rng.sample(options, 3))
    book.paper(DOTS_POLL, 20, "2 18:00", "1 20:00", lambda options: rng.sample(options, 3), "刘建国（网格员）",
               everyone)

    # 3. 老旧小区改造意愿: the willingness survey, results hidden until it closes.
    async def survey() -> PollCreate:
        return PollCreate(
            title=SURVEY_POLL, kind="proposal", electorate="owners", preset="old_compound_renovation_willingness",
            hide_results=True, closes_at=line.at("-14 20:00"),
            description="改造内容：外墙保温、雨污分流、增设停车位、加装路灯。三分之二以上业主同意方可申报。")
    book.create("4 09:00", SURVEY_POLL, survey)
    book.open("4 09:30", SURVEY_POLL)
    book.votes(SURVEY_POLL, ["leader", "n0", "n1"], "4 10:00", "1 21:00", proposal([["yes"]]))
    return 5
