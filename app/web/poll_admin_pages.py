"""The committee's and facilitators' poll pages: the poll builder 发起表决 (/polls/new and
/polls/{id}/edit) and the paper and proxy ballot entry 纸质/代投录入 (/polls/{id}/paper).

Shells like every other page, filled in by their modules from the JSON API; the server decides
every step (polls.manage builds and opens, polls.enter_paper enters ballots), the page data only
tells the module whom to offer what.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.core import policy
from app.web.router import community_page, not_found_page

POLL_ID = re.compile(r"^[0-9A-Za-z]{26}$")
PROPOSAL_TEMPLATES = ("civil_code_278", "old_compound_renovation_willingness", "villagers_meeting",
                      "simple_majority", "custom")
CHOICE_TEMPLATES = ("single", "multiple", "approval", "ranked", "score")
ELECTORATES = ("residents", "households", "owners")
THRESHOLDS = ("more_than_half", "two_thirds", "three_quarters")

router = APIRouter(include_in_schema=False)


def _data(**extra: object) -> dict[str, object]:
    names = ("polls.manage", "polls.enter_paper")
    return {"permissions": {p: sorted(policy.PERMISSIONS[p]) for p in names}, **extra}


def _builder(request: Request, cid: str, poll_id: str | None) -> HTMLResponse:
    return community_page(request, cid, "polls/new.html", "poll-new",
                          "ui.poll_builder.edit_title" if poll_id else "ui.poll_builder.title", nav="community",
                          poll_id=poll_id, proposal_templates=PROPOSAL_TEMPLATES, choice_templates=CHOICE_TEMPLATES,
                          electorates=ELECTORATES, thresholds=THRESHOLDS, data=_data(poll_id=poll_id))


@router.get("/c/{cid}/polls/new")
async def poll_new(request: Request, cid: str) -> HTMLResponse:
    return _builder(request, cid, None)


@router.get("/c/{cid}/polls/{poll_id}/edit")
async def poll_edit(request: Request, cid: str, poll_id: str) -> HTMLResponse:
    if not POLL_ID.match(poll_id):
        return not_found_page(request)
    return _builder(request, cid, poll_id)


@router.get("/c/{cid}/polls/{poll_id}/paper")
async def poll_paper(request: Request, cid: str, poll_id: str) -> HTMLResponse:
    if not POLL_ID.match(poll_id):
        return not_found_page(request)
    return community_page(request, cid, "polls/paper.html", "poll-paper", "ui.poll_paper.title", nav="community",
                          poll_id=poll_id, data=_data(poll_id=poll_id))
