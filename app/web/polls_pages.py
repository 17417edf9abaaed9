"""The residents' poll pages 居民决策: the list, one poll (vote, live results, notice and
objections, the committee's steps), and the public receipt check 回执查验.

Like every page, each is a shell in the caller's language and size, filled in by its module from
the JSON API; what a person may do comes from the poll's ``actions``, decided by the server.
The builder (/polls/new, /polls/{id}/edit) and paper entry (/polls/{id}/paper) live in
app/web/poll_admin_pages.py.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.convertors import Convertor, register_url_convertor

from app.core import policy
from app.web.router import community_page, not_found_page, render

RECEIPT = re.compile(r"^[0-9A-Za-z-]{4,40}$")


class PollIdConvertor(Convertor[str]):
    """A poll id (26 characters) and nothing else, so fixed words such as /polls/new belong to
    their own pages whichever router is included first."""

    regex = "[0-9A-Za-z]{26}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("poll_id", PollIdConvertor())

router = APIRouter(include_in_schema=False)


def _poll_data(**extra: object) -> dict[str, object]:
    return {"permissions": {"polls.manage": sorted(policy.PERMISSIONS["polls.manage"])}, **extra}


@router.get("/c/{cid}/polls")
async def poll_list(request: Request, cid: str) -> HTMLResponse:
    return community_page(request, cid, "polls/list.html", "polls", "ui.polls.title", nav="community",
                          data=_poll_data())


@router.get("/c/{cid}/polls/{poll_id:poll_id}")
async def poll_detail(request: Request, cid: str, poll_id: str) -> HTMLResponse:
    return community_page(request, cid, "polls/detail.html", "poll", "ui.poll_page.title", nav="community",
                          poll_id=poll_id, data=_poll_data(poll_id=poll_id))


@router.get("/receipts")
async def receipt_form(request: Request) -> HTMLResponse:
    return render(request, "polls/receipt.html", page="receipt", title_key="ui.receipt.title", data={"receipt": ""})


@router.get("/receipts/{receipt}")
async def receipt_check(request: Request, receipt: str) -> HTMLResponse:
    if not RECEIPT.match(receipt):
        return not_found_page(request)
    return render(request, "polls/receipt.html", page="receipt", title_key="ui.receipt.title",
                  receipt=receipt, data={"receipt": receipt})
