"""``wugong verify-poll``: anyone holding a chain download recomputes the genesis, every hash and
the count, and compares them with what was published. Needs no database (a poll id in the local
database is read into the same download format first)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.polls import chain, outcome


@dataclass
class Report:
    ok: bool = True
    lines: list[str] = field(default_factory=list)

    def fail(self, line: str) -> None:
        self.ok = False
        self.lines.append("✗ " + line)

    def good(self, line: str) -> None:
        self.lines.append("✓ " + line)


FORMATS = ("wugong-poll-chain/1", "wugong-poll-chain/2")
_COMPARED = ("passed", "quorum_met", "approved", "yes", "no", "abstain", "yes_area", "no_area", "abstain_area",
             "winner", "options", "rounds", "points", "order", "ballots", "participating_area")


def verify_download(data: dict[str, Any]) -> Report:
    report = Report()
    if data.get("format") not in FORMATS:
        report.fail("not a Wugong poll chain download (format wugong-poll-chain/1 or /2)")
        return report
    poll = data["poll"]
    genesis = chain.genesis(poll)
    if genesis != data.get("genesis"):
        report.fail("the genesis hash does not match the poll as published (question, options, rule or electorate)")
    else:
        report.good(f"genesis {genesis[:16]}… commits to the question, options, rule and electorate")
    check = chain.verify(poll["id"], data.get("genesis", ""), data.get("entries") or [])
    for problem in check.problems:
        report.fail(problem)
    if check.ok:
        report.good(f"{check.entries} chain entries recomputed; each follows the one before")
    if check.head != data.get("head"):
        report.fail(f"the recomputed head {check.head[:16]}… is not the published head {str(data.get('head'))[:16]}…")
    else:
        report.good(f"head {check.head[:16]}… matches the published head")
    published = data.get("result")
    if published is None:
        report.lines.append("· no published result yet (the poll is still open); chain checked only")
        return report
    turnout = data.get("turnout") or {}
    if len(check.counted) != turnout.get("voted"):
        report.fail(f"{len(check.counted)} ballots count, but {turnout.get('voted')} electors are recorded as voting")
    counted = check.counted
    box = data.get("ballots")
    if box is not None:  # a secret poll: the chain holds commitments; the box, unlinked, the choices
        counted = box
        if len(box) != len(check.counted):
            report.fail(f"the ballot box holds {len(box)} ballots, but {len(check.counted)} chain entries count")
        elif sorted(str(b.get("weight")) for b in box) != sorted(str(e.get("weight")) for e in check.counted):
            report.fail("the weights in the ballot box are not those of the counted chain entries")
        else:
            report.good(f"the ballot box holds one ballot, of the same weight, for each of the {len(box)} counted "
                        "entries (which ballot is whose is not published: the poll is secret)")
    try:
        recount = outcome.compute(poll, counted, data["head"], turnout.get("households"))
    except outcome.OutcomeError as e:
        report.fail(f"the ballots cannot be counted: {e}")
        return report
    for key in _COMPARED:
        if key in published or key in recount:
            mine, theirs = recount.get(key), published.get(key)
            if json.dumps(mine, sort_keys=True, default=str) != json.dumps(theirs, sort_keys=True, default=str):
                report.fail(f"recount differs on {key!r}: {mine!r} ≠ published {theirs!r}")
    if report.ok:
        report.good(f"recount matches the published result: {published.get('explanation_zh')}")
    return report


async def download_from_db(session: AsyncSession, poll_id: str) -> dict[str, Any]:
    from app.polls import repository as repo
    from app.polls import service

    poll = await repo.poll_by_id(session, poll_id)
    if poll is None:
        raise SystemExit(f"no poll {poll_id!r} in this database")
    return await service.chain_download(session, poll)
