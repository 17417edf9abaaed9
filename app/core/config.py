"""Settings, read from the environment with the ``WUGONG_`` prefix (and a ``.env`` file)."""

from __future__ import annotations

import ipaddress
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent.parent


class MissingSecretKey(RuntimeError):
    """Production refuses to start without an explicit secret key."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WUGONG_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = Field(default="")
    redis_url: str | None = None
    secret_key: str = ""
    data_dir: Path = ROOT / "var"
    public_base_url: str | None = None  # e.g. https://wugong.example.cn; else taken from the request
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    sms_backend: Literal["console", "memory"] = "console"
    # Sign-in limits; the reasoning and the numbers are in app/accounts/service.py.
    otp_ttl_seconds: int = 300
    otp_max_attempts: int = Field(default=5, ge=1)  # wrong guesses a code takes from its address, and from all others
    otp_resend_seconds: int = 60  # between codes for one phone asked from one address
    otp_per_phone_hour: int = 5  # codes for one phone asked from one address in an hour
    otp_per_ip_hour: int = 30  # codes one address may ask for in an hour, all phones together
    otp_wrong_per_phone_ip_day: int = 10  # wrong codes for one phone from one address in 24 hours
    otp_wrong_per_phone_day: int = 30  # wrong codes for one phone from all addresses in 24 hours
    password_max_attempts: int = 5  # wrong passwords for one username from one address in 15 minutes
    sign_in_failures_per_ip_hour: int = 20  # wrong codes and passwords from one address in an hour
    # Peers whose X-Forwarded-For / X-Forwarded-Proto are believed: comma-separated addresses or
    # networks ("127.0.0.1,10.0.0.0/8"). Empty: none, the peer itself is the client.
    trusted_proxies: str = ""
    upload_max_bytes: int = 10 * 1024 * 1024
    # Width × height of any image, from its header: the largest phone photo, 50 MP (8192 × 6144).
    upload_max_pixels: int = 8192 * 6144
    # Pixels actually decoded: a PNG, WebP or GIF whole; a JPEG after its decoder scaled it down to
    # what image_max_side needs (a 50 MP JPEG decodes as 12.5 MP). A 12–16 MP photo fits as it is.
    upload_max_decoded_pixels: int = 4096 * 4096
    upload_rate_limit: str = "20/minute;300/day"  # photos one person may upload ("" for no limit)
    media_url_seconds: int = Field(default=3600, ge=60)  # a private photo's signed URL lasts 1–2 of these
    image_max_side: int = 2048
    thumb_side: int = 400
    idempotency_hours: int = 24
    # A request running under an Idempotency-Key holds its key for this long, renewed while it
    # runs; a retry finding the key held past that (its server died) takes it over.
    idempotency_lease_seconds: float = Field(default=5, gt=0)
    # Tests only (env "test"): hold every answer to an Idempotency-Key at this point until the
    # server is killed, so that a test can kill it there: "record" (the request's own writes are
    # done, its answer not yet recorded) or "send" (recorded, not yet sent).
    idempotency_test_hold: Literal["", "record", "send"] = ""
    default_locale: str = "zh-CN"
    sweep_seconds: float = 60  # the overdue-issue sweep's period in each server process; 0 turns it off
    # Database connections each server process keeps open, and may open beyond those under load;
    # unset: 30 + 10 on PostgreSQL, 15 + 0 on SQLite. On PostgreSQL, workers × (both) must stay
    # under the server's max_connections (100 unless raised).
    db_pool_size: int | None = Field(default=None, ge=1)
    db_max_overflow: int | None = Field(default=None, ge=0)

    @field_validator("upload_rate_limit")
    @classmethod
    def _rates(cls, value: str) -> str:
        from app.core.ratelimit import parse

        try:
            parse(value)
        except ValueError as exc:
            raise ValueError(f"not a rate limit like '20/minute;300/day': {value!r}") from exc
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        # uvicorn's middleware would silently treat a mistyped address as a literal never matched.
        for item in filter(None, (v.strip() for v in value.split(","))):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"WUGONG_TRUSTED_PROXIES: {item!r} is not an address or a network") from exc
        return value

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [v.strip() for v in self.trusted_proxies.split(",") if v.strip()]

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'wugong.db'}"
        if not self.secret_key:
            if self.env == "production":
                raise MissingSecretKey(
                    "WUGONG_SECRET_KEY is required in production: set it to a long random string "
                    "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')."
                )
            self.secret_key = _development_secret(self.data_dir)
        return self

    def engine_options(self) -> dict[str, int]:
        """The pool sizes given in the settings, for ``db.init_engine``."""
        given = {"pool_size": self.db_pool_size, "max_overflow": self.db_max_overflow}
        return {k: v for k, v in given.items() if v is not None}

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"


def _development_secret(data_dir: Path) -> str:
    """Generate a secret once and keep it, so tokens survive a restart in development."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
