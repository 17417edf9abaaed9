"""The rules of the issue list: who sees what, reporting, supporting, commenting, and carrying
out the lifecycle table of ``flows.py``."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Person
from app.communities import service as communities
from app.communities.deps import CommunityScope
from app.core import audit, clock, policy, uploads
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, UnknownReference
from app.core.i18n import t
from app.core.models import Upload
from app.core.pagination import PageParams, paginate
from app.issues import flows
from app.issues import repository as repo
from app.issues.flows import Actor, Status
from app.issues.models import (
    Category,
    Handler,
    HandlerMember,
    Issue,
    IssueComment,
    IssueEvent,
    IssueFollower,
    IssuePhoto,
    IssueSupport,
)
from app.issues.schemas import CategoryCreate, CommentCreate, HandlerCreate, IssueCreate, TransitionIn
from app.notifications import service as notifications

MAX_PHOTOS = 9

# PRODUCT.md's default categories, with the days a handler has for each.
DEFAULT_CATEGORIES: tuple[tuple[str, int], ...] = (
    ("环境卫生", 3), ("道路", 7), ("排水", 3), ("照明", 5), ("绿化", 7), ("停车", 7),
    ("安全隐患", 2), ("违章搭建", 15), ("邻里纠纷", 7), ("公共服务", 7), ("其他", 7),
)



def category_label(name: str, locale: str) -> str:
    """A category as shown: a default one (stored by its Chinese name) in the reader's language,
    one the committee made as it was typed. The pages do the same with the same catalogue keys."""
    key = f"issue.category.{name}"
    label = t(key, locale)
    return name if label == key else label


# What the audit log records here, and how it reads (app/core/audit.py).
audit.declare("issue_category", ["issue_category.create"], name=audit.TEXT, deadline_days=audit.NUMBER,
              default_handler_id=audit.ref("issue_handler"))
audit.declare("issue_handler", ["issue_handler.create"], name=audit.TEXT,
              kind=audit.enum("ui.audit.value.handler_kind", ("person", "unit")), member_ids=audit.refs("person"))
audit.declare("issue", [f"issue.{action}" for action in flows.TRANSITIONS],
              status=audit.enum("ui.issue.status", [s.value for s in Status]), handler_id=audit.ref("issue_handler"),
              category_id=audit.ref("issue_category"), deadline_at=audit.TIME, into=audit.ref("issue"),
              photos=audit.NUMBER)
audit.resolver("issue", lambda session, cid, ids, locale: repo.names_in(session, Issue, Issue.title, cid, ids))
audit.resolver("issue_handler",
               lambda session, cid, ids, locale: repo.names_in(session, Handler, Handler.name, cid, ids))
audit.resolver("issue_category",
               lambda session, cid, ids, locale: repo.names_in(session, Category, Category.name, cid, ids))

# --- visibility ---------------------------------------------------------------------------
# Who sees a staff-only issue (a dispute 纠纷, a theft …) is decided here, once: ``sees_issue``
# for one issue, ``visibility_clause`` for a query of many (list, search, map, duplicates), the
# same rule in Python and in SQL. Everything about an issue (comments, timeline, photos,
# support, follow, transitions) goes through ``visible_issue``.

def sees_reporters(scope: CommunityScope) -> bool:
    """Staff see the names of reporters who asked to be hidden from their neighbours."""
    return scope.can("issues.see_reporters")


def sees_issue(issue: Issue, person_id: str, roles: frozenset[str], handler_ids: Collection[str]) -> bool:
    """Anyone in the community sees a public issue. A staff-only one is seen by the committee and
    grid workers, and by anyone else only if they reported it or it is dispatched to a handler
    unit they belong to (``handler_ids``): a property company's plumber does not read every
    neighbours' dispute in the community, only those sent to the company."""
    return (not issue.staff_only or policy.allowed("issues.see_staff_only", roles)
            or issue.reporter_id == person_id or (issue.handler_id is not None and issue.handler_id in handler_ids))


async def visibility_clause(session: AsyncSession, scope: CommunityScope) -> ColumnElement[bool] | None:
    """``sees_issue`` as a filter on a query of this community's issues; None: the caller sees them all."""
    if scope.can("issues.see_staff_only"):
        return None
    return repo.visible_to(scope.person.id, await repo.handler_ids_of(session, scope.person.id))


async def visible_issue(session: AsyncSession, scope: CommunityScope, issue_id: str) -> Issue:
    """The issue if this caller may see it; 404 otherwise, exactly as if it did not exist."""
    issue = await repo.issue_in(session, scope.community_id, issue_id)
    if issue is None or not await _sees(session, scope, issue):
        raise NotFound("issue_not_found")
    return issue


async def _sees(session: AsyncSession, scope: CommunityScope, issue: Issue) -> bool:
    handler_ids = await repo.handler_ids_of(session, scope.person.id) if issue.staff_only else []
    return sees_issue(issue, scope.person.id, scope.roles, handler_ids)


async def actors_for(session: AsyncSession, scope: CommunityScope, issue: Issue) -> frozenset[Actor]:
    """What the caller is to this issue, for the lifecycle table."""
    out: set[Actor] = set()
    if scope.can("issues.triage"):
        out.add(Actor.committee)
    if issue.reporter_id == scope.person.id:
        out.add(Actor.reporter)
    if "grid_worker" in scope.roles:
        grids = scope.membership.grid_ids if scope.membership else []
        if issue.grid_id is None or issue.grid_id in grids:
            out.add(Actor.grid_worker)
    if issue.handler_id and await repo.is_handler_member(session, issue.handler_id, scope.person.id):
        out.add(Actor.handler)
    return frozenset(out)


async def upload_on_issues(session: AsyncSession, upload: Upload) -> bool | None:
    """For app/core/media.py: a photo shown on issues (a report or after photo, or in a comment) is
    public if every such issue is, private if one is staff-only; None when it is on no issue."""
    staff_only = await repo.staff_only_of_issues_showing(session, upload.community_id, upload.id)
    return not any(staff_only) if staff_only else None


# --- categories and handlers -----------------------------------------------------------------

async def categories(session: AsyncSession, community_id: str) -> list[Category]:
    """The community's categories; the defaults are created on first use."""
    found = await repo.categories(session, community_id)
    if found:
        return found
    try:
        async with session.begin_nested():
            for i, (name, days) in enumerate(DEFAULT_CATEGORIES):
                session.add(Category(community_id=community_id, name=name, deadline_days=days, position=i))
            await session.flush()
    except IntegrityError:
        pass  # another request created them at the same moment
    return await repo.categories(session, community_id)


async def create_category(session: AsyncSession, scope: CommunityScope, data: CategoryCreate) -> Category:
    await categories(session, scope.community_id)
    if data.default_handler_id and await repo.handler_in(session, scope.community_id, data.default_handler_id) is None:
        raise UnknownReference("handler_not_found", "default_handler_id")
    category = Category(community_id=scope.community_id, position=100, **data.model_dump())
    try:
        async with session.begin_nested():
            session.add(category)
            await session.flush()
    except IntegrityError as exc:
        raise Conflict("name_taken") from exc
    await audit.record(session, actor_id=scope.person.id, community_id=scope.community_id,
                       action="issue_category.create", object_type="issue_category", object_id=category.id,
                       after=data.model_dump())
    return category


async def create_handler(session: AsyncSession, scope: CommunityScope,
                         data: HandlerCreate) -> tuple[Handler, list[str]]:
    member_ids = list(dict.fromkeys(data.member_ids))
    if not await communities.are_members(session, scope.community_id, member_ids):
        raise UnknownReference("member_not_found", "member_ids")
    handler = Handler(community_id=scope.community_id, name=data.name, kind=data.kind)
    try:
        async with session.begin_nested():
            session.add(handler)
            await session.flush()
    except IntegrityError as exc:
        raise Conflict("name_taken") from exc
    for pid in member_ids:
        session.add(HandlerMember(handler_id=handler.id, person_id=pid))
    await session.flush()
    await audit.record(session, actor_id=scope.person.id, community_id=scope.community_id,
                       action="issue_handler.create", object_type="issue_handler", object_id=handler.id,
                       after=data.model_dump())
    return handler, member_ids


# --- reporting -----------------------------------------------------------------------------

async def _check_photos(session: AsyncSession, scope: CommunityScope, photo_ids: list[str]) -> None:
    """Photos the caller may attach: their own uploads (any, for the committee) or public ones. Another
    community's, another person's, or an unknown one is a 422 naming it, as if it did not exist."""
    if len(set(photo_ids)) != len(photo_ids):
        raise Invalid("photo_duplicate")
    for i, upload_id in enumerate(photo_ids):
        try:
            await uploads.visible_upload(session, scope, upload_id)
        except NotFound as e:
            raise UnknownReference("upload_not_found", "photo_ids", i) from e


async def _attach_photos(session: AsyncSession, scope: CommunityScope, issue_id: str, photo_ids: list[str],
                         kind: str, start: int = 0) -> None:
    await _check_photos(session, scope, photo_ids)
    for i, upload_id in enumerate(photo_ids):
        session.add(IssuePhoto(issue_id=issue_id, upload_id=upload_id, kind=kind, position=start + i))


async def report_issue(session: AsyncSession, scope: CommunityScope, data: IssueCreate) -> Issue:
    if (data.source != "resident" or data.staff_only) and not scope.can("issues.report_as_staff"):
        raise Forbidden("issue_staff_fields")
    await categories(session, scope.community_id)
    category = await repo.category_in(session, scope.community_id, data.category_id)
    if category is None or not category.active:
        raise UnknownReference("category_not_found", "category_id")
    grid_id = None
    if data.building_id:
        building = await communities.get_building(session, scope.community_id, data.building_id)
        if building is None:
            raise UnknownReference("building_not_found", "building_id")
        grid_id = building.grid_id
    if (data.lat is None) != (data.lng is None):
        raise Invalid("location_incomplete")
    issue = Issue(
        community_id=scope.community_id, title=data.title, description=data.description, category_id=category.id,
        source=data.source, staff_only=data.staff_only, hide_reporter=data.hide_reporter,
        reporter_id=scope.person.id, lat=data.lat, lng=data.lng, building_id=data.building_id, grid_id=grid_id,
        location_text=data.location_text, handler_id=category.default_handler_id,
    )
    session.add(issue)
    await session.flush()
    await _attach_photos(session, scope, issue.id, data.photo_ids, "report")
    session.add(IssueFollower(issue_id=issue.id, person_id=scope.person.id))
    session.add(IssueEvent(issue_id=issue.id, actor_id=scope.person.id, action="report", to_status=Status.reported,
                           data={"source": data.source}))
    await session.flush()
    await _notify_reported(session, scope, issue)
    return issue


# --- lifecycle -----------------------------------------------------------------------------

@dataclass
class Step:
    """What a transition changes, besides the state."""

    values: dict[str, Any]
    note: str
    data: dict[str, Any]


async def transition(session: AsyncSession, scope: CommunityScope, issue_id: str, body: TransitionIn) -> Issue:
    issue = await visible_issue(session, scope, issue_id)
    actors = await actors_for(session, scope, issue)
    try:
        tr = flows.check(body.action, Status(issue.status), actors)
    except flows.UnknownAction as exc:
        raise Invalid("issue_action_unknown", action=body.action,
                      extra={"allowed": flows.allowed_actions(Status(issue.status))}) from exc
    except flows.NotAllowedFrom as exc:
        raise Conflict("issue_action_not_allowed", action=body.action, extra={"allowed": exc.allowed}) from exc
    except flows.WrongActor as exc:
        raise Forbidden("issue_wrong_actor", action=body.action) from exc
    missing = [n for n in ("reason", "note", "handler", "into", "photo") if n in tr.needs and not _given(body, n)]
    if missing:
        raise Invalid("issue_action_needs", errors=[
            {"loc": ["body", _field(n)], "msg_key": f"issue.needs.{n}"} for n in missing])

    step = await _prepare(session, scope, issue, body)
    handler_before = issue.handler_id
    now = clock.now()
    target = tr.target or Status(issue.status)
    values = {"status": str(target), "updated_at": now, **step.values}
    if target is Status.closed:
        values["closed_at"] = now
    expected = issue.status
    if not await repo.move_to(session, issue, expected, values):
        raise Conflict("issue_changed_meanwhile")
    session.add(IssueEvent(issue_id=issue.id, actor_id=scope.person.id, action=body.action, from_status=expected,
                           to_status=str(target), note=step.note, data=step.data))
    if body.action == "resolve" or body.action == "close_on_spot":
        await _attach_photos(session, scope, issue.id, body.photo_ids, "after", start=MAX_PHOTOS)
    if body.action == "merge":
        await repo.move_children(session, issue.id, step.data["into"])
        session.add(IssueEvent(issue_id=step.data["into"], actor_id=scope.person.id, action="merged_in",
                               note=issue.title, data={"from": issue.id}))
    await _notify_transition(session, scope, issue, body.action, expected, handler_before, step)
    if body.action == "reopen" and flows.escalates_on_reopen(issue.reopen_count):
        await escalate(session, issue, reason="reopened", actor_id=scope.person.id)
    await session.flush()
    if Actor.committee in actors or Actor.grid_worker in actors or Actor.handler in actors:
        await audit.record(session, actor_id=scope.person.id, community_id=scope.community_id,
                           action=f"issue.{body.action}", object_type="issue", object_id=issue.id,
                           before={"status": expected}, after={"status": str(target), **step.data})
    return issue


def _given(body: TransitionIn, need: str) -> bool:
    return bool({"reason": body.reason, "note": body.note, "handler": body.handler_id or body.category_id,
                 "into": body.into, "photo": body.photo_ids}[need])


def _field(need: str) -> str:
    return {"handler": "handler_id", "photo": "photo_ids"}.get(need, need)


async def _prepare(session: AsyncSession, scope: CommunityScope, issue: Issue, body: TransitionIn) -> Step:
    """Check the action's own inputs and say what else it changes."""
    action, cid = body.action, scope.community_id
    if action in ("reject", "reopen"):
        values: dict[str, Any] = {"reopen_count": issue.reopen_count + 1} if action == "reopen" else {}
        return Step(values, body.reason, {})
    if action == "merge":
        into = await repo.issue_in(session, cid, body.into or "")
        if into is None or into.id == issue.id or not await _sees(session, scope, into):
            raise NotFound("issue_not_found")
        if Status(into.status) in flows.FINAL:
            raise Conflict("issue_merge_target_final")
        return Step({"merged_into_id": into.id}, body.reason, {"into": into.id})
    if action in ("dispatch", "reroute"):
        values, data = {}, {}
        category = None
        if body.category_id:
            category = await repo.category_in(session, cid, body.category_id)
            if category is None:
                raise UnknownReference("category_not_found", "category_id")
            values["category_id"], data["category_id"] = category.id, category.id
        handler_id = body.handler_id or (category.default_handler_id if category else None)
        if handler_id:
            if await repo.handler_in(session, cid, handler_id) is None:
                raise UnknownReference("handler_not_found", "handler_id")
            values["handler_id"], data["handler_id"] = handler_id, handler_id
        if action == "dispatch":
            if not handler_id:
                raise Invalid("issue_action_needs", errors=[
                    {"loc": ["body", "handler_id"], "msg_key": "issue.needs.handler"}])
            days = (category or await repo.category_in(session, cid, issue.category_id or "") or Category(
                deadline_days=7)).deadline_days
            deadline = body.deadline_at or clock.now() + timedelta(days=days)
            if deadline <= clock.now():
                raise Invalid("issue_deadline_past")
            values["deadline_at"], data["deadline_at"] = deadline, deadline.isoformat()
        elif action == "reroute" and handler_id and handler_id != issue.handler_id \
                and issue.status == Status.in_progress:
            values["status"] = str(Status.dispatched)  # the new handler starts afresh
        return Step(values, body.reason or body.note, data)
    if action in ("resolve", "close_on_spot"):
        await _check_photos(session, scope, body.photo_ids)
        return Step({"resolution_note": body.note}, body.note, {"photos": len(body.photo_ids)})
    return Step({}, body.note or body.reason, {})


async def escalate(session: AsyncSession, issue: Issue, *, reason: str, actor_id: str | None = None) -> bool:
    """督办: flag the issue for the level above and tell them. Once per issue, however many ask at once."""
    if issue.escalated_at is not None:
        return False
    now = clock.now()
    if not await repo.mark_escalated(session, issue.id, now):
        return False
    issue.escalated_at = now
    session.add(IssueEvent(issue_id=issue.id, actor_id=actor_id, action="escalate", data={"reason": reason}))
    await _notify_escalated(session, issue, reason, actor_id)
    await session.flush()
    return True


async def escalations_below(session: AsyncSession, person: Person, region_id: str,
                            paging: PageParams) -> tuple[list[tuple[Issue, str, str]], str | None]:
    """The region view: escalated open issues of every community below a region, newest first, with
    each one's community name and why it escalated. Only for that region's admins (404 otherwise)."""
    community_ids = await communities.administered_region(session, person, region_id)
    rows, cursor = await paginate(session, repo.escalated_open_query(community_ids), paging, Issue.id)
    names = {c: (await communities.get_community(session, c)) for c in {i.community_id for i in rows}}
    reasons = await repo.escalation_reasons(session, [i.id for i in rows])
    return [(i, n.name if (n := names[i.community_id]) else "", reasons.get(i.id, "")) for i in rows], cursor


# --- who is told (the inbox) ------------------------------------------------------------------

async def _audience(session: AsyncSession, issue: Issue, people: list[str | None]) -> list[str]:
    """Of these people, those who may see the issue now (``sees_issue``): anyone in its community
    (or staff above it) for a public issue — a follower who lost sight of it hears nothing."""
    ids = [p for p in dict.fromkeys(people) if p]
    community = await communities.get_community(session, issue.community_id)
    if not ids or community is None:
        return []
    roles = await communities.roles_of_people(session, community, ids)
    units = await repo.handler_members(session, [issue.handler_id]) if issue.staff_only and issue.handler_id else {}
    return [p for p in ids if p in roles and policy.allowed("issues.view", roles[p])
            and sees_issue(issue, p, roles[p], [h for h, members in units.items() if p in members])]


async def _tell(session: AsyncSession, issue: Issue, people: list[str | None], kind: str, actor_id: str | None,
                **data: Any) -> list[str]:
    audience = await _audience(session, issue, people)
    return await notifications.notify(session, audience, issue.community_id, kind,
                                      {"issue_id": issue.id, "title": issue.title, **data}, actor_id=actor_id)


async def _notify_reported(session: AsyncSession, scope: CommunityScope, issue: Issue) -> None:
    """A new report reaches the committee, who triage it."""
    committee = await communities.member_ids_with_role(session, issue.community_id, "committee")
    await _tell(session, issue, list(committee), "issue.reported", scope.person.id)


async def _notify_transition(session: AsyncSession, scope: CommunityScope, issue: Issue, action: str,
                             from_status: str, handler_before: str | None, step: Step) -> None:
    """After a lifecycle step: the handler's members when it lands in their queue, the reporter when
    theirs is merged away, and the reporter and followers on every change of status."""
    actor, told = scope.person.id, set[str]()
    if action in ("dispatch", "reroute") and issue.handler_id and (
            action == "dispatch" or issue.handler_id != handler_before):
        members = (await repo.handler_members(session, [issue.handler_id])).get(issue.handler_id, [])
        told.update(await _tell(session, issue, list(members), "issue.assigned", actor, action=action))
    if action == "merge":
        into = await repo.issue_in(session, issue.community_id, str(step.data["into"]))
        shown = into if into is not None and not into.staff_only else None  # the reporter may not see it
        await _tell(session, issue, [issue.reporter_id], "issue.merged", actor,
                    into_id=shown.id if shown else None, into_title=shown.title if shown else "")
    elif issue.status != from_status:
        people = [p for p in [issue.reporter_id, *await repo.follower_ids(session, issue.id)] if p not in told]
        await _tell(session, issue, people, "issue.status_changed", actor, action=action, status=issue.status,
                    note=step.note[:200])


async def _notify_escalated(session: AsyncSession, issue: Issue, reason: str, actor_id: str | None) -> None:
    """The level above: the community's committee and the street/district staff over it."""
    community = await communities.get_community(session, issue.community_id)
    if community is None:
        return
    above = [*await communities.member_ids_with_role(session, community.id, "committee"),
             *await communities.region_admin_ids_above(session, community)]
    await _tell(session, issue, list(above), "issue.escalated", actor_id, reason=reason, community_name=community.name)


# --- what upper domains link to an issue ----------------------------------------------------------

async def report_photo_ids(session: AsyncSession, issue: Issue) -> list[str]:
    """The report's photos (not the handler's after-photos), in order: a task made from the issue shows them."""
    return [p.upload_id for p in (await repo.photos_of(session, [issue.id])).get(issue.id, []) if p.kind == "report"]


async def note_on_timeline(session: AsyncSession, issue: Issue, *, actor_id: str | None, action: str, note: str,
                           data: dict[str, Any]) -> None:
    """A line on the issue's public timeline for something another domain made of it ("task_created":
    it became a volunteer task, ``data`` names it); the issue's own state does not change."""
    session.add(IssueEvent(issue_id=issue.id, actor_id=actor_id, action=action, note=note[:200], data=data))
    await session.flush()


# --- support, follow, comments ----------------------------------------------------------------

async def support(session: AsyncSession, scope: CommunityScope, issue_id: str, on: bool) -> tuple[bool, int]:
    """我也关注, once per person however often it is pressed (50 presses at once count once)."""
    issue = await visible_issue(session, scope, issue_id)
    if on:
        try:
            async with session.begin_nested():
                session.add(IssueSupport(issue_id=issue.id, person_id=scope.person.id))
                await session.flush()
        except IntegrityError:
            return True, issue.supports_count
        count = await repo.bump(session, issue.id, "supports_count", 1)
        try:
            async with session.begin_nested():
                session.add(IssueFollower(issue_id=issue.id, person_id=scope.person.id))
                await session.flush()
        except IntegrityError:
            pass
        return True, count
    if await repo.delete_support(session, issue.id, scope.person.id):
        return False, await repo.bump(session, issue.id, "supports_count", -1)
    return False, issue.supports_count


async def follow(session: AsyncSession, scope: CommunityScope, issue_id: str, on: bool) -> bool:
    """Following: hear of every status change. One row per person however often it is pressed."""
    issue = await visible_issue(session, scope, issue_id)
    if not on:
        await repo.delete_follower(session, issue.id, scope.person.id)
        return False
    try:
        async with session.begin_nested():
            session.add(IssueFollower(issue_id=issue.id, person_id=scope.person.id))
            await session.flush()
    except IntegrityError:
        pass  # already following (or another press got there first)
    return True


async def add_comment(session: AsyncSession, scope: CommunityScope, issue_id: str, data: CommentCreate) -> IssueComment:
    issue = await visible_issue(session, scope, issue_id)
    if Status(issue.status) is Status.merged:
        raise Conflict("issue_merged", extra={"merged_into_id": issue.merged_into_id})
    await _check_photos(session, scope, data.photo_ids)
    comment = IssueComment(issue_id=issue.id, author_id=scope.person.id, body=data.body, upload_ids=data.photo_ids)
    session.add(comment)
    await session.flush()
    await repo.bump(session, issue.id, "comments_count", 1)
    return comment
