from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Header, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from app.communities.deps import CommunityScope, Require
from app.core import db
from app.core.deps import Locale, Session
from app.core.errors import Forbidden, Invalid, NotFound
from app.core.pagination import Page, Paging
from app.core.urls import absolute
from app.polls import flows, live, rules, scheduled, service, views
from app.polls import repository as repo
from app.polls.schemas import (
    AnswerIn,
    BallotIn,
    BallotReceipt,
    ElectorRead,
    ObjectionIn,
    ObjectionRead,
    OpenIn,
    PaperBallotIn,
    PollCreate,
    PollRead,
    PollUpdate,
    PublishIn,
    ReceiptCheck,
    ResultsRead,
)

router = APIRouter(tags=["polls"])
Id = Annotated[str, Path(max_length=26)]
Viewer = Annotated[CommunityScope, Require("polls.view")]
Manager = Annotated[CommunityScope, Require("polls.manage")]
Facilitator = Annotated[CommunityScope, Require("polls.enter_paper")]
Voter = Annotated[CommunityScope, Require("polls.vote")]
live.hub.snapshot = views.live_snapshot  # what a stream sends: the results view, counted afresh


def _receipt(poll_id: str, cast: service.Cast) -> BallotReceipt:
    return BallotReceipt(poll_id=poll_id, receipt=cast.receipt, seq=cast.seq, hash=cast.hash, changed=cast.changed,
                         channel=cast.channel, check_code=cast.check_code)


async def _read(session: Session, scope: CommunityScope, poll: Any, locale: str) -> PollRead:
    (view,) = await views.poll_views(session, scope, [poll], locale, detail=True)
    return PollRead.model_validate(view)


@router.get("/communities/{cid}/polls/presets")
async def poll_presets(scope: Viewer) -> dict[str, Any]:
    """The builder's presets (rules with the law cited, in plain words) and the Civil Code matters."""
    return {"presets": rules.presets(), "matters": rules.matters()}


@router.get("/communities/{cid}/polls")
async def list_polls(
    session: Session, scope: Viewer, paging: Paging, locale: Locale,
    status: Annotated[str | None, Query(max_length=100, pattern=r"^[a-z,]+$")] = None,
    issue_id: Annotated[str | None, Query(max_length=26)] = None,
) -> Page[PollRead]:
    statuses = [s for s in status.split(",") if s] if status else None
    if statuses and any(s not in flows.Status.__members__ for s in statuses):
        raise Invalid("invalid", errors=[{"loc": ["query", "status"], "msg_key": "error.poll_status_unknown",
                                          "params": {}}])
    polls, cursor = await service.list_polls(session, scope, paging, statuses, issue_id)
    items = await views.poll_views(session, scope, polls, locale)
    return Page(items=[PollRead.model_validate(v) for v in items], next_cursor=cursor)


@router.post("/communities/{cid}/polls", status_code=201)
async def create_poll(body: PollCreate, session: Session, scope: Manager, locale: Locale) -> PollRead:
    return await _read(session, scope, await service.create_poll(session, scope, body), locale)


@router.get("/communities/{cid}/polls/{poll_id}")
async def get_poll(poll_id: Id, session: Session, scope: Viewer, locale: Locale) -> PollRead:
    return await _read(session, scope, await service.visible_poll(session, scope, poll_id), locale)


@router.patch("/communities/{cid}/polls/{poll_id}")
async def update_poll(poll_id: Id, body: PollUpdate, session: Session, scope: Manager, locale: Locale) -> PollRead:
    poll = await service.visible_poll(session, scope, poll_id)
    return await _read(session, scope, await service.update_poll(session, scope, poll, body), locale)


@router.post("/communities/{cid}/polls/{poll_id}/open")
async def open_poll(poll_id: Id, session: Session, scope: Manager, locale: Locale,
                    background: BackgroundTasks, body: OpenIn | None = None) -> PollRead:
    poll = await service.visible_poll(session, scope, poll_id)
    poll = await service.open_poll(session, scope.person.id, poll, at_once=bool(body and body.now))
    background.add_task(live.hub.changed, poll.id)
    return await _read(session, scope, poll, locale)


@router.post("/communities/{cid}/polls/{poll_id}/close")
async def close_poll(poll_id: Id, session: Session, scope: Manager, locale: Locale,
                     background: BackgroundTasks) -> PollRead:
    poll = await service.close_poll(session, scope.person.id, await service.visible_poll(session, scope, poll_id))
    background.add_task(live.hub.changed, poll.id)
    if poll.sealed:
        background.add_task(scheduled.scrub_erased_keys)  # after the commit that erased the key
    return await _read(session, scope, poll, locale)


@router.post("/communities/{cid}/polls/{poll_id}/publish")
async def publish_poll(poll_id: Id, session: Session, scope: Manager, locale: Locale,
                       background: BackgroundTasks, body: PublishIn | None = None) -> PollRead:
    poll = await service.visible_poll(session, scope, poll_id)
    poll = await service.publish_notice(session, scope.person.id, poll, body.note if body else "")
    background.add_task(live.hub.changed, poll.id)
    return await _read(session, scope, poll, locale)


@router.post("/communities/{cid}/polls/{poll_id}/ballots", status_code=201)
@db.reads_first  # a first vote is written by the group committer (app/polls/appender.py)
async def cast_ballot(poll_id: Id, body: BallotIn, session: Session, scope: Voter,
                      background: BackgroundTasks,
                      idempotency_key: Annotated[str | None, Header(max_length=200)] = None) -> BallotReceipt:
    """Vote. Keep the receipt: it proves the ballot is in the chain and counts, and changes a
    secret vote; and, for a secret poll, the check code, which finds the ballot in the box after
    the close. Send an ``Idempotency-Key``: a retry then always gets this answer, even if the
    server died after writing the ballot."""
    poll = await service.poll_to_vote(session, scope, poll_id)
    cast = await service.cast_ballot(session, scope, poll, body, idempotency_key)
    background.add_task(live.hub.changed, poll.id)  # runs after the commit
    return _receipt(poll.id, cast)


@router.post("/communities/{cid}/polls/{poll_id}/paper-ballots", status_code=201)
async def enter_paper_ballot(poll_id: Id, body: PaperBallotIn, session: Session, scope: Facilitator,
                             background: BackgroundTasks) -> BallotReceipt:
    poll = await service.visible_poll(session, scope, poll_id)
    cast = await service.enter_paper_ballot(session, scope, poll, body)
    background.add_task(live.hub.changed, poll.id)
    return _receipt(poll.id, cast)


@router.get("/communities/{cid}/polls/{poll_id}/electors")
async def list_electors(
    poll_id: Id, session: Session, scope: Facilitator, paging: Paging,
    q: Annotated[str | None, Query(min_length=1, max_length=50)] = None, voted: bool | None = None,
) -> Page[ElectorRead]:
    """The frozen electorate for the facilitator's paper entry: who has voted and how, never what."""
    poll = await service.visible_poll(session, scope, poll_id)
    rows, cursor = await repo.electors(session, poll.id, paging, q, voted)
    names = await service.people_names(session, [e.entered_by for e in rows if e.entered_by])
    return Page(items=[ElectorRead(id=e.id, label=e.label, weight_area=f"{e.weight_area:.2f}", voted=e.voted,
                                   channel=e.channel, entered_by_name=names.get(e.entered_by or ""),
                                   entered_at=e.entered_at, witness=e.witness) for e in rows], next_cursor=cursor)


class NamedBallot(BaseModel):
    elector: str
    choices: list[str]
    channel: str


@router.get("/communities/{cid}/polls/{poll_id}/named-ballots")
async def named_ballots(poll_id: Id, session: Session,
                        scope: CommunityScope = Require("polls.see_named")) -> list[NamedBallot]:
    """Who chose what, in a named 记名 poll, for the committee's record (once results may be shown)."""
    poll = await service.visible_poll(session, scope, poll_id)
    if poll.secret:
        raise Forbidden("poll_is_secret")
    if not flows.results_visible(poll.status, poll.counts_hidden_while_open):
        raise Forbidden("poll_results_hidden")
    return [NamedBallot(**row) for row in await service.named_ballots(session, poll)]


@router.get("/communities/{cid}/polls/{poll_id}/results")
async def poll_results(poll_id: Id, session: Session, scope: Viewer, locale: Locale) -> ResultsRead:
    poll = await service.visible_poll(session, scope, poll_id)
    return ResultsRead.model_validate(await views.results_view(session, poll, locale))


@router.get("/communities/{cid}/polls/{poll_id}/results/stream", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
async def poll_results_stream(
    poll_id: Id, session: Session, scope: Viewer,
    max_events: Annotated[int | None, Query(ge=1, le=1000)] = None,
) -> StreamingResponse:
    """Server-Sent Events: ``event: results`` with the results view, at once and on every change."""
    poll = await service.visible_poll(session, scope, poll_id)
    return StreamingResponse(live.hub.watch(poll.id, max_events), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get("/communities/{cid}/polls/{poll_id}/chain")
async def poll_chain(poll_id: Id, session: Session, scope: Viewer) -> dict[str, Any]:
    """The anonymised ballots and their hashes (once results may be shown), for ``wugong verify-poll``."""
    poll = await service.visible_poll(session, scope, poll_id)
    if poll.status == flows.Status.draft:
        raise NotFound("poll_not_found")
    return await service.chain_download(session, poll)


@router.get("/polls/{poll_id}/chain")
async def public_poll_chain(poll_id: Id, session: Session) -> dict[str, Any]:
    """Public once the poll has closed, for anyone to recount (``wugong verify-poll <this URL>``):
    the chain and, for a secret poll, the ballot box. Before the close: 404, as for a poll that
    does not exist; members read the chain at ``/communities/{cid}/polls/{id}/chain``."""
    return await service.chain_download(session, await service.closed_poll(session, poll_id))


@router.get("/communities/{cid}/polls/{poll_id}/objections")
async def list_objections(poll_id: Id, session: Session, scope: Viewer) -> list[ObjectionRead]:
    poll = await service.visible_poll(session, scope, poll_id)
    return [ObjectionRead(id=o.id, body=o.body, created_at=o.created_at, answer=o.answer, answered_at=o.answered_at,
                          mine=o.author_id == scope.person.id) for o in await repo.objections(session, poll.id)]


@router.post("/communities/{cid}/polls/{poll_id}/objections", status_code=201)
async def file_objection(poll_id: Id, body: ObjectionIn, session: Session, scope: Voter) -> ObjectionRead:
    poll = await service.visible_poll(session, scope, poll_id)
    o = await service.file_objection(session, scope, poll, body.body)
    return ObjectionRead(id=o.id, body=o.body, created_at=o.created_at, answer=o.answer, answered_at=o.answered_at,
                         mine=True)


@router.post("/communities/{cid}/polls/{poll_id}/objections/{objection_id}/answer")
async def answer_objection(poll_id: Id, objection_id: Id, body: AnswerIn, session: Session,
                           scope: Manager) -> ObjectionRead:
    poll = await service.visible_poll(session, scope, poll_id)
    o = await service.answer_objection(session, scope, poll, objection_id, body.answer)
    return ObjectionRead(id=o.id, body=o.body, created_at=o.created_at, answer=o.answer, answered_at=o.answered_at,
                         mine=o.author_id == scope.person.id)


class PollShareLink(BaseModel):
    code: str
    url: str
    qr_url: str
    qr_png_url: str


@router.post("/communities/{cid}/polls/{poll_id}/share")
async def share_poll(request: Request, poll_id: Id, session: Session, scope: Viewer) -> PollShareLink:
    from app.sharing import service as sharing

    poll = await service.visible_poll(session, scope, poll_id)
    if poll.status == flows.Status.draft:
        raise NotFound("poll_not_found")
    link = await sharing.ensure_link(session, kind="poll", target_id=poll.id, community_id=poll.community_id)
    svg, png = sharing.qr_paths(link.code)
    return PollShareLink(code=link.code, url=absolute(request, sharing.share_path(link.code)),
                         qr_url=absolute(request, svg), qr_png_url=absolute(request, png))


@router.get("/receipts/{receipt}")
async def check_receipt(receipt: Annotated[str, Path(min_length=4, max_length=40, pattern=r"^[A-Za-z0-9-]+$")],
                        session: Session) -> ReceiptCheck:
    """Public: is the ballot with this receipt in its poll's chain, and does it still count?"""
    return ReceiptCheck.model_validate(await service.check_receipt(session, receipt))
