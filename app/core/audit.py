"""The audit log: every staff write — who, what, when, before and after."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, IdMixin, TimestampMixin
from app.core.i18n import DEFAULT, t


class AuditEntry(IdMixin, TimestampMixin, Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_community_id_id", "community_id", "id"),)

    community_id: Mapped[str | None] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(26))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


def snapshot(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """A JSON-safe picture of ``fields`` of ``obj`` for before/after."""
    out: dict[str, Any] = {}
    for f in fields:
        v = getattr(obj, f)
        out[f] = v.isoformat() if isinstance(v, datetime) else (str(v) if v is not None and not isinstance(
            v, str | int | float | bool | list | dict) else v)
    return out


async def record(
    session: AsyncSession,
    *,
    actor_id: str | None,
    community_id: str | None,
    action: str,
    object_type: str,
    object_id: str | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    _check(action, object_type, before, after)
    session.add(AuditEntry(
        community_id=community_id, actor_id=actor_id, action=action, object_type=object_type,
        object_id=object_id, before=before, after=after,
    ))


# --- the log in words ------------------------------------------------------------------------
# Each domain declares the actions it records and how each field it records reads; record()
# refuses anything else, so no entry reaches the log that the page would show as a raw key
# (tests/communities/test_audit_log.py checks that each has its words in every language). The page
# gets every entry already in words: labels, enum values, names for ids and times to format.

@dataclass(frozen=True)
class Field:
    """How a recorded field reads: its label is ``ui.audit.field.<name>``."""

    kind: str = "text"  # text | number | flag | time | area | set | enum | ref | refs | roles | localised
    names: str = ""  # ref, refs: the kind of thing the id names (a resolver's name)
    labels: Mapping[str, str] = dc_field(default_factory=dict)  # enum: value -> message key


def enum(prefix: str, values: Iterable[str]) -> Field:
    return Field("enum", labels={v: f"{prefix}.{v}" for v in values})


def ref(names: str) -> Field:
    return Field("ref", names=names)


def refs(names: str) -> Field:
    return Field("refs", names=names)


TEXT, NUMBER, FLAG, TIME, AREA, SET, ROLES = (Field(k) for k in ("text", "number", "flag", "time", "area", "set",
                                                                   "roles"))

# Names of things for their ids: kind -> (session, community id, ids, locale) -> {id: name}.
Resolver = Callable[[AsyncSession, str, list[str], str], Awaitable[dict[str, str]]]

ACTIONS: set[str] = set()
FIELDS: dict[str, dict[str, Field]] = {}  # object type -> field name -> how it reads
RESOLVERS: dict[str, Resolver] = {}


def declare(object_type: str, actions: Iterable[str], **fields: Field) -> None:
    """What a domain records about ``object_type``: its actions and every field it may hold."""
    ACTIONS.update(actions)
    FIELDS.setdefault(object_type, {}).update(fields)


def resolver(kind: str, names: Resolver) -> None:
    """How to name things of ``kind`` (an object type or a ref's ``names``) from their ids."""
    RESOLVERS[kind] = names


def _check(action: str, object_type: str, *values: dict[str, Any] | None) -> None:
    if action not in ACTIONS:
        raise ValueError(f"audit action {action!r} is not declared (app.core.audit.declare)")
    known = FIELDS.get(object_type, {})
    unknown = {f for v in values if v for f in v if f not in known}
    if unknown:
        raise ValueError(f"audit fields {sorted(unknown)} of {object_type!r} are not declared")


async def describe(session: AsyncSession, community_id: str, entries: Sequence[AuditEntry],
                   locale: str) -> list[dict[str, Any]]:
    """Entries as the page shows them: action and fields in words, ids as names, in ``locale``.

    One query per kind of thing named on the page, however many entries name it."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for e in entries:
        if e.actor_id:
            wanted["person"].add(e.actor_id)
        if e.object_id and e.object_type in RESOLVERS:
            wanted[e.object_type].add(e.object_id)
        fields = FIELDS.get(e.object_type, {})
        for values in (e.before, e.after):
            for name, value in (values or {}).items():
                how = fields.get(name)
                if how and how.kind == "ref" and isinstance(value, str):
                    wanted[how.names].add(value)
                elif how and how.kind == "refs" and isinstance(value, list):
                    wanted[how.names].update(v for v in value if isinstance(v, str))
    names = {kind: await RESOLVERS[kind](session, community_id, sorted(ids), locale)
             for kind, ids in wanted.items() if ids and kind in RESOLVERS}
    return [_describe(e, names, locale) for e in entries]


def _describe(e: AuditEntry, names: dict[str, dict[str, str]], locale: str) -> dict[str, Any]:
    fields = FIELDS.get(e.object_type, {})

    def show(name: str, value: Any) -> dict[str, Any]:
        return _value(fields.get(name, TEXT), value, names, locale)

    changes = []
    before, after = e.before or {}, e.after or {}
    for name in dict.fromkeys([*before, *after]):
        old, new = before.get(name), after.get(name)
        if e.before is not None and e.after is not None:
            if name in before and name in after and old == new:
                continue
            change = {"before": show(name, old) if name in before else None,
                      "after": show(name, new) if name in after else None}
        else:  # what a new thing was made with, or what a removed one had: its blanks say nothing
            removed = e.before is not None
            value = old if removed else new
            if _blank(value) or (fields.get(name, TEXT).kind == "area" and _number(value) == "0"):
                continue
            change = {"before": show(name, value), "after": None} if removed else {"before": None,
                                                                                  "after": show(name, value)}
        changes.append({"field": name, "label": t(f"ui.audit.field.{name}", locale), **change})
    return {
        "id": e.id, "actor_id": e.actor_id, "action": e.action, "object_type": e.object_type,
        "object_id": e.object_id, "before": e.before, "after": e.after, "created_at": e.created_at,
        "actor_name": names.get("person", {}).get(e.actor_id or "") if e.actor_id else None,
        "what": t(f"ui.audit.action.{e.action}", locale),
        "object_name": names.get(e.object_type, {}).get(e.object_id or ""),
        "changes": changes,
    }


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _value(how: Field, value: Any, names: dict[str, dict[str, str]], locale: str) -> dict[str, Any]:
    """One value in words ({"text": …}), or a moment for the phone to show in its own way ({"time": ISO}).
    Words people wrote or gave as names (text, the names behind ids) come with "quoted": true, so the
    page shows them as user content rather than in its own language; a sentence of ours that quotes
    some lists them in "quotes"."""
    if _blank(value):
        return {"text": t("ui.audit.none", locale)}
    if how.kind == "time" and isinstance(value, str):
        return {"time": value}
    sep = t("ui.common.list_sep", locale)
    unknown = t("ui.audit.unknown", locale)
    if how.kind == "flag" or isinstance(value, bool):
        text = t("ui.audit.yes" if value else "ui.audit.no", locale)
    elif how.kind == "enum":
        text = t(how.labels[value], locale) if value in how.labels else str(value)
    elif how.kind == "roles" and isinstance(value, list):
        text = sep.join(t(f"ui.role.{r}", locale) for r in value)
    elif how.kind == "ref":
        return _quoted(names.get(how.names, {}).get(str(value)), unknown)
    elif how.kind == "refs" and isinstance(value, list):
        found = [names.get(how.names, {}).get(str(v)) for v in value]
        if all(found):
            return {"text": sep.join(n for n in found if n), "quoted": True}
        text = sep.join(n or unknown for n in found)
    elif how.kind == "area":
        text = t("ui.places.area_value", locale, area=_number(value))
    elif how.kind == "set":
        text = t("ui.audit.set", locale)
    elif how.kind == "localised" and isinstance(value, dict):  # words of ours, quoting words of people's
        quotes = [q for q in value.get("quotes") or [] if isinstance(q, str)]
        return {"text": str(value.get(locale) or value.get(DEFAULT) or ""), "quotes": quotes}
    elif how.kind == "number":
        text = _number(value)
    elif isinstance(value, list):
        return {"text": sep.join(str(v) for v in value), "quoted": True}
    else:
        return {"text": str(value), "quoted": True}
    return {"text": text}


def _quoted(name: str | None, unknown: str) -> dict[str, Any]:
    return {"text": name, "quoted": True} if name else {"text": unknown}


def _number(value: Any) -> str:
    try:
        return format(Decimal(str(value)).normalize(), "f")
    except ArithmeticError:
        return str(value)
