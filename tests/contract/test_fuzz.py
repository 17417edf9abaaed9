"""Schema fuzzing: schemathesis over the whole OpenAPI document, as a resident and as a committee
member of the demo compound, a bounded number of cases per operation. No answer may be a 5xx, and
every answer must be one the document declares (status, media type, schema, headers).

schemathesis runs as its own command (``st run``) against the demo server in a subprocess; the
hooks in fuzz_hooks.py sign its requests and aim its ids at real objects. The run is repeatable
(a fixed seed); WUGONG_FUZZ_EXAMPLES and WUGONG_FUZZ_SEED make a deeper or a different one, e.g.
``WUGONG_FUZZ_EXAMPLES=200 WUGONG_FUZZ_SEED=7 .venv/bin/python -m pytest tests/contract/test_fuzz.py``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path

import pytest

from app.issues import flows as issue_flows
from app.tasks import flows as task_flows
from tests.contract.conftest import ROOT, DemoServer, ids_by_kind

EXAMPLES = int(os.environ.get("WUGONG_FUZZ_EXAMPLES", "10"))  # per operation, in each phase
SEED = os.environ.get("WUGONG_FUZZ_SEED", "20261204")
# Not the checks that send requests without a token or with invalid data: the hooks sign every
# request and swap in real ids, so those would judge what the hooks made (test_authorization.py
# covers the tokens).
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "response_headers_conformance")


@pytest.mark.parametrize("who", ["resident", "committee"])
async def test_fuzzed_requests_get_declared_answers_and_no_server_error(demo_server: DemoServer, who: str,
                                                                         tmp_path: Path) -> None:
    data = tmp_path / "fuzz.json"
    actions = {*issue_flows.TRANSITIONS, *task_flows.TASK_ACTIONS, *task_flows.CLAIM_ACTIONS}
    values = {**await ids_by_kind(demo_server), "action": sorted(actions)}
    data.write_text(json.dumps({"community_id": demo_server.community_id, "person_id": demo_server.people[who],
                                "ids": values, "seed": SEED}))
    command = [
        str(Path(sys.executable).parent / "st"), "run", f"{demo_server.url}/openapi.json",
        "--checks", ",".join(CHECKS), "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(EXAMPLES), "--seed", SEED, "--workers", "1", "--no-shrink",
        "--suppress-health-check", "all", "--warnings", "off", "--request-timeout", "30",
        "-H", "Accept-Language: en",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.contract.fuzz_hooks", "PYTHONPATH": str(ROOT),
           "WUGONG_FUZZ_DATA": str(data), "NO_COLOR": "1"}
    process = await asyncio.create_subprocess_exec(*command, cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.STDOUT)
    out = (await process.communicate())[0].decode(errors="replace")
    cases = re.search(r"(\d+) generated", out)
    print(f"\nfuzzed as {who}: {cases.group(1) if cases else '?'} cases")
    if process.returncode != 0:
        pytest.fail(f"{out}\n--- the server's log of its errors ---\n{demo_server.server_errors()}", pytrace=False)
