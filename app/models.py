"""Every model, imported once so that Alembic and the tests see the whole schema."""

from app.accounts.models import OtpCode, Person, RefreshToken, SignInLock
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
from app.core.models import IdempotencyRecord, Upload
from app.sharing.models import ShortLink

__all__ = [
    "AuditEntry",
    "Base",
    "Building",
    "Community",
    "Grid",
    "Household",
    "IdempotencyRecord",
    "Invite",
    "JoinRequest",
    "Membership",
    "OtpCode",
    "Person",
    "RefreshToken",
    "Region",
    "RegionAdmin",
    "RosterEntry",
    "ShortLink",
    "SignInLock",
    "Upload",
]
