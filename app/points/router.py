"""The points 爱心积分 / time bank 时间银行 / store 积分超市 API: parse → authorise → service → answer."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Literal

import segno
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.communities import service as communities
from app.communities.deps import CommunityScope, Require
from app.core import clock, uploads
from app.core.deps import Locale, Session
from app.core.errors import NotFound
from app.core.i18n import t
from app.core.pagination import Page, Paging, paginate
from app.core.storage import get_storage
from app.core.urls import absolute
from app.points import board as honour
from app.points import explain, exports, flows, store
from app.points import repository as repo
from app.points import rules as arithmetic
from app.points import service as points
from app.points.models import Entry, StoreItem, StoreOrder
from app.points.schemas import (
    AdjustmentCreate,
    Balances,
    BoardRead,
    BoardRow,
    BoardShareLink,
    BoardVisibility,
    BoardVisibilityRead,
    BonusCreate,
    BonusResult,
    DonationCreate,
    DonationResult,
    EntryRead,
    ItemCreate,
    ItemRead,
    ItemUpdate,
    MyPoints,
    OrderCreate,
    OrderRead,
    OrderTransitionIn,
    PersonPoints,
    Photo,
    PickupIn,
    RecipientLookup,
    RecipientRead,
    RulesRead,
    RulesUpdate,
)
from app.points.service import Unit
from app.points.sharing import KIND
from app.sharing import service as sharing

router = APIRouter(tags=["points"])
store_router = APIRouter(tags=["store"])

Id = Annotated[str, Path(max_length=26)]
Month = Annotated[str | None, Query(pattern=r"^(19|20)\d{2}-(0[1-9]|1[0-2])$")]
UnitQuery = Annotated[Literal["points", "hours"] | None, Query()]
BASE = "/communities/{cid}"


# --- views ----------------------------------------------------------------------------------------

def balances_view(found: dict[Unit, int]) -> Balances:
    return Balances(points=found[Unit.points], hours=found[Unit.hours],
                    hours_text=arithmetic.hours_text(found[Unit.hours]))


async def entry_views(session: AsyncSession, entries: list[Entry], locale: str) -> list[EntryRead]:
    names = await points.names_for(session, entries)
    return [EntryRead(
        id=e.id, kind=e.kind, unit=e.unit, amount=e.amount, balance_after=e.balance_after,
        amount_text=explain.amount_text(e.unit, e.amount, locale), text=explain.entry_text(e, names, locale),
        title=e.title, reason=e.reason, ref_type=e.ref_type, ref_id=e.ref_id, counterpart_id=e.counterpart_id,
        counterpart_name=names.get(e.counterpart_id or "") if e.counterpart_id else None, actor_id=e.actor_id,
        actor_name=names.get(e.actor_id) if e.actor_id and e.actor_id != e.person_id else None,
        auto=bool((e.data or {}).get("auto")) or e.actor_id is None, created_at=e.created_at) for e in entries]


def rules_view(row: points.Defaults, updated_at: datetime | None, locale: str) -> RulesRead:
    parts = [t("points.rules.per_hour", locale, points=row.points_per_hour)]
    parts.append(t("points.rules.cap", locale, cap=row.monthly_cap) if row.monthly_cap is not None
                 else t("points.rules.no_cap", locale))
    this_year = arithmetic.local(clock.now()).year
    parts.append(t("points.rules.expiry", locale, years=row.expiry_years, year=this_year,
                   until=this_year + row.expiry_years) if row.expiry_years is not None
                 else t("points.rules.no_expiry", locale))
    parts.append(t("points.rules.pickup", locale, days=row.pickup_days))
    return RulesRead(points_per_hour=row.points_per_hour, monthly_cap=row.monthly_cap, expiry_years=row.expiry_years,
                     pickup_days=row.pickup_days, updated_at=updated_at,
                     text=t("ui.common.list_sep", locale).join(parts))


# --- my points, a person's points -------------------------------------------------------------------

@router.get(BASE + "/points/me")
async def my_points(session: Session, locale: Locale, paging: Paging, unit: UnitQuery = None,
                    scope: CommunityScope = Require("points.view")) -> MyPoints:
    """My balances (points; hours as minutes) and the first page of my history, each entry in words."""
    found = await points.balance(session, scope.community_id, scope.person.id)
    entries, cursor = await points.history(session, scope.community_id, scope.person.id, paging,
                                           Unit(unit) if unit else None)
    return MyPoints(community_id=scope.community_id, person_id=scope.person.id, balances=balances_view(found),
                    show_name=await points.shows_name(session, scope.community_id, scope.person.id),
                    entries=await entry_views(session, entries, locale), next_cursor=cursor)


@router.get(BASE + "/points/me/entries")
async def my_entries(session: Session, locale: Locale, paging: Paging, unit: UnitQuery = None,
                     scope: CommunityScope = Require("points.view")) -> Page[EntryRead]:
    entries, cursor = await points.history(session, scope.community_id, scope.person.id, paging,
                                           Unit(unit) if unit else None)
    return Page(items=await entry_views(session, entries, locale), next_cursor=cursor)


@router.get(BASE + "/points/people/{person_id}")
async def person_points(person_id: Id, session: Session, locale: Locale, paging: Paging, unit: UnitQuery = None,
                        scope: CommunityScope = Require("points.manage")) -> PersonPoints:
    """The committee's view of one member's balances and history (before an adjustment, say)."""
    if not await communities.are_members(session, scope.community_id, [person_id]):
        raise NotFound("member_not_found")
    found = await points.balance(session, scope.community_id, person_id)
    entries, cursor = await points.history(session, scope.community_id, person_id, paging,
                                           Unit(unit) if unit else None)
    name = (await communities.names_of(session, [person_id])).get(person_id, "")
    return PersonPoints(person_id=person_id, name=name, balances=balances_view(found),
                        entries=await entry_views(session, entries, locale), next_cursor=cursor)


@router.put(BASE + "/points/me/board-visibility")
async def board_visibility(body: BoardVisibility, session: Session,
                           scope: CommunityScope = Require("points.view")) -> BoardVisibilityRead:
    """Whether the honour board shows my name (otherwise "a neighbour")."""
    await points.set_board_visibility(session, scope.community_id, scope.person.id, body.show_name)
    return BoardVisibilityRead(show_name=body.show_name)


@router.get(BASE + "/points/board")
async def honour_board(
    session: Session, locale: Locale,
    period: Literal["month", "year", "all"] = "month", unit: Literal["points", "hours"] = "points",
    grid_id: Annotated[str | None, Query(min_length=1, max_length=26, pattern="^[0-9a-z]+$")] = None,
    at: Annotated[str | None, Query(pattern=r"^(19|20)\d{2}(-(0[1-9]|1[0-2]))?$",
                                    description="An earlier month (2026-11) or year (2026)")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = honour.DEFAULT_SIZE,
    scope: CommunityScope = Require("points.view"),
) -> BoardRead:
    """光荣榜: who gained most (earned and bonuses) in the period, in the community or one grid."""
    if at is not None and (period == "all" or (period == "month") != (len(at) == 7)):
        at = None  # a year given for a month (or the reverse) is not what was asked: the current period
    key = honour.period_key(period, clock.now(), at)
    rows, mine = await honour.board(session, community_id=scope.community_id, viewer_id=scope.person.id, unit=unit,
                                    key=key, grid_id=grid_id, locale=locale, size=limit)
    return BoardRead(period=period, label=honour.period_label(key, locale), unit=unit, grid_id=grid_id,
                     rows=[BoardRow(**r.__dict__) for r in rows], my_row=BoardRow(**mine.__dict__) if mine else None)


# --- the committee: bonuses, adjustments, rules, exports ---------------------------------------------

@router.post(BASE + "/points/board/share")
async def share_board(request: Request, session: Session,
                      scope: CommunityScope = Require("points.view")) -> BoardShareLink:
    """The honour board's short link and QR codes, made on first asking: a page anyone may open,
    this month's board by points and by hours (unnamed neighbours stay unnamed, no phones)."""
    link = await sharing.ensure_link(session, kind=KIND, target_id=scope.community_id, community_id=scope.community_id)
    svg, png = sharing.qr_paths(link.code)
    return BoardShareLink(code=link.code, url=absolute(request, sharing.share_path(link.code)),
                          qr_url=absolute(request, svg), qr_png_url=absolute(request, png))


@router.post(BASE + "/points/donations/recipient")
async def find_recipient(body: RecipientLookup, session: Session, locale: Locale,
                         scope: CommunityScope = Require("points.donate")) -> RecipientRead:
    """Whom to give hours to, by their phone number: a member of this community answers with a masked
    name to confirm (王*英) and the id to give to; anyone else is 404. Limited per caller."""
    found = await points.find_recipient(session, scope, body.phone, locale)
    return RecipientRead(person_id=found.person_id, masked_name=found.masked_name)


@router.post(BASE + "/points/adjustments", status_code=201)
async def adjust_points(body: AdjustmentCreate, session: Session, locale: Locale,
                        scope: CommunityScope = Require("points.manage")) -> EntryRead:
    """A correction with a reason (±); it never takes a balance below zero (409 points.insufficient)."""
    entry = await points.adjust(session, scope, person_id=body.person_id, unit=Unit(body.unit), amount=body.amount,
                                reason=body.reason)
    (view,) = await entry_views(session, [entry], locale)
    return view


@router.post(BASE + "/points/bonuses", status_code=201)
async def give_bonuses(body: BonusCreate, session: Session, locale: Locale,
                       scope: CommunityScope = Require("points.manage")) -> BonusResult:
    entries = await points.give_bonus(session, scope, person_ids=body.person_ids, unit=Unit(body.unit),
                                      amount=body.amount, reason=body.reason)
    return BonusResult(entries=await entry_views(session, entries, locale))


@router.post(BASE + "/points/donations", status_code=201)
async def donate_hours(body: DonationCreate, session: Session, locale: Locale,
                       scope: CommunityScope = Require("points.donate")) -> DonationResult:
    """Give time-bank hours (minutes) to a neighbour."""
    given, _ = await points.donate(session, scope, to_person_id=body.to_person_id, minutes=body.minutes,
                                   note=body.note)
    (view,) = await entry_views(session, [given], locale)
    return DonationResult(given=view, balances=balances_view(
        await points.balance(session, scope.community_id, scope.person.id)))


@router.get(BASE + "/points/rules")
async def get_rules(session: Session, locale: Locale, scope: CommunityScope = Require("points.view")) -> RulesRead:
    row = await points.rules_row(session, scope.community_id)
    return rules_view(await points.community_rules(session, scope.community_id), row.updated_at if row else None,
                      locale)


@router.put(BASE + "/points/rules")
async def put_rules(body: RulesUpdate, session: Session, locale: Locale,
                    scope: CommunityScope = Require("points.manage")) -> RulesRead:
    row = await points.update_rules(session, scope, body.model_dump())
    return rules_view(points.Defaults(points_per_hour=row.points_per_hour, monthly_cap=row.monthly_cap,
                                      expiry_years=row.expiry_years, pickup_days=row.pickup_days),
                      row.updated_at, locale)


def _month(month: str | None) -> str:
    return month or arithmetic.month_of(clock.now())


def _file(data: bytes, media_type: str, name: str) -> Response:
    return Response(data, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"})


@router.get(BASE + "/points/exports/ledger.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "The month's ledger"}})
async def export_ledger_csv(session: Session, locale: Locale, month: Month = None,
                            scope: CommunityScope = Require("points.manage")) -> Response:
    rows = await exports.ledger_rows(session, scope.community_id, _month(month), locale)
    return _file(exports.as_csv(rows), exports.CSV, f"ledger-{_month(month)}.csv")


@router.get(BASE + "/points/exports/ledger.xlsx", response_class=Response,
            responses={200: {"content": {exports.XLSX: {}}, "description": "The month's ledger"}})
async def export_ledger_xlsx(session: Session, locale: Locale, month: Month = None,
                             scope: CommunityScope = Require("points.manage")) -> Response:
    rows = await exports.ledger_rows(session, scope.community_id, _month(month), locale)
    data = await asyncio.to_thread(exports.as_xlsx, rows, _month(month))
    return _file(data, exports.XLSX, f"ledger-{_month(month)}.xlsx")


# --- the store: items ------------------------------------------------------------------------------

async def item_views(session: AsyncSession, request: Request, scope: CommunityScope, items: list[StoreItem],
                     locale: str) -> list[ItemRead]:
    mine = await repo.takes(session, scope.person.id, [i.id for i in items])
    storage = get_storage()
    out = []
    for item in items:
        photo = None
        if item.photo_upload_id:
            upload = await uploads.find_upload(session, scope.community_id, item.photo_upload_id)
            if upload is not None:
                v = uploads.upload_view(request, storage, upload, public=True)
                photo = Photo(id=upload.id, url=v.url, thumb_url=v.thumb_url)
        held = mine.get(item.id, 0)
        sponsor_text = t(f"store.sponsor.{item.sponsor_kind or 'other'}", locale, sponsor=item.sponsor) \
            if item.sponsor else ""
        out.append(ItemRead(
            id=item.id, name=item.name, description=item.description, photo=photo, price=item.price, stock=item.stock,
            per_person_limit=item.per_person_limit, on_sale=item.on_sale, sponsor=item.sponsor,
            sponsor_kind=item.sponsor_kind, sponsor_text=sponsor_text, mine=held,
            can_redeem=item.on_sale and item.stock > 0 and (item.per_person_limit is None
                                                            or held < item.per_person_limit),
            created_at=item.created_at, updated_at=item.updated_at))
    return out


@store_router.get(BASE + "/store/items")
async def list_items(request: Request, session: Session, locale: Locale, paging: Paging,
                     on_sale: Annotated[bool | None, Query(description="The committee's filter; others see "
                                                                       "what is on sale")] = None,
                     scope: CommunityScope = Require("store.view")) -> Page[ItemRead]:
    """The store's shelf, newest first: what is on sale (the committee: everything, or by on_sale)."""
    shown = on_sale if scope.can("store.manage") else True
    rows, cursor = await paginate(session, repo.items_query(scope.community_id, shown), paging, StoreItem.id)
    return Page(items=await item_views(session, request, scope, rows, locale), next_cursor=cursor)


@store_router.post(BASE + "/store/items", status_code=201)
async def create_item(request: Request, body: ItemCreate, session: Session, locale: Locale,
                      scope: CommunityScope = Require("store.manage")) -> ItemRead:
    item = await store.create_item(session, scope, body)
    (view,) = await item_views(session, request, scope, [item], locale)
    return view


@store_router.get(BASE + "/store/items/{item_id}")
async def get_item(request: Request, item_id: Id, session: Session, locale: Locale,
                   scope: CommunityScope = Require("store.view")) -> ItemRead:
    (view,) = await item_views(session, request, scope, [await store.visible_item(session, scope, item_id)], locale)
    return view


@store_router.patch(BASE + "/store/items/{item_id}")
async def update_item(request: Request, item_id: Id, body: ItemUpdate, session: Session, locale: Locale,
                      scope: CommunityScope = Require("store.manage")) -> ItemRead:
    item = await store.update_item(session, scope, item_id, body)
    (view,) = await item_views(session, request, scope, [item], locale)
    return view


# --- the store: orders -----------------------------------------------------------------------------

def _qr_path(scope: CommunityScope, order: StoreOrder) -> str:
    return f"/api/v1/communities/{scope.community_id}/store/orders/{order.id}/qr.svg?v={order.code_version}"


async def order_views(session: AsyncSession, request: Request, scope: CommunityScope, orders: list[StoreOrder],
                      locale: str) -> list[OrderRead]:
    names = await communities.names_of(session, [o.person_id for o in orders])
    out = []
    for o in orders:
        own = o.person_id == scope.person.id
        usable = own and o.status == flows.OrderStatus.ready and o.locked_at is None
        out.append(OrderRead(
            id=o.id, item_id=o.item_id, item_name=o.item_name, person_id=o.person_id,
            person_name=names.get(o.person_id), quantity=o.quantity, price=o.price, total=o.total, status=o.status,
            status_text=t(f"store.order.status.{o.status}", locale), code=store.pickup_code(o) if usable else None,
            qr_url=absolute(request, _qr_path(scope, o)) if usable else None, prefix=o.prefix,
            locked=o.locked_at is not None, wrong_tries=o.wrong_tries, expires_at=o.expires_at,
            closed_at=o.closed_at, close_reason=o.close_reason,
            actions=flows.allowed_actions(flows.OrderStatus(o.status), store.actors(scope, o)),
            created_at=o.created_at))
    return out


@store_router.post(BASE + "/store/orders", status_code=201)
async def redeem(request: Request, body: OrderCreate, session: Session, locale: Locale,
                 scope: CommunityScope = Require("store.redeem")) -> OrderRead:
    """Redeem points for an item: the order, ready for pickup with its code 核销码 (send an
    Idempotency-Key: a retried tap redeems once)."""
    order = await store.redeem(session, scope, body.item_id, body.quantity)
    (view,) = await order_views(session, request, scope, [order], locale)
    return view


@store_router.get(BASE + "/store/orders/export.csv", response_class=Response,
                  responses={200: {"content": {"text/csv": {}}, "description": "The month's orders"}})
async def export_orders_csv(session: Session, locale: Locale, month: Month = None,
                            scope: CommunityScope = Require("store.manage")) -> Response:
    rows = await exports.order_rows(session, scope.community_id, _month(month), locale)
    return _file(exports.as_csv(rows), exports.CSV, f"orders-{_month(month)}.csv")


@store_router.get(BASE + "/store/orders/export.xlsx", response_class=Response,
                  responses={200: {"content": {exports.XLSX: {}}, "description": "The month's orders"}})
async def export_orders_xlsx(session: Session, locale: Locale, month: Month = None,
                             scope: CommunityScope = Require("store.manage")) -> Response:
    rows = await exports.order_rows(session, scope.community_id, _month(month), locale)
    data = await asyncio.to_thread(exports.as_xlsx, rows, _month(month))
    return _file(data, exports.XLSX, f"orders-{_month(month)}.xlsx")


@store_router.get(BASE + "/store/orders")
async def list_orders(
    request: Request, session: Session, locale: Locale, paging: Paging,
    status: Annotated[str | None, Query(max_length=60, pattern=r"^(ready|fulfilled|cancelled|expired)"
                                                               r"(,(ready|fulfilled|cancelled|expired))*$")] = None,
    mine: bool = False, item_id: Annotated[str | None, Query(max_length=26)] = None,
    scope: CommunityScope = Require("store.view"),
) -> Page[OrderRead]:
    """My orders, newest first; the committee sees everyone's (``mine=true``: only its own)."""
    person_id = scope.person.id if mine or not scope.can("store.manage") else None
    stmt = repo.orders_query(scope.community_id, person_id=person_id, statuses=status.split(",") if status else None,
                             item_id=item_id)
    rows, cursor = await paginate(session, stmt, paging, StoreOrder.id)
    return Page(items=await order_views(session, request, scope, rows, locale), next_cursor=cursor)


@store_router.get(BASE + "/store/orders/{order_id}")
async def get_order(request: Request, order_id: Id, session: Session, locale: Locale,
                    scope: CommunityScope = Require("store.view")) -> OrderRead:
    (view,) = await order_views(session, request, scope, [await store.visible_order(session, scope, order_id)],
                                locale)
    return view


@store_router.get(BASE + "/store/orders/{order_id}/qr.svg", response_class=Response,
                  responses={200: {"content": {"image/svg+xml": {}}, "description": "The pickup code as a QR"}})
async def order_qr(order_id: Id, session: Session, scope: CommunityScope = Require("store.view")) -> Response:
    """The pickup code as a QR code (SVG), for its owner to show at the counter."""
    order = await store.visible_order(session, scope, order_id)
    if order.person_id != scope.person.id or order.status != flows.OrderStatus.ready or order.locked_at is not None:
        raise NotFound("store.order_not_found")
    svg = await asyncio.to_thread(_qr_svg, store.pickup_code(order))
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "private, no-store"})


def _qr_svg(code: str) -> bytes:
    import io

    out = io.BytesIO()
    segno.make_qr(code, error="m").save(out, kind="svg", scale=8, border=2, xmldecl=False)
    return out.getvalue()


@store_router.post(BASE + "/store/orders/{order_id}/transitions")
async def order_transition(request: Request, order_id: Id, body: OrderTransitionIn, session: Session, locale: Locale,
                           scope: CommunityScope = Require("store.view")) -> OrderRead:
    """fulfil (the committee), cancel (its owner or the committee: refunded once), reissue (its owner:
    a new pickup code, clearing a lock)."""
    order = await store.transition(session, scope, order_id, body.action, body.reason)
    (view,) = await order_views(session, request, scope, [order], locale)
    return view


@store_router.post(BASE + "/store/pickups")
async def pickup(request: Request, body: PickupIn, session: Session, locale: Locale,
                 scope: CommunityScope = Require("store.manage")) -> OrderRead:
    """The pickup counter: the code typed or scanned hands its order over, once. Five wrong codes
    for one order lock it."""
    order = await store.pickup(session, scope, body.code)
    (view,) = await order_views(session, request, scope, [order], locale)
    return view

