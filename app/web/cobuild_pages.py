"""The co-build and co-manage pages 共建共管: volunteer tasks and claims, adoption 认领, micro-wishes
微心愿 and the time bank 时间银行 (app/tasks); my points 爱心积分, the honour board 光荣榜 and the points
store 积分超市 with its pickup counter (app/points).

Shells like every other page (app/web/router.py), filled in by their modules from the JSON API. The
page data tells a module whom to offer what (the tasks and points permissions, read from the policy
table); the server decides every step.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.core import policy
from app.web.router import community_page, not_found_page

OBJECT_ID = re.compile(r"^[0-9A-Za-z]{26}$")
TASK_KINDS = ("volunteer", "adoption", "wish", "timebank")
# What the task form asks for, by who posts it: an organiser posts volunteer jobs and adoptions, a
# resident (or a facilitator for them) a micro-wish or a request for help paid from their hours.
NEW_FORMS = {"task": ("volunteer", "adoption"), "wish": ("wish",), "timebank": ("timebank",)}
BOARD_PERIODS = ("month", "year", "all")
BOARD_UNITS = ("points", "hours")

router = APIRouter(include_in_schema=False)


def _data(**extra: Any) -> dict[str, Any]:
    """Who holds each tasks, points and store permission (the module compares my_roles with it)."""
    domains = ("tasks.", "points.", "store.", "members.view", "households.view")
    permissions = {p: sorted(roles) for p, roles in policy.PERMISSIONS.items() if p.startswith(domains)}
    return {"permissions": permissions, **extra}


def _page(request: Request, cid: str, template: str, page: str, title_key: str, **extra: Any) -> HTMLResponse:
    data = _data(**extra.pop("data", {}))
    return community_page(request, cid, template, page, title_key, nav="community", data=data, **extra)


# --- tasks -----------------------------------------------------------------------------------------

@router.get("/c/{cid}/tasks")
async def task_list(request: Request, cid: str) -> HTMLResponse:
    return _page(request, cid, "tasks/list.html", "tasks", "tasks.list.title", kinds=TASK_KINDS)


@router.get("/c/{cid}/tasks/mine")
async def my_tasks(request: Request, cid: str) -> HTMLResponse:
    return _page(request, cid, "tasks/mine.html", "tasks-mine", "tasks.mine.title")


@router.get("/c/{cid}/tasks/console")
async def task_console(request: Request, cid: str) -> HTMLResponse:
    return _page(request, cid, "tasks/console.html", "tasks-console", "tasks.console.title")


@router.get("/c/{cid}/tasks/queue")
async def verification_queue(request: Request, cid: str) -> HTMLResponse:
    """What the home page's 待核实 card opens: the console, whose first part is the queue."""
    return _page(request, cid, "tasks/console.html", "tasks-console", "tasks.console.title")


def _new(request: Request, cid: str, form: str, title_key: str) -> HTMLResponse:
    return _page(request, cid, "tasks/new.html", "tasks-new", title_key, form=form, kinds=NEW_FORMS[form],
                 data={"form": form, "kinds": list(NEW_FORMS[form])})


@router.get("/c/{cid}/tasks/new")
async def task_new(request: Request, cid: str) -> HTMLResponse:
    return _new(request, cid, "task", "tasks.new.title")


@router.get("/c/{cid}/wishes/new")
async def wish_new(request: Request, cid: str) -> HTMLResponse:
    return _new(request, cid, "wish", "tasks.new.wish_title")


@router.get("/c/{cid}/timebank/new")
async def timebank_new(request: Request, cid: str) -> HTMLResponse:
    return _new(request, cid, "timebank", "tasks.new.timebank_title")


@router.get("/c/{cid}/tasks/{task_id}")
async def task_detail(request: Request, cid: str, task_id: str) -> HTMLResponse:
    if not OBJECT_ID.match(task_id):
        return not_found_page(request)
    return _page(request, cid, "tasks/detail.html", "tasks-detail", "tasks.detail.title", task_id=task_id,
                 data={"task_id": task_id})


@router.get("/c/{cid}/tasks/{task_id}/checkin")
async def task_checkin(request: Request, cid: str, task_id: str) -> HTMLResponse:
    """What the site's check-in QR opens (``?code=…``): the task, checking the person in."""
    if not OBJECT_ID.match(task_id):
        return not_found_page(request)
    return _page(request, cid, "tasks/detail.html", "tasks-detail", "tasks.detail.title", task_id=task_id,
                 data={"task_id": task_id, "focus": "checkin"})


@router.get("/c/{cid}/tasks/{task_id}/console")
async def task_console_of(request: Request, cid: str, task_id: str) -> HTMLResponse:
    """One task's claimants, attendance and what waits for verification: its page, at the organiser's part."""
    if not OBJECT_ID.match(task_id):
        return not_found_page(request)
    return _page(request, cid, "tasks/detail.html", "tasks-detail", "tasks.detail.title", task_id=task_id,
                 data={"task_id": task_id, "focus": "console"})


@router.get("/c/{cid}/tasks/{task_id}/edit")
async def task_edit(request: Request, cid: str, task_id: str) -> HTMLResponse:
    if not OBJECT_ID.match(task_id):
        return not_found_page(request)
    return _page(request, cid, "tasks/new.html", "tasks-new", "tasks.new.edit_title", form="edit",
                 kinds=TASK_KINDS, data={"form": "edit", "kinds": list(TASK_KINDS), "task_id": task_id})


# --- points and the honour board -------------------------------------------------------------------

@router.get("/c/{cid}/points")
async def my_points(request: Request, cid: str) -> HTMLResponse:
    return _page(request, cid, "points/mine.html", "points", "points.mine.title")


@router.get("/c/{cid}/board")
async def honour_board(request: Request, cid: str) -> HTMLResponse:
    return _page(request, cid, "points/board.html", "points-board", "points.board.title", periods=BOARD_PERIODS,
                 units=BOARD_UNITS)


# --- the points store ------------------------------------------------------------------------------

@router.get("/c/{cid}/store")
async def store(request: Request, cid: str) -> HTMLResponse:
    return _page(request, cid, "store/items.html", "store", "store.items.title")


@router.get("/c/{cid}/store/orders")
async def my_orders(request: Request, cid: str) -> HTMLResponse:
    return _page(request, cid, "store/orders.html", "store-orders", "store.orders.title")


@router.get("/c/{cid}/store/orders/{order_id}")
async def my_order(request: Request, cid: str, order_id: str) -> HTMLResponse:
    """One order (what the home page's 待领取 card opens): my orders, that one first."""
    if not OBJECT_ID.match(order_id):
        return not_found_page(request)
    return _page(request, cid, "store/orders.html", "store-orders", "store.orders.title", data={"order_id": order_id})


@router.get("/c/{cid}/store/manage")
async def store_manage(request: Request, cid: str) -> HTMLResponse:
    return _page(request, cid, "store/manage.html", "store-manage", "store.manage.title")


@router.get("/c/{cid}/store/pickup")
async def store_pickup(request: Request, cid: str) -> HTMLResponse:
    return _page(request, cid, "store/pickup.html", "store-pickup", "store.pickup.title")
