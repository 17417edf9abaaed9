"""Schemathesis hooks for tests/contract/test_fuzz.py, loaded by ``st run`` (SCHEMATHESIS_HOOKS).

They make the fuzzer act as one person of the demo compound: every request carries a token minted
just before it is sent, the community in the path is the compound, and ids in paths, queries and
bodies are often real ones (else nearly every case would stop at a 404 and test nothing deeper).
The test writes what they need to the JSON file named by WUGONG_FUZZ_DATA.
"""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path
from typing import Any

import schemathesis

from app.core.security import create_access_token

DATA: dict[str, Any] = json.loads(Path(os.environ["WUGONG_FUZZ_DATA"]).read_text())
IDS: dict[str, list[str]] = DATA["ids"]
REAL = 0.5  # how often such a value is swapped for a real one
NAIVE_TIMES = 0.2  # how often a date and time loses its offset
rnd = random.Random(DATA["seed"])
AWARE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?)(?:Z|z|[+-]\d\d:\d\d)$")

# Which pool of real values (ids, and the issue flow's actions) a parameter or body field draws from.
POOLS = {
    "issue_id": "issue_id", "poll_id": "poll_id", "member_id": "member_id", "invite_id": "invite_id",
    "request_id": "request_id", "upload_id": "upload_id", "objection_id": "objection_id",
    "region_id": "region_id", "parent_id": "region_id", "code": "code",
    "building_id": "building_id", "scope_building_id": "building_id", "grid_id": "grid_id",
    "grid_ids": "grid_id", "household_id": "household_id", "category_id": "category_id",
    "handler_id": "handler_id", "default_handler_id": "handler_id", "cover_upload_id": "upload_id",
    "photo_ids": "upload_id", "current_community_id": "community_id", "member_ids": "person_id",
    "elector_id": "elector_id", "choices": "option_id", "into": "issue_id", "action": "action",
    "task_id": "task_id", "claim_id": "claim_id", "for_person_id": "person_id", "to_person_id": "person_id",
    "organiser_ids": "person_id",
}


def _real(name: str, value: Any) -> Any:
    pool = IDS.get(POOLS.get(name, ""), [])
    if not pool or rnd.random() > REAL:
        return value
    if isinstance(value, list):
        return [rnd.choice(pool) for _ in value] if value else [rnd.choice(pool)]
    return rnd.choice(pool) if isinstance(value, str) else value


def _swap(values: Any) -> Any:
    if not isinstance(values, dict):
        return values
    return {k: _naive(_real(k, v)) for k, v in values.items()}


def _naive(value: Any) -> Any:
    """Now and then a date and time without its offset, as a careless client sends it (the schema's
    format never does): a bare local time names no moment and must be refused, not crash."""
    match = AWARE.match(value) if isinstance(value, str) else None
    if match and rnd.random() < NAIVE_TIMES:
        return match.group(1)
    return value


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Sign the request, put it in the compound, and aim some of its ids at real objects (every phase
    of the run passes here, where generation hooks see only some)."""
    token, _ = create_access_token(DATA["person_id"])
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
    if isinstance(case.path_parameters, dict):
        case.path_parameters = {**_swap(case.path_parameters), "cid": DATA["community_id"]} \
            if "cid" in case.path_parameters else _swap(case.path_parameters)
    case.query = _swap(case.query)
    case.body = _swap(case.body)
    if case.path.endswith("/stream") and _in_range(case.query.get("max_events") if case.query else None):
        # A live stream answers until it has sent max_events, or forever: one is enough here.
        case.query = {**(case.query or {}), "max_events": 1}


def _in_range(value: Any) -> bool:
    if value is None:
        return True
    try:
        return 1 <= int(value) <= 1000
    except (TypeError, ValueError):
        return False
