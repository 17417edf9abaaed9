from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

_PHONE = re.compile(r"^1[3-9]\d{9}$")


def _phone(value: str) -> str:
    value = value.strip().replace(" ", "").replace("-", "")
    if value.startswith("+86"):
        value = value[3:]
    if not _PHONE.match(value):
        raise ValueError("validation.phone")
    return value


Phone = Annotated[str, Field(max_length=20), AfterValidator(_phone)]


class OtpRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: Phone


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: Phone | None = None
    code: str | None = Field(default=None, pattern=r"^\d{6}$")
    username: str | None = Field(default=None, min_length=1, max_length=50)
    password: str | None = Field(default=None, min_length=1, max_length=200)


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(min_length=10, max_length=200)


class LogoutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str | None = Field(default=None, max_length=200)
    everywhere: bool = False


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


def _display_name(value: object) -> object:
    """The name neighbours and staff see: runs of spaces, tabs and line breaks become one space,
    none at either end; one made of spaces alone is no name, and no other control character."""
    if not isinstance(value, str):
        return value  # None and non-strings: the checks below say what is wrong
    value = " ".join(value.split())
    if not value:
        raise ValueError("validation.name_blank")
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise ValueError("validation.name_control")
    return value


class MeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str | None, BeforeValidator(_display_name)] = Field(default=None, min_length=1, max_length=50)
    locale: str | None = Field(default=None, pattern=r"^(zh-CN|en)$")
    current_community_id: str | None = Field(default=None, max_length=26)

    @field_validator("name", "locale")
    @classmethod
    def _not_null(cls, value: str | None) -> str:
        # Omitted means "leave as is"; an explicit null would blank a required field.
        if value is None:
            raise ValueError("validation.not_null")
        return value
