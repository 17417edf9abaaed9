"""How polls read to a caller: the poll with its rule in plain words, the caller's own standing,
what they may do next, and counts only where results may be shown."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.communities import service as communities
from app.communities.deps import CommunityScope
from app.core import db
from app.core.i18n import t
from app.polls import chain, flows, rules, service
from app.polls import repository as repo
from app.polls.models import Poll


def rule_plain(poll: Poll, locale: str) -> str | None:
    if poll.kind != "proposal" or not poll.rule:
        return None
    zh, en = rules.describe(poll.rule, poll.electorate)
    return zh if locale == "zh-CN" else en


def summary(poll: Poll, result: dict[str, Any] | None, locale: str) -> str | None:
    if result is None:
        return None
    return str(result.get("explanation_zh" if locale == "zh-CN" else "explanation_en") or "") or None


async def scope_label(session: AsyncSession, poll: Poll, locale: str) -> str:
    if poll.scope_building_id is None:
        return t("ui.poll.scope.all", locale)
    b = await communities.get_building(session, poll.community_id, poll.scope_building_id)
    name = b.name if b else ""
    if not poll.scope_unit:
        return name
    # A unit is typed as "2" or "2单元": said in the reader's language ("2单元", "unit 2").
    return t("ui.poll.scope.unit", locale, building=name, unit=poll.scope_unit.removesuffix("单元"))


async def poll_views(session: AsyncSession, scope: CommunityScope, polls: list[Poll], locale: str,
                     *, detail: bool = False) -> list[dict[str, Any]]:
    options = await repo.options_of(session, [p.id for p in polls])
    out = []
    for p in polls:
        me = await service.my_vote(session, scope, p)
        shown = flows.results_visible(p.status, p.counts_hidden_while_open)
        result = p.result if p.status in flows.RESULTS_FINAL else (
            await service.results(session, p))[1] if shown and detail else None
        me_view = {**me, "reason_text": t(me["reason"], locale) if me.get("reason") else None}
        out.append({
            "id": p.id, "community_id": p.community_id, "title": p.title, "description": p.description,
            "kind": p.kind,
            "options": [{"id": o["id"], "label": o["label"], "position": i,
                         "issue_id": next((x.issue_id for x in options[p.id] if x.id == o["id"]), None)}
                        for i, o in enumerate(service.option_spec(p, options[p.id]))],
            "max_choices": p.max_choices, "allow_stacking": p.allow_stacking, "ranked_method": p.ranked_method,
            "electorate": p.electorate, "scope_building_id": p.scope_building_id, "scope_unit": p.scope_unit,
            "scope_label": await scope_label(session, p, locale), "rule": p.rule or None,
            "rule_plain": rule_plain(p, locale), "secret": p.secret, "allow_change": p.allow_change,
            "hide_results": p.hide_results, "opens_at": p.opens_at, "closes_at": p.closes_at,
            "notice_days": p.notice_days, "status": p.status, "issue_id": p.issue_id, "meeting_id": p.meeting_id,
            "project_id": p.project_id, "created_at": p.created_at, "opened_at": p.opened_at,
            "closed_at": p.closed_at, "notice_at": p.notice_at, "notice_ends_at": p.notice_ends_at,
            "final_at": p.final_at, "notice_note": p.notice_note, "electorate_size": p.electorate_size,
            "electorate_area": chain.weight_text(p.electorate_area), "electorate_households": p.electorate_households,
            "voted_count": p.voted_count, "chain_seq": p.chain_seq, "chain_head": p.chain_head,
            "results_visible": shown, "summary": summary(p, result, locale),
            # Pass or fail is an outcome: while the poll is open the count is provisional and says neither.
            "passed": result.get("passed") if result and p.kind == "proposal" and p.status in flows.RESULTS_FINAL
            else None,
            "identifiable_by_area": await service.identifiable_by_area(session, p) if detail else 0,
            "version": p.version, "me": me_view, "actions": service.actions_for(scope, p, me),
        })
    return out


async def results_view(session: AsyncSession, poll: Poll, locale: str) -> dict[str, Any]:
    visible, result = await service.results(session, poll)
    return {
        "poll_id": poll.id, "status": poll.status, "visible": visible,
        "provisional": poll.status == flows.Status.open, "voted_count": poll.voted_count,
        "electorate_size": poll.electorate_size, "electorate_area": chain.weight_text(poll.electorate_area),
        "electorate_households": poll.electorate_households, "chain_seq": poll.chain_seq,
        "chain_head": poll.chain_head, "rule_plain": rule_plain(poll, locale), "result": result,
    }


async def live_snapshot(poll_id: str) -> dict[str, Any] | None:
    """What the live stream sends: the results view, counted in a session of its own."""
    async with db.read_session() as session:
        poll = await repo.poll_by_id(session, poll_id)
        if poll is None:
            return None
        return await results_view(session, poll, "zh-CN")
