"""The demo compound's living co-build 共建共管 (app/demo.py calls ``seed_demo``): everything goes
through the tasks service, each step at its time on the demo's timeline.

- an open Saturday clean-up with claims — one of them made by the grid worker for 王秀英, an
  elderly resident of 1栋 without a phone — that the owner and the tenant can still join;
- last month's stairwell clean-up, verified and paid (one claim verified by itself when the
  organiser said nothing), and a leaflet clean-up whose photos wait in the committee's queue;
- a green patch adopted with a missed check-in (flagged to the adopter and the organiser), and
  the owner's 门前三包 whose check-in is due tomorrow;
- micro-wishes 微心愿 in every state: waiting for approval, open, taken up, granted (by the property
  company), cancelled;
- time-bank hours earned keeping elderly neighbours company, then spent: a request paid to its
  helper, one open with its hours on hold, one cancelled and given back;
- a reported issue turned into a volunteer task, the link on both sides.
"""

from __future__ import annotations

import io
import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Person
from app.communities import service as communities
from app.communities.deps import CommunityScope
from app.communities.models import Community
from app.core import clock, uploads
from app.core.pagination import PageParams
from app.core.policy import Role
from app.core.storage import get_storage
from app.tasks import repository as repo
from app.tasks import service
from app.tasks.models import Task, TaskClaim
from app.tasks.schemas import (
    ClaimCreate,
    ClaimTransitionIn,
    Eligibility,
    Reward,
    TaskCreate,
    TaskFromIssue,
    TaskTransitionIn,
)

Step = Callable[[], Awaitable[object]]
ELDER = "王秀英"


class Line(Protocol):
    now: datetime

    def at(self, when: str) -> datetime: ...

    def add(self, when: datetime, step: Step) -> None: ...


class Cast(Protocol):
    session: AsyncSession
    community: Community
    people: dict[str, Person]
    since: dict[str, datetime]

    async def scope(self, key: str) -> CommunityScope: ...

    def member(self, key: str, when: datetime, what: str) -> None: ...


def _jpeg(rng: random.Random) -> bytes:
    """A plain stand-in for a volunteer's photo of the work done."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (480, 360), (rng.randrange(170, 220), 200, rng.randrange(150, 200)))
    ImageDraw.Draw(image).ellipse((140, 80, 340, 280), fill=(60, rng.randrange(120, 170), 80))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=80)
    return buf.getvalue()


class _Book:
    """Plans tasks and their claims on the timeline; objects are found again by title."""

    def __init__(self, line: Line, cast: Cast, rng: random.Random) -> None:
        self.line, self.cast, self.rng = line, cast, rng
        self.session = cast.session
        self.tasks: dict[str, Task] = {}
        self.claims: dict[tuple[str, str], TaskClaim] = {}
        self.posted = 0

    def at(self, when: str, step: Step) -> datetime:
        t = self.line.at(when)
        self.line.add(t, step)
        return t

    def post(self, when: str, who: str, body: Callable[[], TaskCreate]) -> None:
        self.posted += 1

        async def step() -> None:
            task = await service.create_task(self.session, await self.cast.scope(who), body())
            self.tasks[task.title] = task
        self.cast.member(who, self.at(when, step), f"task by {who}")

    def task_action(self, when: str, who: str, title: str, action: str, reason: str = "") -> None:
        async def step() -> None:
            scope = await self.cast.scope(who)
            ctx = await service.context(self.session, scope, self.tasks[title].id)
            await service.transition_task(self.session, scope, ctx, TaskTransitionIn(action=action, reason=reason))
        self.at(when, step)

    def claim(self, when: str, who: str, title: str, *, by: str | None = None, organisation: str = "") -> None:
        async def step() -> None:
            scope = await self.cast.scope(by or who)
            body = ClaimCreate(for_person_id=self.cast.people[who].id if by else None, organisation=organisation)
            self.claims[(title, who)] = await service.claim(self.session, scope, self.tasks[title].id, body)
        self.cast.member(by or who, self.at(when, step), f"claim of {title}")

    def act(self, when: str, who: str, title: str, claimant: str, action: str, **extra: Any) -> None:
        async def step() -> None:
            scope = await self.cast.scope(who)
            body = dict(extra)
            if action == "checkin" and "code" not in body and "photo_ids" not in body and who != "committee":
                body["code"] = service.current_code(self.tasks[title])[0]  # scanned on site
            if body.pop("photo", False):
                upload = await uploads.create_upload(self.session, get_storage(), community_id=self.cast.community.id,
                                                     uploader_id=scope.person.id, data=_jpeg(self.rng))
                body["photo_ids"] = [upload.id]
            await service.transition_claim(self.session, scope, self.tasks[title].id,
                                           self.claims[(title, claimant)].id,
                                           ClaimTransitionIn(action=action, **body))
        self.at(when, step)

    def auto_verify(self, when: str, title: str, claimant: str) -> None:
        async def step() -> None:
            claim = self.claims[(title, claimant)]
            await service.auto_verify(self.session, claim, clock.now())
        self.at(when, step)

    def missed_checkin(self, when: str, title: str, claimant: str) -> None:
        """What the sweep does when an adoption's check-in date passes: flag it, once, to both sides."""
        async def step() -> None:
            claim = self.claims[(title, claimant)]
            await self.session.refresh(claim)
            due = claim.next_checkin_due_at
            if due is not None and await repo.mark_once(self.session, claim.id, "missed_flagged_for", due,
                                                        unless=due):
                claim.missed_flagged_for = due
                await service.flag_checkin(self.session, claim, self.tasks[title], missed=True)
        self.at(when, step)


def _window(line: Line, start: str, hours: float) -> tuple[datetime, datetime]:
    begins = line.at(start)
    return begins, begins + timedelta(hours=hours)


async def _add_elder(cast: Cast) -> None:
    """王秀英, 83, lives in 1栋 and has no phone: the grid worker and the building leader act for her."""
    session, cid = cast.session, cast.community.id
    building = next(b for b in await communities.buildings(session, cid) if b.name == "1栋")
    homes, _ = await communities.households(session, cid, PageParams(limit=100, cursor=None), building.id)
    home = next(h for h in homes if h.unit == "2单元" and h.room == "102")
    elder = Person(name=ELDER, phone=None)
    session.add(elder)
    await session.flush()
    await communities.add_member(session, cid, elder, [Role.resident], household_id=home.id, building_id=building.id)
    cast.people["elder"] = elder
    cast.since["elder"] = clock.now()


def seed_demo(line: Line, cast: Cast, *, issue_id: Callable[[str], Awaitable[str | None]]) -> int:
    """Plan the compound's tasks on the timeline (run later by the demo); returns how many tasks.
    ``issue_id(title)`` finds a demo issue once it has been reported."""
    book = _Book(line, cast, random.Random(2025))
    line.add(line.at("57 10:00"), lambda: _add_elder(cast))
    everyone = Eligibility(scope="community")

    # --- last month's stairwell clean-up: verified and paid (the honour board's points) ---------
    s1, e1 = _window(line, "30 09:00", 3)
    clean = "楼道清理志愿活动"
    book.post("36 10:00", "committee", lambda: TaskCreate(
        kind="volunteer", title=clean, description="清理1至4栋楼道杂物和小广告，社区提供手套和工具。",
        location_text="1栋楼下集合", starts_at=s1, ends_at=e1, people_needed=8, evidence_required=True,
        reward=Reward(unit="points", amount=20), eligibility=everyone, organiser_ids=[cast.people["grid"].id],
        publish=True))
    volunteers = ["n0", "n1", "n2", "n3", "owner", "leader"]
    for i, who in enumerate(volunteers):
        book.claim(f"{35 - i % 3} {19 + i % 3}:{10 * i:02d}", who, clean)
    book.claim("33 20:30", "elder", clean, by="grid")
    for i, who in enumerate(volunteers):
        book.act(f"30 {'08:5' if i < 3 else '09:0'}{i}", who, clean, who, "checkin")
    book.act("30 09:06", "grid", clean, "elder", "checkin")
    for i, who in enumerate(volunteers):
        book.act(f"30 {12 + i // 3}:{15 + i:02d}", who, clean, who, "submit", photo=True, minutes=150,
                 note="楼道已清理干净")
    book.act("30 12:40", "grid", clean, "elder", "submit", photo=True, minutes=60, note="王奶奶帮忙分拣纸箱")
    for i, who in enumerate(volunteers[:-1]):
        book.act(f"29 {10 + i}:05", "committee", clean, who, "verify")
    book.act("29 16:00", "committee", clean, "elder", "verify")
    book.auto_verify("22 13:30", clean, "leader")  # the organisers said nothing for 7 days: verified by itself

    # --- time-bank hours earned, then asked for and spent ---------------------------------------
    s2, e2 = _window(line, "25 14:00", 2)
    visit = "重阳节陪伴独居老人"
    book.post("28 09:00", "committee", lambda: TaskCreate(
        kind="volunteer", title=visit, description="两人一组上门陪独居老人聊天、读报，记入时间银行。",
        location_text="社区服务站集合", starts_at=s2, ends_at=e2, people_needed=4,
        reward=Reward(unit="hours", amount=120), eligibility=everyone, publish=True))
    for i, who in enumerate(("n4", "n5", "n6", "resident")):
        book.claim(f"27 {20 + i % 2}:1{i}", who, visit)
        book.act(f"25 13:5{i}", "committee", visit, who, "checkin")
        book.act(f"25 16:3{i}", "committee", visit, who, "verify")

    kids = "帮忙接孩子放学"
    book.post("12 08:30", "n6", lambda: TaskCreate(
        kind="timebank", title=kids, description="周三下午临时加班，请邻居帮忙去幸福里小学接孩子，送到2栋。",
        location_text="幸福里小学门口", starts_at=line.at("10 16:30"), ends_at=line.at("10 18:00"),
        reward=Reward(unit="hours", amount=90), publish=True))
    book.claim("11 19:20", "n5", kids)
    book.act("10 17:40", "n5", kids, "n5", "submit", minutes=80, note="孩子已安全送到家")
    book.act("10 18:10", "n6", kids, "n5", "confirm")

    medicine = "帮忙去医院取药"
    book.post("3 09:15", "resident", lambda: TaskCreate(
        kind="timebank", title=medicine, description="腿脚不便，请邻居帮忙去社区医院取降压药，处方在我这里。",
        location_text="9栋1单元402", starts_at=line.at("-2 09:00"), ends_at=line.at("-2 12:00"),
        reward=Reward(unit="hours", amount=60), publish=True))
    fix = "帮忙修理自行车"
    book.post("15 19:00", "n4", lambda: TaskCreate(
        kind="timebank", title=fix, description="孩子的自行车链条掉了，想请会修车的邻居帮帮忙。",
        location_text="5栋车棚", starts_at=line.at("13 18:00"), ends_at=line.at("13 20:00"),
        reward=Reward(unit="hours", amount=30), publish=True))
    book.task_action("14 08:10", "n4", fix, "cancel", reason="家人已经修好了")

    # --- adoptions 认领: a missed check-in, and one due tomorrow --------------------------------
    patch = "认领6栋前3号绿地"
    book.post("45 09:00", "committee", lambda: TaskCreate(
        kind="adoption", title=patch, description="浇水、除草、捡拾垃圾，每周至少打卡一次（拍照即可）。",
        location_text="6栋前3号绿地", starts_at=line.at("44 00:00"), ends_at=line.at("-320 00:00"),
        checkin_every_days=7, people_needed=1, reward=Reward(unit="points", amount=50), eligibility=everyone,
        organiser_ids=[cast.people["grid"].id], publish=True))
    book.claim("43 18:30", "n7", patch)
    for when in ("40 07:30", "33 07:40", "26 07:20", "19 08:10", "12 07:50"):
        book.act(when, "n7", patch, "n7", "checkin", photo=True)
    book.missed_checkin("4 09:00", patch, "n7")  # due 5 days ago, and nobody checked in

    doorstep = "门前三包：1栋1单元"
    book.post("20 10:00", "committee", lambda: TaskCreate(
        kind="adoption", title=doorstep, description="1栋1单元门前的卫生、绿化和秩序，每周打卡一次。",
        location_text="1栋1单元门前", starts_at=line.at("20 00:00"), ends_at=line.at("-345 00:00"),
        checkin_every_days=7, publish=True))
    book.claim("19 20:00", "owner", doorstep)
    book.act("13 08:30", "owner", doorstep, "owner", "checkin", photo=True)
    book.act("6 08:10", "owner", doorstep, "owner", "checkin", photo=True)  # the next is due tomorrow morning

    # --- micro-wishes 微心愿 in every state ------------------------------------------------------
    glasses = "想要一副老花镜"
    book.post("22 15:00", "leader", lambda: TaskCreate(
        kind="wish", title=glasses, description="王奶奶的老花镜摔坏了，看不清药盒上的字。",
        for_person_id=cast.people["elder"].id,
        location_text="1栋2单元102", ends_at=line.at("-8 18:00"), publish=True))
    book.task_action("21 09:30", "committee", glasses, "approve")
    book.claim("20 11:00", "handler", glasses, organisation="幸福里物业")
    book.act("18 15:00", "handler", glasses, "handler", "submit", photo=True, note="已配好送到王奶奶家")
    book.act("18 16:20", "leader", glasses, "handler", "confirm")  # the building leader, for her

    phone_lesson = "想学用智能手机视频通话"
    book.post("9 10:00", "n8", lambda: TaskCreate(
        kind="wish", title=phone_lesson, description="孩子在外地工作，想学会用微信和他们视频。",
        location_text="社区活动室", ends_at=line.at("-20 18:00"), publish=True))
    book.task_action("8 09:00", "committee", phone_lesson, "approve")
    book.claim("7 20:00", "resident", phone_lesson)

    doctor = "希望有人陪我去社区医院复诊"
    book.post("5 09:30", "grid", lambda: TaskCreate(
        kind="wish", title=doctor, description="王奶奶下周二要去社区医院复诊，想有人陪同。",
        for_person_id=cast.people["elder"].id,
        location_text="社区卫生服务中心", ends_at=line.at("-5 12:00"), publish=True))
    book.task_action("4 10:00", "committee", doctor, "approve")

    walker = "想要一个助行器"
    book.post("1 16:00", "leader", lambda: TaskCreate(
        kind="wish", title=walker, description="王奶奶走路不稳，想要一个带轮子的助行器。",
        for_person_id=cast.people["elder"].id,
        location_text="1栋2单元102", ends_at=line.at("-30 18:00"), publish=True))  # waits for the committee

    bulb = "家里灯泡坏了想请人换"
    book.post("16 18:00", "n9", lambda: TaskCreate(
        kind="wish", title=bulb, description="厨房灯泡坏了，够不着。", location_text="7栋", ends_at=line.at("6 18:00"),
        publish=True))
    book.task_action("15 09:00", "committee", bulb, "approve")
    book.task_action("15 20:00", "n9", bulb, "cancel", reason="儿子回来已经换好了")

    # --- the open clean-up this Saturday, and a leaflet clean-up waiting for verification ---------
    s3, e3 = _window(line, "-2 09:00", 2.5)
    saturday = "周六小区大扫除"
    book.post("5 10:00", "committee", lambda: TaskCreate(
        kind="volunteer", title=saturday,
        description="清理绿化带垃圾、楼道小广告，社区提供工具和饮用水。完成后拍照提交。",
        location_text="小区广场集合", starts_at=s3, ends_at=e3, people_needed=12, evidence_required=True,
        reward=Reward(unit="points", amount=20), organiser_ids=[cast.people["grid"].id], publish=True))
    for i, who in enumerate(("n0", "n2", "n5", "n9")):
        book.claim(f"{4 - i % 3} 20:{10 + i}", who, saturday)
    book.claim("3 10:20", "elder", saturday, by="grid")

    s4, e4 = _window(line, "3 15:00", 2)
    leaflets = "清理小广告"
    book.post("6 09:00", "committee", lambda: TaskCreate(
        kind="volunteer", title=leaflets, description="清理5至8栋楼道和电线杆上的小广告。", location_text="5栋楼下",
        starts_at=s4, ends_at=e4, people_needed=3, evidence_required=True, reward=Reward(unit="points", amount=10),
        publish=True))
    book.claim("5 19:00", "n1", leaflets)
    book.act("3 15:02", "n1", leaflets, "n1", "checkin")
    book.act("3 16:50", "n1", leaflets, "n1", "submit", photo=True, minutes=110, note="共清理47处")  # in the queue

    # --- an issue turned into a volunteer task ---------------------------------------------------
    async def from_issue() -> None:
        found = await issue_id("6栋前绿化带缺损")
        if found is None:
            return
        s5, e5 = _window(line, "-4 15:00", 2)
        task = await service.task_from_issue(
            cast.session, await cast.scope("committee"), found, TaskFromIssue(
                title="补种6栋前冬青", starts_at=s5, ends_at=e5, people_needed=6, publish=True,
                description="物业提供苗木，招募居民一起补种被踩坏的冬青，顺便立一块“请勿踩踏”的牌子。"))
        book.tasks[task.title] = task
    line.add(line.at("2 11:00"), from_issue)
    return book.posted + 1
