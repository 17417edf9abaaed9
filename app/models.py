"""Every model, imported once so that Alembic and the tests see the whole schema."""

from app.accounts.models import OtpCode, Person, RefreshToken, SignInFailure, SignInLock
from app.communities.models import (
    Building,
    Community,
    Grid,
    Household,
    Invite,
    JoinRequest,
    Membership,
    Region,
    RegionAdmin,
    RosterEntry,
)
from app.core.audit import AuditEntry
from app.core.db import Base
from app.core.lease import Lease
from app.core.models import IdempotencyRecord, Upload
from app.issues.models import (
    Category,
    Handler,
    HandlerMember,
    Issue,
    IssueComment,
    IssueEvent,
    IssueFollower,
    IssuePhoto,
    IssueSupport,
)
from app.notifications.models import Notification
from app.points.models import Balance as PointsBalance
from app.points.models import Entry as PointsEntry
from app.points.models import Hold as PointsHold
from app.points.models import LedgerUnlock as PointsLedgerUnlock
from app.points.models import Rules as PointsRules
from app.points.models import Total as PointsTotal
from app.polls.models import Poll, PollBallot, PollBoxBallot, PollElector, PollKey, PollObjection, PollOption
from app.sharing.models import ShortLink
from app.tasks.models import Task, TaskClaim, TaskEvent, TaskOrganiser, TaskPhoto, TaskRules

__all__ = [
    "AuditEntry",
    "Base",
    "Building",
    "Category",
    "Community",
    "Grid",
    "Handler",
    "HandlerMember",
    "Household",
    "IdempotencyRecord",
    "Invite",
    "Issue",
    "IssueComment",
    "IssueEvent",
    "IssueFollower",
    "IssuePhoto",
    "IssueSupport",
    "JoinRequest",
    "Lease",
    "Membership",
    "Notification",
    "OtpCode",
    "Person",
    "PointsBalance",
    "PointsEntry",
    "PointsHold",
    "PointsLedgerUnlock",
    "PointsRules",
    "PointsTotal",
    "Poll",
    "PollBallot",
    "PollBoxBallot",
    "PollElector",
    "PollKey",
    "PollObjection",
    "PollOption",
    "RefreshToken",
    "Region",
    "RegionAdmin",
    "RosterEntry",
    "ShortLink",
    "SignInFailure",
    "SignInLock",
    "Task",
    "TaskClaim",
    "TaskEvent",
    "TaskOrganiser",
    "TaskPhoto",
    "TaskRules",
    "Upload",
]
