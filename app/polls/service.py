"""The rules of polls: building one, opening it (freezing the electorate), one counted ballot per
elector across every channel, counting, the notice period 公示 and objections.

Exactly-once voting rests on conditional updates, not on reading first: an elector is marked
as having voted only if they had not (``mark_voted``), a change only if nobody changed it
meanwhile (``mark_changed``), and a ballot takes its place in the chain only while the poll is
open (``advance_chain``, which also serialises appends per poll). A request that loses any of
these races gets 409 and its transaction is rolled back whole.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, get_args

from sqlalchemy.ext.asyncio import AsyncSession

from app.communities import service as communities
from app.communities.deps import CommunityScope
from app.core import audit, clock, db
from app.core.config import get_settings
from app.core.errors import AppError, Conflict, Forbidden, Invalid, Msg, NotFound
from app.core.ids import new_id
from app.core.pagination import PageParams
from app.issues import service as issues
from app.polls import chain, flows, outcome, rules, secrecy
from app.polls import repository as repo
from app.polls.appender import FirstVote, appender
from app.polls.flows import Status
from app.polls.models import Poll, PollElector, PollObjection, PollOption
from app.polls.repository import BallotForm
from app.polls.schemas import BallotIn, ElectorateKind, Kind, OptionIn, PaperBallotIn, PollCreate, PollUpdate
from app.polls.secrecy import Content

log = logging.getLogger("wugong.polls")

PROPOSAL_CHOICES = ("yes", "no", "abstain")
SCORE_RANGE = (1, 5)
MAX_OBJECTIONS_PER_PERSON = 5
CONFIG_FIELDS = ("title", "description", "kind", "max_choices", "allow_stacking", "ranked_method", "electorate",
                 "scope_building_id", "scope_unit", "secret", "allow_change", "hide_results", "opens_at",
                 "closes_at", "notice_days", "issue_id")
# Settings that mean something for some kinds only: the log shows them where they do (a yes/no
# proposal has no counting method for rankings).
FIELDS_OF_KIND = {"max_choices": ("multiple", "approval"), "allow_stacking": ("approval",),
                  "ranked_method": ("ranked",)}


def _config(poll: Poll) -> dict[str, Any]:
    """The poll's settings as the audit log keeps them."""
    return {k: v for k, v in audit.snapshot(poll, CONFIG_FIELDS).items()
            if k not in FIELDS_OF_KIND or poll.kind in FIELDS_OF_KIND[k]}


# What the audit log records here, and how it reads (app/core/audit.py). A ballot's entry names
# the act and the voter, never the choice.
audit.declare("poll", ["poll.create", "poll.update", "poll.schedule", "poll.open", "poll.close", "poll.publish"],
              title=audit.TEXT, description=audit.TEXT, kind=audit.enum("ui.poll_page.kind", get_args(Kind)),
              max_choices=audit.NUMBER, allow_stacking=audit.FLAG,
              ranked_method=audit.enum("ui.poll_builder.ranked", ("irv", "borda")),
              electorate=audit.enum("ui.poll.electorate", get_args(ElectorateKind)),
              scope_building_id=audit.ref("building"), scope_unit=audit.TEXT, secret=audit.FLAG,
              allow_change=audit.FLAG, hide_results=audit.FLAG, opens_at=audit.TIME, closes_at=audit.TIME,
              notice_days=audit.NUMBER, issue_id=audit.ref("issue"), electorate_size=audit.NUMBER,
              electorate_area=audit.AREA, explanation=audit.Field("localised"), chain_ok=audit.FLAG,
              notice_ends_at=audit.TIME)
audit.declare("poll_elector", ["poll.paper_ballot", "poll.proxy_ballot"], poll_id=audit.ref("poll"),
              witness=audit.TEXT, voter_name=audit.TEXT)
audit.declare("poll_objection", ["poll.answer"], answer=audit.TEXT)
audit.resolver("poll", lambda session, cid, ids, locale: repo.poll_titles(session, cid, ids))
audit.resolver("poll_objection", lambda session, cid, ids, locale: repo.objection_poll_titles(session, cid, ids))

def _invalid(field: str, key: str, **params: Any) -> Invalid:
    return Invalid("invalid", errors=[{"loc": ["body", field], "msg_key": f"error.{key}", "params": params}])


# --- building a poll ------------------------------------------------------------------------

async def _options(session: AsyncSession, scope: CommunityScope, kind: str,
                   given: list[OptionIn]) -> list[dict[str, Any]]:
    if kind == "proposal":
        return []  # yes / no / abstain, fixed
    if len(given) < 2:
        raise _invalid("options", "poll_needs_options")
    out: list[dict[str, Any]] = []
    for i, o in enumerate(given):
        label = o.label
        if o.issue_id is not None:
            try:
                issue = await issues.visible_issue(session, scope, o.issue_id)
            except NotFound as e:
                raise Invalid("invalid", errors=[{"loc": ["body", "options", i, "issue_id"],
                                                  "msg_key": "error.poll_option_issue_unknown", "params": {}}]) from e
            label = label or issue.title
        if not label:
            raise Invalid("invalid", errors=[{"loc": ["body", "options", i, "label"],
                                              "msg_key": "error.poll_option_empty", "params": {}}])
        out.append({"label": label, "issue_id": o.issue_id})
    labels = [o["label"] for o in out]
    if len(set(labels)) != len(labels):
        raise _invalid("options", "poll_options_repeat")
    return out


def _check_config(poll: Poll, n_options: int, now: datetime) -> None:
    if poll.kind == "multiple" and (poll.max_choices is None or poll.max_choices > n_options):
        raise _invalid("max_choices", "poll_max_choices", n=n_options)
    if poll.kind == "approval":
        if poll.max_choices is None:
            raise _invalid("max_choices", "poll_dots_needed")
        if not poll.allow_stacking and poll.max_choices > n_options:
            raise _invalid("max_choices", "poll_max_choices", n=n_options)
    if poll.scope_unit and not poll.scope_building_id:
        raise _invalid("scope_unit", "poll_unit_needs_building")
    if poll.closes_at is not None and poll.closes_at <= now:
        raise _invalid("closes_at", "poll_closes_in_past")
    if poll.opens_at is not None and poll.closes_at is not None and poll.opens_at >= poll.closes_at:
        raise _invalid("opens_at", "poll_opens_after_close")


def _rule(kind: str, electorate: str, preset: str | None, matter: str | None,
          custom: dict[str, Any] | None) -> dict[str, Any]:
    if kind != "proposal":
        if preset or matter or custom:
            raise _invalid("rule", "poll_rule_only_proposals")
        return {}
    try:
        return rules.resolve(preset, matter, custom, electorate)
    except rules.RuleError as e:
        raise _invalid("rule", e.code) from e


async def _check_refs(session: AsyncSession, scope: CommunityScope, poll: Poll) -> None:
    if poll.scope_building_id is not None and await communities.get_building(
            session, scope.community_id, poll.scope_building_id) is None:
        raise _invalid("scope_building_id", "poll_building_unknown")
    if poll.issue_id is not None:
        try:
            await issues.visible_issue(session, scope, poll.issue_id)
        except NotFound as e:
            raise _invalid("issue_id", "poll_option_issue_unknown") from e


async def create_poll(session: AsyncSession, scope: CommunityScope, data: PollCreate) -> Poll:
    now = clock.now()
    poll = Poll(community_id=scope.community_id, created_by=scope.person.id, status=Status.draft,
                meeting_id=data.meeting_id, project_id=data.project_id, updated_at=now,
                **{f: getattr(data, f) for f in CONFIG_FIELDS})
    options = await _options(session, scope, data.kind, data.options)
    _check_config(poll, len(options), now)
    poll.rule = _rule(data.kind, data.electorate, data.preset, data.matter,
                      data.rule.model_dump() if data.rule else None)
    await _check_refs(session, scope, poll)
    session.add(poll)
    await session.flush()
    await repo.replace_options(session, poll.id, options)
    await audit.record(session, actor_id=scope.person.id, community_id=scope.community_id, action="poll.create",
                       object_type="poll", object_id=poll.id, after=_config(poll))
    return poll


async def update_poll(session: AsyncSession, scope: CommunityScope, poll: Poll, data: PollUpdate) -> Poll:
    _check_action("edit", poll)
    if data.version != poll.version:
        raise Conflict("poll_changed_meanwhile")
    now = clock.now()
    before = _config(poll)
    given = data.model_dump(exclude_unset=True, exclude={"version", "options", "preset", "matter", "rule"})
    for f, v in given.items():
        setattr(poll, f, v)
    if data.options is not None or "kind" in given:
        if data.options is None and poll.kind != "proposal":
            current = (await repo.options_of(session, [poll.id]))[poll.id]
            data.options = [OptionIn(label=o.label, issue_id=o.issue_id) for o in current]
        options = await _options(session, scope, poll.kind, data.options or [])
        await repo.replace_options(session, poll.id, options)
        n = len(options)
    else:
        n = len((await repo.options_of(session, [poll.id]))[poll.id])
    _check_config(poll, n, now)
    if {"preset", "matter", "rule"} & data.model_fields_set or {"kind", "electorate"} & given.keys():
        poll.rule = _rule(poll.kind, poll.electorate, data.preset, data.matter,
                          data.rule.model_dump() if data.rule else None)
    await _check_refs(session, scope, poll)
    poll.version += 1
    poll.updated_at = now
    await audit.record(session, actor_id=scope.person.id, community_id=scope.community_id, action="poll.update",
                       object_type="poll", object_id=poll.id, before=before, after=_config(poll))
    await session.flush()
    return poll


def _check_action(action: str, poll: Poll | BallotForm) -> None:
    try:
        flows.check(action, poll.status)
    except flows.NotAllowedNow as e:
        raise Conflict(f"poll_{action}_not_now", status_name=Msg(f"ui.poll.status.{poll.status}")) from e


# --- opening: the electorate is frozen --------------------------------------------------------

def option_spec(poll: Poll, options: list[PollOption]) -> list[dict[str, str]]:
    if poll.kind == "proposal":
        return [{"id": "yes", "label": "同意"}, {"id": "no", "label": "反对"}, {"id": "abstain", "label": "弃权"}]
    return [{"id": o.id, "label": o.label} for o in options]


def spec(poll: Poll, options: list[PollOption]) -> dict[str, Any]:
    """What the genesis hash commits to and what the chain download publishes: everything a
    recount needs, and nothing about who voted."""
    return {
        "id": poll.id, "community_id": poll.community_id, "title": poll.title, "kind": poll.kind,
        "options": option_spec(poll, options), "max_choices": poll.max_choices,
        "allow_stacking": poll.allow_stacking, "ranked_method": poll.ranked_method, "rule": poll.rule or None,
        "secret": poll.secret,
        "electorate": {"kind": poll.electorate, "size": poll.electorate_size,
                       "area": chain.weight_text(poll.electorate_area), "households": poll.electorate_households,
                       "scope_building_id": poll.scope_building_id, "scope_unit": poll.scope_unit},
        "opened_at": poll.opened_at.isoformat() if poll.opened_at else None,
    }


async def open_poll(session: AsyncSession, actor_id: str | None, poll: Poll, *, now: datetime | None = None,
                    at_once: bool = False) -> Poll:
    _check_action("open", poll)
    now = now or clock.now()
    if poll.closes_at is not None and poll.closes_at <= now:
        raise Conflict("poll_closes_in_past")
    if poll.opens_at is not None and poll.opens_at > now and not at_once:
        poll.status = Status.scheduled
        poll.version += 1
        await audit.record(session, actor_id=actor_id, community_id=poll.community_id, action="poll.schedule",
                           object_type="poll", object_id=poll.id)
        await session.flush()
        return poll
    rows = await communities.electorate(session, poll.community_id, poll.electorate, poll.scope_building_id,
                                        poll.scope_unit)
    if not rows:
        raise Conflict("poll_electorate_empty")
    await repo.add_electors(session, poll.id, [
        {"id": new_id(), "person_id": r["person_id"], "household_id": r["household_id"], "label": r["label"][:100],
         "weight_area": r["area"]} for r in rows])
    poll.electorate_size = len(rows)
    poll.electorate_area = sum((Decimal(r["area"]) for r in rows), Decimal(0))
    poll.electorate_households = len({r["household_id"] for r in rows if r["household_id"]})
    poll.status = Status.open
    poll.opened_at = now
    poll.opens_at = poll.opens_at or now
    poll.version += 1
    options = (await repo.options_of(session, [poll.id]))[poll.id]
    poll.genesis_hash = chain.genesis(spec(poll, options))
    poll.chain_head = poll.genesis_hash
    poll.chain_seq = 0
    if poll.secret:  # ballots sealed under a key of the poll's own until the close (app/polls/secrecy.py)
        poll.sealed = True
        await repo.add_key(session, poll.id,
                           secrecy.seal_poll_key(get_settings().secret_key, poll.id, secrecy.new_poll_key()))
    await audit.record(session, actor_id=actor_id, community_id=poll.community_id, action="poll.open",
                       object_type="poll", object_id=poll.id,
                       after={"electorate_size": poll.electorate_size,
                              "electorate_area": chain.weight_text(poll.electorate_area)})
    await session.flush()
    return poll


# --- voting -------------------------------------------------------------------------------

def check_ballot(poll: Poll | BallotForm, option_ids: list[str], body: BallotIn) -> list[Any]:
    """The ballot's choices in the chain's form, or 422 saying what is wrong with it."""
    kind = poll.kind
    known = set(PROPOSAL_CHOICES) if kind == "proposal" else set(option_ids)
    if kind == "score":
        if body.choices:
            raise _invalid("choices", "ballot_scores_only")
        if not body.scores:
            raise _invalid("scores", "ballot_empty")
        for o, s in body.scores.items():
            if o not in known:
                raise _invalid("scores", "ballot_unknown_option")
            if not SCORE_RANGE[0] <= s <= SCORE_RANGE[1]:
                raise _invalid("scores", "ballot_score_range", low=SCORE_RANGE[0], high=SCORE_RANGE[1])
        return [[o, body.scores[o]] for o in option_ids if o in body.scores]
    if body.scores:
        raise _invalid("scores", "ballot_no_scores")
    choices = body.choices
    if not choices:
        raise _invalid("choices", "ballot_empty")
    if any(c not in known for c in choices):
        raise _invalid("choices", "ballot_unknown_option")
    stacking = kind == "approval" and poll.allow_stacking
    if len(set(choices)) != len(choices) and not stacking:
        raise _invalid("choices", "ballot_duplicate")
    limit = {"single": 1, "proposal": 1, "multiple": poll.max_choices, "approval": poll.max_choices}.get(kind)
    if limit is not None and len(choices) > limit:
        raise _invalid("choices", "ballot_too_many", n=limit)
    return list(choices)


def _voter_household(scope: CommunityScope, poll: Poll | BallotForm) -> str | None:
    """The household the caller votes for in a household or owners' poll, from the membership the
    request already loaded (None: they vote for none)."""
    m = scope.membership
    if m is None or m.community_id != poll.community_id or not m.verified or m.household_id is None:
        return None
    return m.household_id if poll.electorate == "households" or "owner" in m.roles else None


async def _my_elector(session: AsyncSession, scope: CommunityScope, poll: Poll | BallotForm) -> PollElector:
    el: PollElector | None = None
    if poll.electorate == "residents":  # the frozen electorate alone decides: no standing to read
        el = await repo.elector(session, poll.id, person_id=scope.person.id)
    elif (household_id := _voter_household(scope, poll)) is not None:
        el = await repo.elector(session, poll.id, household_id=household_id)
    if el is None:
        raise Forbidden("poll_not_eligible", who=Msg(f"ui.poll.electorate.{poll.electorate}"))
    return el


def _check_open(poll: Poll | BallotForm, now: datetime) -> None:
    if poll.status == Status.open and poll.closes_at is not None and poll.closes_at <= now:
        raise Conflict("poll_vote_not_now", status_name=Msg("ui.poll.status.closed"))
    _check_action("vote", poll)


@dataclass
class Cast:
    receipt: str
    seq: int
    hash: str
    changed: bool
    channel: str
    check_code: str | None  # a secret ballot's check code 核对码, for the voter's phone alone


async def poll_key(session: AsyncSession, poll: Poll | BallotForm) -> bytes | None:
    """A sealed poll's key while it is open (None for a named poll, or one that opened before
    sealing); a poll whose key does not open (the server's secret key changed) takes no ballots."""
    if isinstance(poll, BallotForm):
        return poll.key
    if not poll.sealed:
        return None
    remembered = repo.remembered_form(poll.id)
    if remembered is not None and remembered.key is not None:
        return remembered.key
    sealed = await repo.sealed_key(session, poll.id)
    if sealed is None:
        raise Conflict("poll_key_unavailable")
    try:
        return secrecy.open_poll_key(get_settings().secret_key, poll.id, sealed)
    except secrecy.SealBroken as e:
        raise Conflict("poll_key_unavailable") from e


def _receipt(scope: CommunityScope, poll: Poll | BallotForm, idempotency_key: str | None) -> str:
    if idempotency_key:
        return secrecy.receipt_for_retry(get_settings().secret_key, scope.person.id, poll.id, idempotency_key)
    return chain.new_receipt()


async def cast_ballot(session: AsyncSession, scope: CommunityScope, poll: Poll | BallotForm, body: BallotIn,
                      idempotency_key: str | None = None) -> Cast:
    """One voter's ballot. With an ``idempotency_key`` the receipt is drawn from it, so that the
    phone's retry of a ballot written before the server could answer finds it and gets its answer."""
    _check_open(poll, clock.now())
    choices = check_ballot(poll, await repo.option_ids(session, poll), body)
    receipt = _receipt(scope, poll, idempotency_key)
    content = secrecy.content(await poll_key(session, poll), poll.id, choices)
    # The common case: mark the caller's elector as having voted, if it had not, and append.
    household_id = None if poll.electorate == "residents" else _voter_household(scope, poll)
    person_id = None if household_id else scope.person.id
    if poll.electorate == "residents" or household_id is not None:
        if db.is_reading(session):  # nothing written yet: many voters' first votes share one commit
            await db.hand_back(session)
            placed = await appender.submit(FirstVote(poll.id, person_id, household_id, content, poll.secret, receipt))
            if placed is not None:
                return Cast(receipt=receipt, seq=placed.seq, hash=placed.hash, changed=False, channel="app",
                            check_code=content.check_code)
        elif (claimed := await repo.claim_vote(session, poll.id, person_id=person_id, household_id=household_id,
                                               receipt_check=chain.elector_check(receipt))) is not None:
            return await _append(session, poll, claimed[0], claimed[1], content, "app", None, receipt)
    # Not a first vote: not eligible, a change, or another channel or request came first.
    await db.begin_writing(session)
    el = await _my_elector(session, scope, poll)
    if not el.voted:
        raise Conflict("ballot_changed_meanwhile")
    if idempotency_key and el.receipt_check == chain.elector_check(receipt):
        return await _written(session, poll, receipt)  # this very ballot is in: the retry gets its answer
    if el.channel != "app":
        raise Conflict("ballot_cast_on_paper", channel=Msg(f"ui.poll.channel.{el.channel}"))
    if not poll.allow_change:
        raise Conflict("ballot_already_cast")
    if body.receipt:
        if chain.elector_check(body.receipt) != el.receipt_check:
            raise Forbidden("receipt_not_yours")
        old = await repo.current_ballot(session, poll.id, receipt_hash=chain.receipt_hash(body.receipt))
    elif not poll.secret:  # a named 记名 ballot names its elector: no receipt needed to find it
        old = await repo.current_ballot(session, poll.id, elector_id=el.id)
    else:
        raise Conflict("ballot_change_needs_receipt")
    if old is None or not await repo.mark_changed(session, el.id, el.changes, chain.elector_check(receipt)) \
            or not await repo.supersede(session, poll.id, old.seq):
        raise Conflict("ballot_changed_meanwhile")
    supersedes = old.seq
    return await _append(session, poll, el.id, el.weight_area, content, "app", supersedes, receipt)


async def _written(session: AsyncSession, poll: Poll | BallotForm, receipt: str) -> Cast:
    b = await repo.ballot_by_receipt(session, chain.receipt_hash(receipt))
    if b is None or b.poll_id != poll.id:
        raise Conflict("ballot_changed_meanwhile")
    key = await poll_key(session, poll)
    check_code = None
    if key is not None and b.sealed is not None:
        check_code = secrecy.open_ballot(key, poll.id, b.commitment, b.sealed).check_code
    return Cast(receipt=receipt, seq=b.seq, hash=b.hash, changed=b.supersedes is not None, channel=b.channel,
                check_code=check_code)


async def enter_paper_ballot(session: AsyncSession, scope: CommunityScope, poll: Poll, body: PaperBallotIn) -> Cast:
    """A facilitator enters a paper or proxy ballot 纸质/代投 for a named elector, with a witness."""
    now = clock.now()
    _check_open(poll, now)
    choices = check_ballot(poll, await repo.option_ids(session, poll), body)
    el = await repo.elector(session, poll.id, elector_id=body.elector_id)
    if el is None:
        raise Invalid("invalid", errors=[{"loc": ["body", "elector_id"], "msg_key": "error.poll_elector_unknown",
                                          "params": {}}])
    if el.voted:
        raise Conflict("ballot_cast_already_via", channel=Msg(f"ui.poll.channel.{el.channel}"))
    receipt = chain.new_receipt()
    content = secrecy.content(await poll_key(session, poll), poll.id, choices)
    if not await repo.mark_voted(session, el.id, body.channel, entered_by=scope.person.id, entered_at=now,
                                 witness=body.witness, voter_name=body.voter_name,
                                 receipt_check=chain.elector_check(receipt)):
        raise Conflict("ballot_cast_already_via", channel=Msg("ui.poll.channel.app"))
    cast = await _append(session, poll, el.id, el.weight_area, content, body.channel, None, receipt)
    # The audit names the act, never the choice: a paper ballot of a secret poll stays secret.
    await audit.record(session, actor_id=scope.person.id, community_id=poll.community_id,
                       action=f"poll.{body.channel}_ballot", object_type="poll_elector", object_id=el.id,
                       after={"poll_id": poll.id, "witness": body.witness, "voter_name": body.voter_name})
    return cast


async def _append(session: AsyncSession, poll: Poll | BallotForm, elector_id: str, weight: Decimal, content: Content,
                  channel: str, supersedes: int | None, receipt: str) -> Cast:
    # The elector's receipt check was set by mark_voted / mark_changed, in the same conditional update.
    place = await repo.advance_chain(session, poll.id, new_voter=supersedes is None)
    if place is None:
        raise Conflict("poll_vote_not_now", status_name=Msg("ui.poll.status.closed"))
    seq, prev = place
    entry = content.entry(poll.id, seq, chain.weight_text(weight), channel, chain.receipt_hash(receipt), supersedes,
                          prev)
    digest = entry.hash
    await repo.add_ballot(session, repo.ballot_row(entry, digest, weight, None if poll.secret else elector_id,
                                                   content.sealed))
    await repo.set_head(session, poll.id, digest)
    return Cast(receipt=receipt, seq=seq, hash=digest, changed=supersedes is not None, channel=channel,
                check_code=content.check_code)


# --- counting, closing, notice ---------------------------------------------------------------

async def tally(session: AsyncSession, poll: Poll) -> dict[str, Any]:
    """Count a poll: a sealed poll from its ballot box (filled at the close), others from the chain.
    While it is open the count is provisional: no pass or fail yet."""
    options = (await repo.options_of(session, [poll.id]))[poll.id]
    entries = await repo.box(session, poll.id) if poll.sealed else await repo.counted_entries(session, poll.id)
    households = await repo.voted_households(session, poll.id)
    return outcome.compute(spec(poll, options), entries, poll.chain_head, households,
                           provisional=poll.status == Status.open)


async def verify_stored_chain(session: AsyncSession, poll: Poll) -> chain.ChainCheck:
    """Recompute the chain from the stored ballots: any edit of a stored ballot shows here."""
    return chain.verify(poll.id, poll.genesis_hash, [ballot_entry(b) for b in await repo.chain(session, poll.id)])


def ballot_entry(b: Any) -> dict[str, Any]:
    content = {"commitment": b.commitment} if b.commitment else {"choices": b.choices}
    return {"poll": b.poll_id, "seq": b.seq, **content, "weight": chain.weight_text(b.weight_area),
            "channel": b.channel, "receipt": b.receipt_hash, "supersedes": b.supersedes, "prev": b.prev_hash,
            "hash": b.hash}


async def close_poll(session: AsyncSession, actor_id: str | None, poll: Poll, *, now: datetime | None = None) -> Poll:
    _check_action("close", poll)
    now = now or clock.now()
    if not await repo.set_status(session, poll.id, Status.open, Status.closed):
        raise Conflict("poll_close_not_now", status_name=Msg("ui.poll.status.closed"))
    repo.forget_form(poll.id)
    await repo.refresh(session, poll)
    unopened = await _fill_box(session, poll) if poll.sealed else []
    check = await verify_stored_chain(session, poll)
    result = await tally(session, poll)
    problems = check.problems + unopened
    result["chain"] = {"ok": not problems and check.head == poll.chain_head, "head": poll.chain_head,
                       "entries": check.entries, "problems": problems[:20]}
    result["voted_count"] = poll.voted_count
    poll.result = result
    poll.closed_at = now
    poll.version += 1
    log.info("poll %s closed: %d ballots counted%s, chain %s", poll.id, result["ballots"],
             " from its ballot box" if poll.sealed else "", "ok" if result["chain"]["ok"] else "NOT OK")
    await audit.record(session, actor_id=actor_id, community_id=poll.community_id, action="poll.close",
                       object_type="poll", object_id=poll.id,
                       after={"explanation": {"zh-CN": result.get("explanation_zh"),
                                              "en": result.get("explanation_en"),
                                              # the options it names, as the committee wrote them
                                              "quotes": [o.get("label") for o in result.get("options") or
                                                         result.get("points") or [] if o.get("label")]},
                              "chain_ok": result["chain"]["ok"]})
    await session.flush()
    return poll


async def _fill_box(session: AsyncSession, poll: Poll) -> list[str]:
    """Open a sealed poll's counted ballots, put them in its ballot box in the order of their check
    codes (random), and erase every sealed ballot and the key: from now on nothing links a chain
    entry to a choice. Problems: ballots that did not open as committed (not counted)."""
    key = await poll_key(session, poll)
    assert key is not None
    box, problems = [], []
    for digest, weight, sealed in await repo.sealed_counted(session, poll.id):
        try:
            opened = secrecy.open_ballot(key, poll.id, digest, sealed or b"")
        except secrecy.SealBroken:
            problems.append(f"a ballot does not open as committed ({digest[:16]}…): not counted")
            continue
        box.append({"id": chain.new_ballot_id(), "poll_id": poll.id, "check_code": opened.check_code,
                    "choices": opened.choices, "weight_area": weight})
    box.sort(key=lambda row: str(row["check_code"]))
    await repo.add_box(session, box)
    await repo.erase_sealed(session, poll.id)
    await repo.erase_key(session, poll.id)
    return problems


async def publish_notice(session: AsyncSession, actor_id: str, poll: Poll, note: str) -> Poll:
    """Publish the outcome as a notice 公示 for the poll's notice period (none: final at once)."""
    _check_action("publish", poll)
    now = clock.now()
    poll.notice_note = note
    poll.notice_at = now
    poll.notice_ends_at = now + timedelta(days=poll.notice_days)
    poll.status = Status.notice if poll.notice_days > 0 else Status.final
    if poll.status == Status.final:
        poll.final_at = now
    poll.version += 1
    await audit.record(session, actor_id=actor_id, community_id=poll.community_id, action="poll.publish",
                       object_type="poll", object_id=poll.id, after={"notice_ends_at": poll.notice_ends_at.isoformat()})
    await session.flush()
    return poll


async def finalise_if_due(session: AsyncSession, poll: Poll, now: datetime) -> bool:
    """Final when the notice period is over and every objection has its answer."""
    if poll.status != Status.notice or poll.notice_ends_at is None or poll.notice_ends_at > now:
        return False
    if await repo.unanswered_objections(session, poll.id):
        return False
    poll.status = Status.final
    poll.final_at = now
    poll.version += 1
    await session.flush()
    return True


# --- objections -----------------------------------------------------------------------------

async def file_objection(session: AsyncSession, scope: CommunityScope, poll: Poll, body: str) -> PollObjection:
    _check_action("object", poll)
    await _my_elector(session, scope, poll)  # eligible voters object, whether or not they voted
    if await repo.my_objections_count(session, poll.id, scope.person.id) >= MAX_OBJECTIONS_PER_PERSON:
        raise Conflict("objection_limit", n=MAX_OBJECTIONS_PER_PERSON)
    o = PollObjection(poll_id=poll.id, author_id=scope.person.id, body=body)
    session.add(o)
    await session.flush()
    return o


async def answer_objection(session: AsyncSession, scope: CommunityScope, poll: Poll, objection_id: str,
                           answer: str) -> PollObjection:
    _check_action("answer", poll)
    o = await repo.objection(session, poll.id, objection_id)
    if o is None:
        raise NotFound("objection_not_found")
    before = {"answer": o.answer}
    o.answer, o.answered_by, o.answered_at = answer, scope.person.id, clock.now()
    await audit.record(session, actor_id=scope.person.id, community_id=poll.community_id, action="poll.answer",
                       object_type="poll_objection", object_id=o.id, before=before, after={"answer": answer})
    await session.flush()
    return o


# --- reading --------------------------------------------------------------------------------

async def poll_to_vote(session: AsyncSession, scope: CommunityScope, poll_id: str) -> Poll | BallotForm:
    """The poll a ballot is for: an open poll's ballot form as this process remembers it, or read
    (and remembered when open). Voting reads no poll row while a poll is open."""
    form = repo.remembered_form(poll_id)
    if form is not None and form.community_id == scope.community_id:
        return form
    poll = await visible_poll(session, scope, poll_id)
    if poll.status == Status.open and poll.genesis_hash:
        return await repo.remember_form(session, poll, await poll_key(session, poll))
    return poll


async def visible_poll(session: AsyncSession, scope: CommunityScope, poll_id: str) -> Poll:
    poll = await repo.poll_in(session, scope.community_id, poll_id)
    if poll is None or (poll.status == Status.draft and not scope.can("polls.manage")):
        raise NotFound("poll_not_found")
    return poll


async def closed_poll(session: AsyncSession, poll_id: str) -> Poll:
    """A poll whose count is published, for anyone (its chain download is public)."""
    poll = await repo.poll_by_id(session, poll_id)
    if poll is None or poll.status not in flows.RESULTS_FINAL:
        raise NotFound("poll_not_found")
    return poll


async def list_polls(session: AsyncSession, scope: CommunityScope, paging: PageParams, statuses: list[str] | None,
                     issue_id: str | None) -> tuple[list[Poll], str | None]:
    if not scope.can("polls.manage"):
        statuses = [s for s in (statuses or [s.value for s in Status]) if s != Status.draft] or ["none"]
    return await repo.polls(session, scope.community_id, paging, statuses, issue_id)


async def my_vote(session: AsyncSession, scope: CommunityScope, poll: Poll) -> dict[str, Any]:
    """Whether the caller may vote here, and whether they (or their household) have."""
    if poll.status not in flows.STARTED:
        return {"eligible": False, "voted": False, "channel": None, "may_change": False, "reason": None}
    try:
        el = await _my_elector(session, scope, poll)
    except AppError:
        return {"eligible": False, "voted": False, "channel": None, "may_change": False,
                "reason": f"ui.poll.not_eligible.{poll.electorate}"}
    may_change = el.voted and el.channel == "app" and poll.allow_change and poll.status == Status.open
    return {"eligible": True, "voted": el.voted, "channel": el.channel, "may_change": may_change,
            "reason": "ui.poll.cast_on_paper" if el.voted and el.channel != "app" else None}


async def identifiable_by_area(session: AsyncSession, poll: Poll) -> int:
    """A secret ballot weighted by area carries its unit's area into the published chain (a recount
    needs it). Units of a shared floor plan hide among each other; a unit whose area is unique
    does not, and the poll page says how many there are."""
    if not poll.secret or poll.electorate != "owners" or poll.status not in flows.STARTED:
        return 0
    return await repo.electors_with_unique_area(session, poll.id)


def actions_for(scope: CommunityScope, poll: Poll, me: dict[str, Any] | None) -> list[str]:
    status = Status(poll.status)
    out: list[str] = []
    if scope.can("polls.manage"):
        out += [a for a in ("edit", "open", "close", "publish", "answer") if status in flows.TRANSITIONS[a]]
    if scope.can("polls.enter_paper") and status == Status.open:
        out.append("paper")
    if me and me["eligible"]:
        if status == Status.open and (not me["voted"] or me["may_change"]):
            out.append("vote")
        if status == Status.notice:
            out.append("object")
    return out


async def results(session: AsyncSession, poll: Poll) -> tuple[bool, dict[str, Any] | None]:
    """(visible, result): the published outcome once closed, a live provisional count while
    open, nothing while results are hidden."""
    if not flows.results_visible(poll.status, poll.counts_hidden_while_open):
        return False, None
    if poll.status in flows.RESULTS_FINAL and poll.result is not None:
        return True, poll.result
    return True, await tally(session, poll)


async def chain_download(session: AsyncSession, poll: Poll) -> dict[str, Any]:
    """The anonymised ballots and their hashes, with what a recount needs."""
    options = (await repo.options_of(session, [poll.id]))[poll.id]
    final = poll.status in flows.RESULTS_FINAL
    shown = flows.results_visible(poll.status, poll.counts_hidden_while_open)
    return {
        "format": "wugong-poll-chain/2",
        "poll": spec(poll, options),
        "status": poll.status,
        "genesis": poll.genesis_hash,
        "head": poll.chain_head,
        "turnout": {"voted": poll.voted_count, "households": await repo.voted_households(session, poll.id)},
        # A sealed poll's entries hold commitments only, and prove inclusion while it is open.
        "entries": [ballot_entry(b) for b in await repo.chain(session, poll.id)] if shown or poll.sealed else [],
        # A sealed poll's counted ballots, unlinked from the entries: what a recount counts.
        "ballots": await repo.box(session, poll.id) if final and poll.sealed else None,
        "result": poll.result if final else None,
    }


async def check_receipt(session: AsyncSession, receipt: str) -> dict[str, Any]:
    norm = chain.normalise_receipt(receipt)
    b = await repo.ballot_by_receipt(session, chain.receipt_hash(norm))
    if b is None:
        return {"receipt": norm, "found": False}
    poll = await repo.poll_by_id(session, b.poll_id)
    assert poll is not None
    community = await communities.get_community(session, poll.community_id)
    # Inclusion and counting, never the choice: a receipt that showed it would prove a bought vote.
    return {"receipt": norm, "found": True, "poll_id": poll.id, "poll_title": poll.title,
            "community_name": community.name if community else None, "status": poll.status, "seq": b.seq,
            "hash": b.hash, "counted": not b.superseded, "chain_head": poll.chain_head, "chain_seq": poll.chain_seq}


async def people_names(session: AsyncSession, person_ids: list[str]) -> dict[str, str]:
    return await communities.names_of(session, person_ids)


async def named_ballots(session: AsyncSession, poll: Poll) -> list[dict[str, Any]]:
    options = (await repo.options_of(session, [poll.id]))[poll.id]
    labels = {o["id"]: o["label"] for o in option_spec(poll, options)}
    out = []
    for b, e in await repo.named_ballots(session, poll.id):
        shown = [labels.get(str(c[0]), "?") + f" {c[1]}" if isinstance(c, list) else labels.get(str(c), "?")
                 for c in b.choices or ()]
        out.append({"elector": e.label, "choices": shown, "channel": b.channel})
    return out


async def options(session: AsyncSession, poll_id: str) -> list[PollOption]:
    return (await repo.options_of(session, [poll_id]))[poll_id]


async def poll_for_demo(session: AsyncSession, poll_id: str) -> Poll:
    """The poll as it is now in the database (the demo casts many ballots in one session)."""
    poll = await repo.poll_fresh(session, poll_id)
    assert poll is not None
    return poll


async def unvoted_electors(session: AsyncSession, poll_id: str, limit: int,
                           skip_households: Collection[str] = ()) -> list[PollElector]:
    """Electors who have not voted, but for those of ``skip_households`` (the demo's voters in the app)."""
    rows, _ = await repo.electors(session, poll_id, PageParams(limit=limit + len(skip_households), cursor=None),
                                  None, False)
    return [r for r in rows if r.household_id not in skip_households][:limit]
