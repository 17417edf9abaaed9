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

from sqlalchemy import update
from typer.testing import CliRunner

from app.cli import cli as wugong
from app.polls.models import PollBallot
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
    # one ballot's choice changed from no to yes: its hash no longer matches
    tampered = json.loads(json.dumps(download))
    entry = next(x for x in tampered["entries"] if x["choices"] == ["no"])
    entry["choices"] = ["yes"]
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(tampered, ensure_ascii=False), encoding="utf-8")
    failed = CliRunner().invoke(wugong, ["verify-poll", str(bad)])
    assert failed.exit_code == 1 and "✗" in failed.output
    # a ballot dropped from the download
    dropped = json.loads(json.dumps(download))
    dropped["entries"].pop()
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
    await session.execute(update(PollBallot).where(PollBallot.poll_id == poll["id"], PollBallot.seq == 4)
                          .values(choices=["no"]))
    await session.commit()
    tampered = await asyncio.to_thread(run_cli, "verify-poll", poll["id"])
    assert tampered.returncode == 1, tampered.stdout + tampered.stderr
    assert "✗" in tampered.stdout
    missing = await asyncio.to_thread(run_cli, "verify-poll", "0" * 26)
    assert missing.returncode != 0 and "no poll" in (missing.stdout + missing.stderr)
