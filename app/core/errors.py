"""One error hierarchy, rendered as RFC 9457 problem+json in the caller's language.

Domain errors subclass ``AppError`` (or are instances with a code); validation errors are
turned into 422 with translated per-field messages. Expected failures are 4xx, never 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.i18n import negotiate, t

log = logging.getLogger("wugong")

PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    """An expected failure: ``code`` names it, ``status`` is the HTTP status.

    ``message_key`` looks up title/detail in the message catalogues; ``params`` fill them.
    """

    status: int = 400
    code: str = "bad_request"
    keep_changes: bool = False

    def __init__(
        self,
        code: str | None = None,
        status: int | None = None,
        message_key: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
        keep_changes: bool = False,
        **params: Any,
    ) -> None:
        self.keep_changes = keep_changes
        self.code = code or self.code
        self.status = status or self.status
        self.message_key = message_key or f"error.{self.code}"
        self.params = params
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra or {}
        super().__init__(self.code)


class Msg(str):
    """A parameter value that is itself a message key, translated with the rest."""


class NotFound(AppError):
    status, code = 404, "not_found"


class Unauthorized(AppError):
    status, code = 401, "unauthorized"

    def __init__(self, code: str | None = None, **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(code, **kw)


class Forbidden(AppError):
    status, code = 403, "forbidden"


class Conflict(AppError):
    status, code = 409, "conflict"


class Invalid(AppError):
    status, code = 422, "invalid"


class UnknownReference(Invalid):
    """A field of the request names a row that is not there: unknown, or another community's (the
    same answer for both). 422 naming the field, with the code saying what was not found."""

    def __init__(self, code: str, *loc: str | int, **kw: Any) -> None:
        super().__init__(code, errors=[{"loc": ["body", *loc], "msg_key": f"error.{code}"}], **kw)


class TooMany(AppError):
    status, code = 429, "too_many_requests"


def request_locale(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"), request.cookies.get("wg_lang"))


def problem(
    request: Request,
    status: int,
    code: str,
    message_key: str,
    params: dict[str, Any] | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    locale = request_locale(request)
    params = {k: t(v, locale) if isinstance(v, Msg) else v for k, v in (params or {}).items()}
    errors = [_translate_entry(e, locale) for e in errors or []]
    body: dict[str, Any] = {
        "type": f"urn:wugong:problem:{code}",
        "title": t(f"status.{status}", locale),
        "status": status,
        "detail": t(message_key, locale, **params),
        "code": code,
        "errors": errors or [],
        **(extra or {}),
    }
    return JSONResponse(
        body, status_code=status, media_type=PROBLEM_JSON, headers={"Content-Language": locale, **(headers or {})}
    )


def _translate_entry(entry: dict[str, Any], locale: str) -> dict[str, Any]:
    """Services name an error entry's message by key (``msg_key``, ``params``); render it here."""
    if "msg_key" not in entry:
        return entry
    out = {k: v for k, v in entry.items() if k not in ("msg_key", "params")}
    out["msg"] = t(entry["msg_key"], locale, **entry.get("params", {}))
    return out


_VALIDATION_KEYS = {
    "missing": "validation.missing",
    "string_too_long": "validation.string_too_long",
    "string_too_short": "validation.string_too_short",
    "too_long": "validation.too_long",
    "too_short": "validation.too_short",
    "string_pattern_mismatch": "validation.pattern",
    "string_type": "validation.string_type",
    "int_parsing": "validation.int_parsing",
    "int_type": "validation.int_parsing",
    "float_parsing": "validation.number",
    "decimal_parsing": "validation.number",
    "greater_than": "validation.greater_than",
    "greater_than_equal": "validation.greater_than_equal",
    "less_than": "validation.less_than",
    "less_than_equal": "validation.less_than_equal",
    "json_invalid": "validation.json_invalid",
    "model_attributes_type": "validation.object",
    "dict_type": "validation.object",
    "list_type": "validation.list",
    "bool_parsing": "validation.bool",
    "enum": "validation.enum",
    "literal_error": "validation.enum",
    "datetime_parsing": "validation.datetime",
    "datetime_from_date_parsing": "validation.datetime",
    "timezone_aware": "validation.timezone_aware",
    "extra_forbidden": "validation.extra_forbidden",
    "value_error": "validation.value_error",
    "uuid_parsing": "validation.value_error",
}


def translate_validation(errors: list[Any], locale: str) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        kind = err.get("type", "")
        ctx = {k: v for k, v in (err.get("ctx") or {}).items() if isinstance(v, str | int | float)}
        key = _VALIDATION_KEYS.get(kind)
        if kind == "value_error" and isinstance(err.get("ctx", {}).get("error"), ValueError):
            # Our own validators raise ValueError("message.key") so the text is translatable.
            msg_key = str(err["ctx"]["error"])
            msg = t(msg_key, locale) if not msg_key.startswith(" ") else msg_key
        elif key:
            msg = t(key, locale, **ctx)
        else:
            msg = err.get("msg", kind)
        out.append({"loc": list(err.get("loc", [])), "msg": msg, "type": kind})
    return out


def wants_html(request: Request) -> bool:
    """A browser navigating to a page, not a client of the API."""
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def install(app: FastAPI, html_not_found: Callable[[Request], Response] | None = None) -> None:
    """Problem+json for every error; a browser asking for a missing page gets ``html_not_found``."""
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        return problem(request, exc.status, exc.code, exc.message_key, exc.params, exc.errors, exc.headers, exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        locale = request_locale(request)
        return problem(
            request, 422, "invalid", "error.invalid", errors=translate_validation(list(exc.errors()), locale)
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404 and html_not_found is not None and wants_html(request):
            return html_not_found(request)
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(exc.status_code, "http_error")
        return problem(request, exc.status_code, code, f"error.{code}", headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(request, 500, "internal", "error.internal")
