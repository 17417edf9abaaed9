"""``wugong verify-poll``: exit 0 when a download (or a poll in the database) recomputes to what
was published, exit 1 when anything was tampered with."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from typer.testing import CliRunner

from app.cli import cli as wugong
from app.polls.models import PollBoxBallot
from tests import factories as f
from tests.polls import support as s

ROOT = Path(__file__).resolve().parents[2]


async def closed_poll(client: Any, session: Any) -> tuple[s.Estate, dict[str, Any], dict[str, Any]]:
    e = await s.estate(session, areas=["90.00", "90.00", "90.00", "30.00"])
    poll = await s.opened(client, e.c, e.committee, kind="proposal", electorate="owners", options=[],
                          matter="raise_fund")
    first = await s.vote(client, e.c, e.owners[0], poll["id"], choices=["no"])
    await s.vote(client, e.c, e.owners[0], poll["id"], choices=["yes"], receipt=first["receipt"])
    for owner, choice in zip(e.owners[1:], ("yes", "yes", "no"), strict=True):
        await s.vote(client, e.c, owner, poll["id"], choices=[choice])
    await s.close(client, e.c, e.committee, poll["id"])
    download = (await client.get(s.url(e.c, poll["id"], "/chain"), headers=f.auth(e.owners[1]))).json()
    return e, poll, download


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """As an operator runs it, against the test database."""
    env = {**os.environ, "WUGONG_DATABASE_URL": os.environ["WUGONG_DATABASE_URL"]}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=False)


async def test_verify_poll_on_a_download_file(client: Any, session: Any, tmp_path: Path) -> None:
    _, _, download = await closed_poll(client, session)
    good = tmp_path / "chain.json"
    good.write_text(json.dumps(download, ensure_ascii=False), encoding="utf-8")
    ok = CliRunner().invoke(wugong, ["verify-poll", str(good)])
    assert ok.exit_code == 0, ok.output
    assert "✗" not in ok.output and "recount matches" in ok.output
    # one ballot in the box changed from no to yes: the recount no longer matches
    tampered = json.loads(json.dumps(download))
    ballot = next(x for x in tampered["ballots"] if x["choices"] == ["no"])
    ballot["choices"] = ["yes"]
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(tampered, ensure_ascii=False), encoding="utf-8")
    failed = CliRunner().invoke(wugong, ["verify-poll", str(bad)])
    assert failed.exit_code == 1 and "✗" in failed.output
    # one chain entry's commitment changed: its hash no longer matches
    tampered = json.loads(json.dumps(download))
    tampered["entries"][2]["commitment"] = tampered["entries"][3]["commitment"]
    bad.write_text(json.dumps(tampered), encoding="utf-8")
    failed = CliRunner().invoke(wugong, ["verify-poll", str(bad)])
    assert failed.exit_code == 1 and "tampered" in failed.output
    # a ballot dropped from the chain, or from the box
    for part in ("entries", "ballots"):
        dropped = json.loads(json.dumps(download))
        dropped[part].pop()
        bad.write_text(json.dumps(dropped), encoding="utf-8")
        assert CliRunner().invoke(wugong, ["verify-poll", str(bad)]).exit_code == 1
    # a published result that was edited
    edited = json.loads(json.dumps(download))
    edited["result"]["yes"] = 4
    bad.write_text(json.dumps(edited), encoding="utf-8")
    out = CliRunner().invoke(wugong, ["verify-poll", str(bad)])
    assert out.exit_code == 1 and "'yes'" in out.output
    # the electorate inflated after the fact
    inflated = json.loads(json.dumps(download))
    inflated["poll"]["electorate"]["area"] = "400.00"
    bad.write_text(json.dumps(inflated), encoding="utf-8")
    assert CliRunner().invoke(wugong, ["verify-poll", str(bad)]).exit_code == 1


async def test_verify_poll_by_id_against_the_database(client: Any, session: Any) -> None:
    _, poll, _ = await closed_poll(client, session)
    ok = await asyncio.to_thread(run_cli, "verify-poll", poll["id"])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "recount matches" in ok.stdout
    box = (await session.execute(select(PollBoxBallot).where(PollBoxBallot.poll_id == poll["id"]))).scalars().all()
    yes = next(b for b in box if b.choices == ["yes"])
    await session.execute(update(PollBoxBallot).where(PollBoxBallot.id == yes.id).values(choices=["no"]))
    await session.commit()
    tampered = await asyncio.to_thread(run_cli, "verify-poll", poll["id"])
    assert tampered.returncode == 1, tampered.stdout + tampered.stderr
    assert "✗" in tampered.stdout
    missing = await asyncio.to_thread(run_cli, "verify-poll", "0" * 26)
    assert missing.returncode != 0 and "no poll" in (missing.stdout + missing.stderr)


async def test_verify_poll_by_url_reads_a_closed_polls_public_chain(client: Any, session: Any,
                                                                    live_server: str) -> None:
    e, poll, _ = await closed_poll(client, session)
    public = f"{live_server}/api/v1/polls/{poll['id']}/chain"
    ok = await asyncio.to_thread(CliRunner().invoke, wugong, ["verify-poll", public])
    assert ok.exit_code == 0, ok.output
    assert "recount matches" in ok.output and "ballot box holds one ballot" in ok.output
    # an open poll's chain is not public: the command says why, and how to read it
    still_open = await s.opened(client, e.c, e.committee, title="另一项表决")
    closed_only = f"{live_server}/api/v1/polls/{still_open['id']}/chain"
    refused = await asyncio.to_thread(CliRunner().invoke, wugong, ["verify-poll", closed_only])
    assert refused.exit_code == 1 and "answered 404" in refused.output and "--token" in refused.output
    members = f"{live_server}{s.url(e.c, still_open['id'], '/chain')}"
    token = f.auth(e.owners[0])["Authorization"].split()[1]
    member = await asyncio.to_thread(CliRunner().invoke, wugong, ["verify-poll", members, "--token", token])
    assert member.exit_code == 0 and "still open" in member.output, member.output
    r = await client.get(f"/api/v1/polls/{still_open['id']}/chain")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
