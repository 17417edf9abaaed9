"""The points store 积分超市: items, redemptions, the pickup code 核销码, and the lifecycle of
``flows.py``.

Redeeming is three conditional writes in one transaction — the person's count against the item's
limit, the stock, the points — and then the order: a shortage at any step refuses the whole
request and changes nothing, so a crowd at the last pieces gets exactly as many orders as pieces.

The pickup code is ten digits: six that say which order (``prefix``, unique in the community) and
four secret ones derived from the server's key and the order's code version, never stored. A wrong
secret counts against that order; five lock it (its owner asks for a new code). A code of another
community names no order here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.communities.deps import CommunityScope
from app.core import audit, clock, uploads
from app.core.config import get_settings
from app.core.errors import Conflict, Forbidden, Invalid, Msg, NotFound, UnknownReference
from app.core.ids import new_id
from app.core.models import Upload
from app.notifications import service as notifications
from app.points import flows
from app.points import repository as repo
from app.points import rules as arithmetic
from app.points import service as points
from app.points.flows import OrderActor, OrderStatus
from app.points.models import StoreItem, StoreOrder
from app.points.schemas import ItemCreate, ItemUpdate

PREFIX_DIGITS = 6
SECRET_DIGITS = 4
CODE_DIGITS = PREFIX_DIGITS + SECRET_DIGITS
REMIND_BEFORE = timedelta(days=1)
SWEEP_BATCH = 200

ITEM_FIELDS = ("name", "description", "photo_upload_id", "price", "stock", "per_person_limit", "on_sale", "sponsor",
               "sponsor_kind")

audit.declare("store_item", ["store_item.create", "store_item.update"], name=audit.TEXT, description=audit.TEXT,
              photo_upload_id=audit.SET, price=audit.NUMBER, stock=audit.NUMBER, per_person_limit=audit.NUMBER,
              on_sale=audit.FLAG, sponsor=audit.TEXT,
              sponsor_kind=audit.enum("store.sponsor_kind", ("merchant", "organisation")))
audit.declare("store_order", ["store_order.fulfil", "store_order.cancel"],
              status=audit.enum("store.order.status", [s.value for s in OrderStatus]), via=audit.enum(
                  "store.order.via", ("code", "list")), person_id=audit.ref("person"), reason=audit.TEXT,
              quantity=audit.NUMBER, total=audit.NUMBER)


async def _item_names(session: AsyncSession, cid: str, ids: list[str], locale: str) -> dict[str, str]:
    found = {i: await repo.item_in(session, cid, i) for i in ids}
    return {i: item.name for i, item in found.items() if item is not None}


async def _order_names(session: AsyncSession, cid: str, ids: list[str], locale: str) -> dict[str, str]:
    found = {i: await repo.order_in(session, cid, i) for i in ids}
    return {i: f"{o.item_name} · {o.prefix}" for i, o in found.items() if o is not None}


audit.resolver("store_item", _item_names)
audit.resolver("store_order", _order_names)


# --- items ----------------------------------------------------------------------------------------

async def upload_on_items(session: AsyncSession, upload: Upload) -> bool | None:
    """For app/core/media.py: an item's photo is public (the store is shown to all)."""
    return True if await repo.item_with_photo(session, upload.community_id, upload.id) else None


async def _check_photo(session: AsyncSession, scope: CommunityScope, upload_id: str | None) -> None:
    if upload_id is None:
        return
    try:
        await uploads.visible_upload(session, scope, upload_id)
    except NotFound as exc:
        raise UnknownReference("upload_not_found", "photo_upload_id") from exc


async def visible_item(session: AsyncSession, scope: CommunityScope, item_id: str) -> StoreItem:
    item = await repo.item_in(session, scope.community_id, item_id)
    if item is None:
        raise NotFound("store.item_not_found")
    return item


async def create_item(session: AsyncSession, scope: CommunityScope, data: ItemCreate) -> StoreItem:
    await _check_photo(session, scope, data.photo_upload_id)
    values = data.model_dump()
    if not values["sponsor"]:
        values["sponsor_kind"] = ""
    item = StoreItem(community_id=scope.community_id, created_by=scope.person.id, **values)
    session.add(item)
    await session.flush()
    await audit.record(session, actor_id=scope.person.id, community_id=scope.community_id, action="store_item.create",
                       object_type="store_item", object_id=item.id, after=audit.snapshot(item, ITEM_FIELDS))
    return item


async def update_item(session: AsyncSession, scope: CommunityScope, item_id: str, data: ItemUpdate) -> StoreItem:
    item = await visible_item(session, scope, item_id)
    changes = data.model_dump(exclude_unset=True)
    for nullable_only in ("name", "price", "stock", "on_sale", "description", "sponsor", "sponsor_kind"):
        if nullable_only in changes and changes[nullable_only] is None:
            raise Invalid("invalid", errors=[{"loc": ["body", nullable_only], "msg_key": "validation.missing"}])
    if "photo_upload_id" in changes:
        await _check_photo(session, scope, changes["photo_upload_id"])
    before = audit.snapshot(item, ITEM_FIELDS)
    for name, value in changes.items():
        setattr(item, name, value)
    if not item.sponsor:
        item.sponsor_kind = ""
    item.updated_at = clock.now()
    await session.flush()
    after = audit.snapshot(item, ITEM_FIELDS)
    if before != after:
        await audit.record(session, actor_id=scope.person.id, community_id=scope.community_id,
                           action="store_item.update", object_type="store_item", object_id=item.id,
                           before={k: v for k, v in before.items() if after[k] != v},
                           after={k: v for k, v in after.items() if before[k] != v})
    return item


# --- codes ----------------------------------------------------------------------------------------

def _secret(order_id: str, version: int) -> str:
    key = get_settings().secret_key.encode()
    digest = hmac.new(key, f"store-pickup:{order_id}:{version}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**SECRET_DIGITS:0{SECRET_DIGITS}d}"


def pickup_code(order: StoreOrder) -> str:
    """The order's code: which order, then its secret digits."""
    return order.prefix + _secret(order.id, order.code_version)


def _new_prefix() -> str:
    return f"{secrets.randbelow(10**PREFIX_DIGITS):0{PREFIX_DIGITS}d}"


def normalise_code(typed: str) -> str:
    """What was typed or scanned, without spaces and dashes (a scanned QR reads the same)."""
    return "".join(ch for ch in typed if ch not in " -\u00a0\t")


# --- orders ---------------------------------------------------------------------------------------

def actors(scope: CommunityScope, order: StoreOrder) -> frozenset[OrderActor]:
    out = set()
    if order.person_id == scope.person.id:
        out.add(OrderActor.owner)
    if scope.can("store.manage"):
        out.add(OrderActor.committee)
    return frozenset(out)


async def visible_order(session: AsyncSession, scope: CommunityScope, order_id: str) -> StoreOrder:
    """The order if it is the caller's or the caller runs the store; 404 otherwise."""
    order = await repo.order_in(session, scope.community_id, order_id)
    if order is None or not actors(scope, order):
        raise NotFound("store.order_not_found")
    return order


async def redeem(session: AsyncSession, scope: CommunityScope, item_id: str, quantity: int) -> StoreOrder:
    """Spend points on ``quantity`` pieces of an item: an order ready for pickup, or a refusal that
    changes nothing (off sale, the person's limit, sold out, too few points)."""
    item = await repo.item_in(session, scope.community_id, item_id)
    if item is None:
        raise UnknownReference("store.item_not_found", "item_id")
    if not item.on_sale:
        raise Conflict("store.item_off_sale", name=item.name)
    if not await repo.take(session, item.id, scope.person.id, quantity, item.per_person_limit):
        raise Conflict("store.limit_reached", name=item.name, limit=item.per_person_limit or 0)
    if await repo.take_stock(session, item.id, quantity) is None:
        fresh = await repo.item_in(session, scope.community_id, item.id, fresh=True)
        if fresh is not None and not fresh.on_sale:
            raise Conflict("store.item_off_sale", name=item.name)
        raise Conflict("store.sold_out", name=item.name, stock=fresh.stock if fresh else 0)
    order_id, now = new_id(), clock.now()
    total = item.price * quantity
    await points.spend_on_order(session, community_id=scope.community_id, person_id=scope.person.id,
                                order_id=order_id, amount=total, title=item.name, actor_id=scope.person.id)
    rules = await points.community_rules(session, scope.community_id)
    order = None
    for _ in range(20):  # a prefix already used in the community: draw again
        order = await repo.add_order(session, {
            "id": order_id, "created_at": now, "updated_at": now, "community_id": scope.community_id,
            "item_id": item.id, "person_id": scope.person.id, "item_name": item.name, "quantity": quantity,
            "price": item.price, "total": total, "status": OrderStatus.ready.value, "prefix": _new_prefix(),
            "code_version": 1, "wrong_tries": 0, "expires_at": now + timedelta(days=rules.pickup_days),
            "placed_by": scope.person.id, "close_reason": ""})
        if order is not None:
            break
    if order is None:
        raise RuntimeError("no free pickup prefix in the community")
    await notifications.notify(session, [scope.person.id], scope.community_id, "store.order_ready",
                               {"order_id": order.id, "item": item.name, "quantity": quantity,
                                "date": _date(order.expires_at)})
    return order


async def _close(session: AsyncSession, order: StoreOrder, target: OrderStatus, *, actor_id: str | None,
                 reason: str) -> StoreOrder | None:
    """Move a waiting order to a refunded end (cancelled, expired): the points back once, the pieces
    back on the shelf, the person's count against the limit freed. None if it was not waiting."""
    moved = await repo.move_order(session, order.id, OrderStatus.ready, {
        "status": target.value, "closed_at": clock.now(), "closed_by": actor_id, "close_reason": reason})
    if moved is None:
        return None
    # The person's count, the stock, then the points: the order a redemption takes them in.
    await repo.give_back(session, moved.item_id, moved.person_id, moved.quantity)
    await repo.restock(session, moved.item_id, moved.quantity)
    await points.refund_order(session, community_id=moved.community_id, person_id=moved.person_id, order_id=moved.id,
                              amount=moved.total, title=moved.item_name, why=target.value, actor_id=actor_id,
                              reason=reason)
    return moved


def _date(when: datetime) -> str:
    """A day as both languages read it: 2026-12-19 (Beijing)."""
    return arithmetic.local(when).strftime("%Y-%m-%d")


def _not_now(order: StoreOrder, action: str) -> Conflict:
    return Conflict(f"store.{action}_not_now", status_name=Msg(f"store.order.status.{order.status}"),
                    extra={"order_status": order.status})


async def transition(session: AsyncSession, scope: CommunityScope, order_id: str, action: str,
                     reason: str) -> StoreOrder:
    order = await visible_order(session, scope, order_id)
    try:
        flows.check(action, OrderStatus(order.status), actors(scope, order))
    except flows.NotYours as exc:  # an owner fulfilling their own order, the committee reissuing a code
        raise Forbidden("store.not_yours", action=action) from exc
    except flows.NotNow as exc:
        raise _not_now(order, action) from exc
    if action == "cancel":
        closed = await _close(session, order, OrderStatus.cancelled, actor_id=scope.person.id, reason=reason)
        if closed is None:
            raise _not_now(await visible_order(session, scope, order_id), action)
        if closed.person_id != scope.person.id:
            await audit.record(session, actor_id=scope.person.id, community_id=scope.community_id,
                               action="store_order.cancel", object_type="store_order", object_id=closed.id,
                               before={"status": "ready"}, after={"status": "cancelled", "reason": reason,
                                                                  "person_id": closed.person_id})
            await notifications.notify(session, [closed.person_id], scope.community_id, "store.order_cancelled",
                                       {"order_id": closed.id, "item": closed.item_name, "amount": closed.total,
                                        "reason": reason}, actor_id=scope.person.id)
        return closed
    if action == "fulfil":
        return await _fulfil(session, scope, order, via="list")
    # reissue: a new secret, the tries and the lock cleared
    moved = await repo.move_order(session, order.id, OrderStatus.ready, {
        "code_version": order.code_version + 1, "wrong_tries": 0, "locked_at": None})
    if moved is None:
        raise _not_now(await visible_order(session, scope, order_id), action)
    return moved


async def _fulfil(session: AsyncSession, scope: CommunityScope, order: StoreOrder, *, via: str) -> StoreOrder:
    moved = await repo.move_order(session, order.id, OrderStatus.ready, {
        "status": OrderStatus.fulfilled.value, "closed_at": clock.now(), "closed_by": scope.person.id},
        unlocked_only=via == "code")
    if moved is None:
        fresh = await repo.order_in(session, scope.community_id, order.id)
        assert fresh is not None
        if fresh.status == OrderStatus.fulfilled:
            raise Conflict("store.code_used" if via == "code" else "store.fulfil_not_now",
                           status_name=Msg(f"store.order.status.{fresh.status}"), extra={"order_status": fresh.status})
        if fresh.locked_at is not None and fresh.status == OrderStatus.ready:
            raise Conflict("store.order_locked")
        raise _not_now(fresh, "fulfil")
    await audit.record(session, actor_id=scope.person.id, community_id=scope.community_id,
                       action="store_order.fulfil", object_type="store_order", object_id=moved.id,
                       before={"status": "ready"},
                       after={"status": "fulfilled", "via": via, "person_id": moved.person_id,
                              "quantity": moved.quantity, "total": moved.total})
    return moved


async def pickup(session: AsyncSession, scope: CommunityScope, typed: str) -> StoreOrder:
    """The pickup counter: hand over the order the code names, once."""
    code = normalise_code(typed)
    if len(code) != CODE_DIGITS or not code.isdigit():
        raise Invalid("store.code_malformed", errors=[{"loc": ["body", "code"], "msg_key": "error.store.code_malformed",
                                                       "params": {"digits": CODE_DIGITS}}])
    order = await repo.order_by_prefix(session, scope.community_id, code[:PREFIX_DIGITS])
    if order is None:
        raise NotFound("store.code_unknown")
    right = hmac.compare_digest(code[PREFIX_DIGITS:], _secret(order.id, order.code_version))
    if order.status != OrderStatus.ready:
        if not right:
            raise NotFound("store.code_unknown")
        if order.status == OrderStatus.fulfilled:
            raise Conflict("store.code_used", extra={"order_status": order.status, "order_id": order.id})
        raise Conflict("store.code_closed", extra={"order_status": order.status, "order_id": order.id})
    if order.locked_at is not None:
        raise Conflict("store.order_locked", extra={"order_id": order.id})
    if not right:
        tries = await repo.count_wrong_try(session, order.id, flows.WRONG_TRIES_LOCK, clock.now())
        if tries >= flows.WRONG_TRIES_LOCK:
            raise Conflict("store.order_locked", keep_changes=True, extra={"order_id": order.id})
        left = flows.WRONG_TRIES_LOCK - tries
        raise Invalid("store.code_wrong", keep_changes=True, left=left,
                      errors=[{"loc": ["body", "code"], "msg_key": "error.store.code_wrong", "params": {"left": left}}])
    return await _fulfil(session, scope, order, via="code")


# --- the sweep ------------------------------------------------------------------------------------

@dataclass
class StoreSweep:
    expired: list[str]
    reminded: list[str]


async def sweep(session: AsyncSession, now: datetime) -> StoreSweep:
    """Orders not picked up in time expire and are refunded; those expiring within a day are
    reminded once."""
    result = StoreSweep(expired=[], reminded=[])
    for order in await repo.orders_due(session, now, SWEEP_BATCH):
        closed = await _close(session, order, OrderStatus.expired, actor_id=None, reason="")
        if closed is not None:
            result.expired.append(closed.id)
            await notifications.notify(session, [closed.person_id], closed.community_id, "store.order_expired",
                                       {"order_id": closed.id, "item": closed.item_name, "amount": closed.total})
    for order in await repo.orders_to_remind(session, now, now + REMIND_BEFORE, SWEEP_BATCH):
        if await repo.mark_reminded(session, order.id, now):
            result.reminded.append(order.id)
            await notifications.notify(session, [order.person_id], order.community_id, "store.order_expiring",
                                       {"order_id": order.id, "item": order.item_name,
                                        "date": _date(order.expires_at)})
    await session.flush()
    return result
