"""The OpenAPI document, completed from what each operation can do.

FastAPI documents parameters, bodies and successful answers. This adds, for every operation and
without any router saying it again: who may call it (the bearer token, ``security``; the
permission its ``Require(...)`` declares, ``x-permission``) and the error answers it may give, all
``application/problem+json`` in the shape app/core/errors.py renders. What an operation can do is
read from its route: its dependencies (the caller, the community, the permission), its parameters,
its body and its method.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app.accounts.deps import current_person
from app.communities.deps import RequirePermission, community_scope
from app.core.errors import PROBLEM_JSON

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BEARER = "bearer"

# Limits kept by the services (app/accounts/service.py: codes per phone and address, sign-in locks).
RATE_LIMITED = frozenset({("POST", "/api/v1/auth/otp"), ("POST", "/api/v1/auth/token")})
# Public operations that check credentials of their own: a wrong code, password or refresh token is 401.
CHECK_CREDENTIALS = frozenset({("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/refresh")})

# A body field that names another object (an id, an invite's code): 404 when there is none the caller may use.
_NAMES_AN_OBJECT = re.compile(r"(_ids?|^code)$")

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `title`, `detail` and `msg` are in the language of "
                   "Accept-Language (zh-CN by default, en).",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code", "errors"],
    "properties": {
        "type": {"type": "string", "description": "urn:wugong:problem:<code>"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "What went wrong, for programs (e.g. forbidden_role)."},
        "errors": {
            "type": "array",
            "description": "Which inputs are wrong, and why.",
            "items": {
                "type": "object",
                "required": ["msg"],
                "properties": {
                    "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    # Some problems say more (the actions still allowed, the issue merged into, ...).
    "additionalProperties": True,
}

DESCRIPTIONS = {
    400: "The Idempotency-Key header is malformed",
    401: "No bearer token, or one that is expired, forged or revoked",
    403: "The caller's roles, or the rules of the object, do not allow this (or the caller's request to join "
         "the community awaits the committee: join_pending)",
    404: "Nothing by this id that the caller may see (never tells whether it exists)",
    409: "Conflicts with the current state, or a request with the same Idempotency-Key is still being answered",
    413: "The file is too large",
    422: "Invalid input: `errors` says which field and why",
    429: "Too many tries: Retry-After says when to try again",
}


@dataclass(frozen=True)
class Access:
    """Who may call an operation, as its route's dependencies declare it."""

    signed_in: bool  # needs a bearer token (401 without)
    community: bool  # acts in the community named by the path (404 for a caller outside it)
    permission: str | None  # what Require(...) asks of the caller's roles there (403 without)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # as in the document: /api/v1/communities/{cid}/issues
    route: Any  # the APIRoute, or the view of it FastAPI builds for an included router


def operations(app: FastAPI) -> Iterator[Operation]:
    """Every operation the document shows, with its route."""
    contexts = getattr(routing, "iter_route_contexts", None)
    routes: list[Any]
    if contexts is not None:  # newer FastAPI includes routers lazily: a context reads as the included route
        routes = [c for c in contexts(app.routes) if isinstance(c.original_route, APIRoute)]
    else:
        routes = [r for r in app.routes if isinstance(r, APIRoute)]
    for route in routes:
        if route.include_in_schema:
            for method in sorted(route.methods or ()):
                yield Operation(method, route.path_format, route)


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def access(route: Any) -> Access:
    calls = list(_calls(route.dependant))
    permission = next((c.permission for c in calls if isinstance(c, RequirePermission)), None)
    community = community_scope in calls
    return Access(signed_in=community or current_person in calls, community=community, permission=permission)


def _body_schema(operation: dict[str, Any], components: dict[str, Any]) -> dict[str, Any] | None:
    """The request body's schema (a model's, when it is a model or a model or null); None: no body."""
    content = (operation.get("requestBody") or {}).get("content") or {}
    if not content:
        return None
    schema: dict[str, Any] = next(iter(content.values())).get("schema") or {}
    ref = next((s["$ref"] for s in [schema, *schema.get("anyOf", [])] if "$ref" in s), None)
    return components.get(ref.rsplit("/", 1)[-1], {}) if ref else schema


def error_answers(method: str, path: str, who: Access, operation: dict[str, Any],
                  components: dict[str, Any]) -> list[int]:
    """The problem answers an operation may give, from what it does."""
    write = method in WRITES
    parameters = operation.get("parameters", [])
    body = _body_schema(operation, components)
    names_objects = any(_NAMES_AN_OBJECT.search(name) for name in (body or {}).get("properties", {}))
    multipart = any("multipart" in media for media in (operation.get("requestBody") or {}).get("content", {}))
    answers = []
    if write:
        answers.append(400)
    if who.signed_in or (method, path) in CHECK_CREDENTIALS:
        answers.append(401)
    # Services refuse by rule too (who may dispatch, ...); an applicant awaiting approval is told so.
    if who.permission or who.community or (who.signed_in and write):
        answers.append(403)
    if who.community or any(p["in"] == "path" for p in parameters) or (who.signed_in and write and names_objects):
        answers.append(404)
    if write:
        answers.append(409)
    if multipart:
        answers.append(413)
    if parameters or body is not None or write:  # a write also: a reused Idempotency-Key
        answers.append(422)
    if (method, path) in RATE_LIMITED:
        answers.append(429)
    return answers


def complete(app: FastAPI, schema: dict[str, Any]) -> dict[str, Any]:
    """Add security, permissions and problem answers to the document FastAPI generated."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    components.setdefault("securitySchemes", {})[BEARER] = {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "An access token from POST /api/v1/auth/token."}
    problem = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for op in operations(app):
        operation = schema["paths"].get(op.path, {}).get(op.method.lower())
        if operation is not None:
            who = access(op.route)
            if who.signed_in:
                operation["security"] = [{BEARER: []}]
            if who.permission:
                operation["x-permission"] = who.permission
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)  # FastAPI's own, in a shape we never answer
            for status in error_answers(op.method, op.path, who, operation, schemas):
                responses[str(status)] = {"description": DESCRIPTIONS[status], "content": problem}
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return schema


def install(app: FastAPI) -> None:
    """Serve the completed document at /openapi.json (built once, on first asking)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(app, generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
