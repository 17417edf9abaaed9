"""The OpenAPI document tells clients every error answer an operation may give, as problem+json.

Which answers apply is derived (app/openapi.py); these tests hold the document to it, and hold
real problem answers to the document's Problem schema. That the server gives no undeclared status
is checked by tests/contract/test_fuzz.py (schemathesis' status_code_conformance).
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from app.core.errors import PROBLEM_JSON
from app.main import create_app
from tests import factories as f

DOCUMENT: dict[str, Any] = create_app().openapi()
OPERATIONS = [(method.upper(), path, operation) for path, item in DOCUMENT["paths"].items()
              for method, operation in item.items()]
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
PROBLEM = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def test_every_error_answer_is_declared_as_problem_json() -> None:
    undeclared = []
    for method, path, operation in OPERATIONS:
        responses = operation["responses"]
        for status, response in responses.items():
            if status.startswith("4") and response.get("content") != PROBLEM:
                undeclared.append(f"{method} {path}: {status} is not problem+json")
        expected = set()
        if operation.get("security"):
            expected.add("401")
        if operation.get("x-permission"):
            expected.add("403")
        if "{" in path:
            expected.add("404")
        if operation.get("parameters") or "requestBody" in operation:
            expected.add("422")
        if method in WRITES:
            expected |= {"400", "409", "422"}  # Idempotency-Key: malformed, in progress, reused
        missing = expected - set(responses)
        if missing:
            undeclared.append(f"{method} {path}: {sorted(missing)} not declared")
    assert not undeclared, "\n".join(undeclared)


def test_fastapis_own_validation_answer_is_gone_from_the_document() -> None:
    assert "HTTPValidationError" not in str(DOCUMENT)
    assert "ValidationError" not in DOCUMENT["components"]["schemas"]


def test_the_rate_limited_and_multipart_operations_say_so() -> None:
    responses = {(m, p): o["responses"] for m, p, o in OPERATIONS}
    assert "429" in responses[("POST", "/api/v1/auth/otp")] and "429" in responses[("POST", "/api/v1/auth/token")]
    assert "401" in responses[("POST", "/api/v1/auth/token")]  # a wrong code or password
    assert "413" in responses[("POST", "/api/v1/communities/{cid}/uploads")]
    assert "413" in responses[("POST", "/api/v1/communities/{cid}/households/import")]


def test_who_may_call_is_in_the_document() -> None:
    operations = {(m, p): o for m, p, o in OPERATIONS}
    assert DOCUMENT["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert operations[("GET", "/api/v1/me")]["security"] == [{"bearer": []}]
    assert "security" not in operations[("POST", "/api/v1/auth/token")]
    assert operations[("POST", "/api/v1/communities/{cid}/grids")]["x-permission"] == "places.manage"
    assert "x-permission" not in operations[("GET", "/api/v1/communities/{cid}")]  # any member


def test_health_and_readiness_are_documented() -> None:
    healthz = DOCUMENT["paths"]["/healthz"]["get"]
    readyz = DOCUMENT["paths"]["/readyz"]["get"]
    assert "security" not in healthz and "security" not in readyz
    assert set(readyz["responses"]) == {"200", "503"}
    ready = readyz["responses"]["503"]["content"]["application/json"]["schema"]["$ref"]
    assert DOCUMENT["components"]["schemas"][ready.rsplit("/", 1)[-1]]["required"] == ["status", "checks"]
    assert "200" in healthz["responses"]


def _conforms(value: Any, schema: dict[str, Any]) -> bool:
    """Enough of JSON Schema for the Problem schema: types, required keys, items."""
    kinds = {"object": dict, "array": list, "string": str, "integer": int}
    if "anyOf" in schema:
        return any(_conforms(value, s) for s in schema["anyOf"])
    if not isinstance(value, kinds[schema["type"]]):
        return False
    if schema["type"] == "object":
        return all(k in value for k in schema.get("required", [])) and all(
            _conforms(value[k], s) for k, s in schema.get("properties", {}).items() if k in value)
    if schema["type"] == "array":
        return all(_conforms(v, schema["items"]) for v in value)
    return True


async def test_real_problem_answers_match_the_problem_schema(client: httpx.AsyncClient, session: Any) -> None:
    schema = DOCUMENT["components"]["schemas"]["Problem"]
    c = await f.community(session)
    resident = await f.member(session, c)
    answers = [
        await client.get("/api/v1/me"),  # 401
        await client.post(f"/api/v1/communities/{c.id}/grids", json={"name": "东区"}, headers=f.auth(resident)),  # 403
        await client.get(f"/api/v1/communities/{c.id}/issues/nothing", headers=f.auth(resident)),  # 404
        await client.post(f"/api/v1/communities/{c.id}/issues", json={"title": 5}, headers=f.auth(resident)),  # 422
    ]
    assert [a.status_code for a in answers] == [401, 403, 404, 422]
    for answer in answers:
        assert answer.headers["content-type"] == PROBLEM_JSON
        assert _conforms(answer.json(), schema), answer.json()
        assert re.fullmatch(r"urn:wugong:problem:\w+", answer.json()["type"])
