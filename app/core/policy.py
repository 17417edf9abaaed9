"""The one policy module: which roles may do what in a community.

Routes declare a permission (``Require("members.manage")``); this table says who holds it.
Region admins act as the committee in every community below their region; platform admins
everywhere.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    resident = "resident"  # 居民
    owner = "owner"  # 业主
    building_leader = "building_leader"  # 楼栋长
    grid_worker = "grid_worker"  # 网格员
    handler = "handler"  # 处置人 / 责任单位
    committee = "committee"  # 两委 / 居委会 / 村委会


ALL_ROLES = frozenset(Role)
STAFF = frozenset({Role.grid_worker, Role.handler, Role.committee})

PERMISSIONS: dict[str, frozenset[Role]] = {
    "community.view": ALL_ROLES,
    "community.edit": frozenset({Role.committee}),
    "places.view": ALL_ROLES,
    "places.manage": frozenset({Role.committee}),
    "households.view": frozenset({Role.committee, Role.grid_worker, Role.building_leader}),
    "roster.import": frozenset({Role.committee}),
    "members.view": frozenset({Role.committee, Role.grid_worker, Role.building_leader}),
    "members.manage": frozenset({Role.committee}),
    "members.see_phones": frozenset({Role.committee}),
    "invites.create": frozenset({Role.committee, Role.grid_worker, Role.building_leader}),
    "invites.view": frozenset({Role.committee, Role.grid_worker, Role.building_leader}),
    "join_requests.decide": frozenset({Role.committee}),
    "audit.read": frozenset({Role.committee}),
    "uploads.create": ALL_ROLES,
    "uploads.view_any": frozenset({Role.committee}),  # any upload of the community, attached or not
    "issues.view": ALL_ROLES,
    "issues.report": ALL_ROLES,
    # Every staff-only issue (disputes). A handler sees one only when it is dispatched to them or
    # they reported it: that rule is app/issues/service.py's sees_issue, not a role.
    "issues.see_staff_only": frozenset({Role.committee, Role.grid_worker}),
    "issues.see_reporters": STAFF,  # the names of reporters who asked to be hidden from residents
    "issues.report_as_staff": STAFF,  # sources other than "resident", staff-only reports
    "issues.triage": frozenset({Role.committee}),
    "issues.configure": frozenset({Role.committee}),  # categories and handlers
    # Who may vote is the poll's frozen electorate, not a role; these are what roles add.
    "polls.view": ALL_ROLES,
    "polls.vote": ALL_ROLES,  # and only if in the electorate (app/polls/service.py)
    "polls.manage": frozenset({Role.committee}),  # build, open, close, publish, answer objections
    "polls.enter_paper": frozenset({Role.committee, Role.grid_worker, Role.building_leader}),  # facilitators
    "polls.see_named": frozenset({Role.committee}),  # who chose what, in a named 记名 poll
    # Points 爱心积分 and the time bank 时间银行: one's own ledger, the honour board, giving hours.
    "points.view": ALL_ROLES,
    "points.donate": ALL_ROLES,
    # Anyone's ledger, bonuses and adjustments, the community's rules, the ledger's exports.
    "points.manage": frozenset({Role.committee}),
    # The points store 积分超市: items, one's own orders; the committee stocks it and hands things over.
    "store.view": ALL_ROLES,
    "store.redeem": ALL_ROLES,
    "store.manage": frozenset({Role.committee}),
    # Tasks 任务: anyone takes part; which kinds one may post, and whose claims one may act on, is
    # app/tasks/service.py's (a wish or a time-bank request is anyone's; a job or an adoption an organiser's).
    "tasks.view": ALL_ROLES,
    "tasks.post": ALL_ROLES,  # a micro-wish, a time-bank request (and, with tasks.organise, any task)
    "tasks.claim": ALL_ROLES,
    "tasks.organise": frozenset({Role.committee, Role.grid_worker, Role.building_leader}),
    "tasks.act_for": frozenset({Role.committee, Role.grid_worker, Role.building_leader}),  # facilitators
    "tasks.manage": frozenset({Role.committee}),  # act as an organiser of any task; approve micro-wishes
    "tasks.reward": frozenset({Role.committee}),  # offer the community's points for a task
    "tasks.configure": frozenset({Role.committee}),  # the community's task rules
}

# What a region admin (street/district staff) holds in the communities below them.
REGION_ADMIN_ROLES = frozenset({Role.committee})


def allowed(permission: str, roles: frozenset[str] | set[str] | list[str]) -> bool:
    holders = PERMISSIONS[permission]
    return any(r in holders for r in roles)


def is_staff(roles: frozenset[str] | set[str] | list[str]) -> bool:
    return any(r in STAFF for r in roles)
