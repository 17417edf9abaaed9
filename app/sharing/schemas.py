"""What the sharing endpoints answer."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class PosterFact(BaseModel):
    label: str
    value: str = Field(description="What the fact says; empty when `at` says it")
    at: datetime | None = Field(default=None, description="A moment the phone writes out in its own words")


class PosterRead(BaseModel):
    """What a phone draws on the poster 海报 of a short link, in the reader's language."""

    code: str
    url: str = Field(description="The short link the QR code leads to")
    qr_png_url: str
    title: str
    community_name: str
    facts: list[PosterFact]
    action_label: str = Field(description="What scanning the code leads to, e.g. 查看表决")
