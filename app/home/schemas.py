"""What the home page shows of one community: a card per thing that waits for the caller."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Tone = Literal["", "info", "success", "warning", "danger"]


class HomeItem(BaseModel):
    """One thing on a card: a poll to vote in, an issue to verify …, and the page that does it."""

    title: str = Field(description="What it is (a poll's or an issue's own title: user content)")
    href: str = Field(description="The page of the app where it is done")
    note: str = Field("", description="Where it stands, in the caller's language")
    tone: Tone = Field("", description="How pressing the note is: warning waits for the caller, danger is late")
    at: datetime | None = Field(None, description="The time that matters to it (a deadline, the last change)")
    at_label: str = Field("", description="What `at` is, in the caller's language (截止, 更新于 …)")


class HomeAction(BaseModel):
    label: str
    href: str
    primary: bool = False


class HomeCard(BaseModel):
    """One capability's card. ``count`` is how many things wait for the caller here (0: none); the
    items are the first few, most pressing first; ``empty`` says what to do when there are none."""

    key: str = Field("", description="The card's stable name, as its domain registered it (polls.vote …)")
    title: str
    count: int = Field(ge=0)
    summary: str = Field("", description="A line of counts under the title, for staff cards")
    items: list[HomeItem] = []
    empty: str = ""
    actions: list[HomeAction] = []


class HomeRead(BaseModel):
    community_id: str
    community_name: str
    cards: list[HomeCard]
