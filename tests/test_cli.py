"""The ``wugong`` command on a SQLite data directory of its own (never the test database).

Migrating, loading the demo and a hidden password prompt run as an operator runs them, in a
subprocess; the other cases run in-process (typer's CliRunner) to stay quick. The last test
loads the demo on the test database itself (SQLite or PostgreSQL).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner, Result

from app import demo
from app.accounts.models import Person
from app.cli import cli as wugong
from app.communities.models import Building, Community, Household, JoinRequest, Membership, RosterEntry
from app.core.config import get_settings
from app.issues.models import Issue

ROOT = Path(__file__).resolve().parent.parent


class Cli:
    """Runs ``wugong`` with a data directory of its own (never the test database)."""

    def __init__(self, data_dir: Path) -> None:
        self.db = data_dir / "wugong.db"
        self.env = {**os.environ, "WUGONG_DATA_DIR": str(data_dir),
                    "WUGONG_DATABASE_URL": f"sqlite+aiosqlite:///{self.db}", "WUGONG_SMS_BACKEND": "console"}

    def __call__(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        # A new session has no terminal, so a hidden prompt reads the answer from stdin.
        return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=self.env, input=input,
                              capture_output=True, text=True, timeout=60, check=False,
                              start_new_session=True)

    def invoke(self, *args: str) -> Result:
        """In-process, with the settings pointed at this data directory for the call."""
        saved = {k: os.environ.get(k) for k in ("WUGONG_DATA_DIR", "WUGONG_DATABASE_URL")}
        os.environ.update({k: self.env[k] for k in saved})
        get_settings.cache_clear()
        try:
            return CliRunner().invoke(wugong, list(args))
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            get_settings.cache_clear()

    def query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db) as conn:
            return conn.execute(sql, params).fetchall()

    def one(self, sql: str, *params: object) -> Any:
        return self.query(sql, *params)[0][0]


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    """A data directory migrated and loaded with the demo once for the whole module."""
    runner = Cli(tmp_path_factory.mktemp("cli") / "data")
    migrated = runner("migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "up to date" in migrated.stdout
    loaded = runner("demo")
    assert loaded.returncode == 0, loaded.stderr
    runner.demo_output = loaded.stdout  # type: ignore[attr-defined]
    yield runner


def test_demo_loads_a_street_with_a_compound_and_a_village(cli: Cli) -> None:
    assert sorted(r[0] for r in cli.query("SELECT name FROM regions")) == ["武汉市", "洪山区", "花山街道"]
    assert dict(cli.query("SELECT name, kind FROM communities")) == {"幸福里社区": "community", "李家墩村": "village"}
    assert dict(cli.query("SELECT kind, count(*) FROM buildings GROUP BY kind")) == {"building": 12, "village_group": 4}
    compound = cli.one("SELECT id FROM communities WHERE name = '幸福里社区'")
    assert cli.one("SELECT count(*) FROM grids WHERE community_id = ?", compound) == 3
    assert cli.one("SELECT count(*) FROM households WHERE community_id = ?", compound) >= 290
    assert cli.one("SELECT count(*) FROM households") >= 350
    assert cli.one("SELECT count(*) FROM households WHERE owner_area_m2 IS NULL") == 0
    assert cli.one("SELECT count(*) FROM roster_entries WHERE is_owner") >= 250
    assert cli.one("SELECT count(*) FROM join_requests WHERE status = 'pending'") == 3
    assert cli.one("SELECT count(*) FROM invites") == 2
    phones = {r[0] for r in cli.query("SELECT phone FROM people")}
    assert {a.phone for a in demo.ACCOUNTS} <= phones
    # The accounts table tells how to sign in.
    out: str = cli.demo_output  # type: ignore[attr-defined]
    assert "13800000001" in out and "committee" in out and "wugong-demo" in out
    assert "SMS to <phone>: code <code>" in out
    assert f"/c/{compound}/issues" in out


def test_demo_has_a_living_issue_list(cli: Cli) -> None:
    compound = cli.one("SELECT id FROM communities WHERE name = '幸福里社区'")
    village = cli.one("SELECT id FROM communities WHERE name = '李家墩村'")
    states = dict(cli.query("SELECT status, count(*) FROM issues WHERE community_id = ? GROUP BY status", compound))
    assert set(states) == {"reported", "accepted", "dispatched", "in_progress", "resolved", "closed", "reopened",
                           "rejected", "merged"}
    assert 20 <= sum(states.values()) <= 30
    assert 2 <= cli.one("SELECT count(*) FROM issues WHERE community_id = ?", village) <= 4
    # One overdue and escalated to the street; one dispute only staff see.
    assert cli.query("SELECT status, deadline_at IS NOT NULL FROM issues WHERE escalated_at IS NOT NULL") == [
        ("dispatched", 1)]
    assert cli.query("SELECT c.name FROM issues i JOIN issue_categories c ON c.id = i.category_id "
                     "WHERE i.staff_only") == [("邻里纠纷",)]
    # The owner has resolved issues to verify; the map has points; buildings give grids.
    assert cli.one("SELECT count(*) FROM issues i JOIN people p ON p.id = i.reporter_id "
                   "WHERE i.status = 'resolved' AND p.phone = ?", demo.OWNER.phone) >= 1
    assert cli.one("SELECT count(*) FROM issues WHERE lat IS NOT NULL AND community_id = ?", compound) >= 10
    assert cli.one("SELECT count(*) FROM issues WHERE building_id IS NOT NULL AND grid_id IS NULL") == 0
    assert cli.one("SELECT max(supports_count) FROM issues") >= 5
    assert cli.one("SELECT count(*) FROM issue_comments") >= 5
    assert cli.one("SELECT count(*) FROM issue_handler_members m JOIN issue_handlers h ON h.id = m.handler_id "
                   "JOIN people p ON p.id = m.person_id WHERE h.name = '幸福里物业'") == 1


def test_demo_has_decisions_in_every_stage(cli: Cli) -> None:
    states = dict(cli.query("SELECT status, count(*) FROM polls GROUP BY status"))
    assert states == {"open": 3, "notice": 1, "final": 1}
    # Paper ballots were entered with a witness; every poll's counted ballots match its turnout.
    assert cli.one("SELECT count(*) FROM poll_electors WHERE channel = 'paper' AND witness != ''") >= 40
    for poll_id, voted in cli.query("SELECT id, voted_count FROM polls"):
        assert cli.one("SELECT count(*) FROM poll_ballots WHERE poll_id = ? AND NOT superseded", poll_id) == voted
    # The secret polls hold no link from a ballot to its voter; the named one does.
    assert cli.one("SELECT count(*) FROM poll_ballots b JOIN polls p ON p.id = b.poll_id "
                   "WHERE p.secret AND b.elector_id IS NOT NULL") == 0
    assert cli.one("SELECT count(*) FROM poll_ballots b JOIN polls p ON p.id = b.poll_id "
                   "WHERE NOT p.secret AND b.elector_id IS NOT NULL") >= 5
    assert cli.one("SELECT count(*) FROM poll_objections WHERE answer != ''") == 1
    lift = cli.one("SELECT id FROM polls WHERE title LIKE '1栋加装电梯%'")
    checked = cli.invoke("verify-poll", lift)
    assert checked.exit_code == 0, checked.stdout


def test_demo_twice_changes_nothing(cli: Cli) -> None:
    people = cli.one("SELECT count(*) FROM people")
    again = cli.invoke("demo")
    assert again.exit_code == 0, again.output
    assert "already loaded" in again.stdout
    assert cli.one("SELECT count(*) FROM people") == people
    assert cli.one("SELECT count(*) FROM communities") == 2


def test_create_admin_with_a_password_asked_for(cli: Cli) -> None:
    made = cli("create-admin", "13700000001", "--name", "运维小王", "--username", "ops",
               input="s3cret-pass\ns3cret-pass\n")
    assert made.returncode == 0, made.stderr
    assert cli.query("SELECT name, username, is_platform_admin, password_hash IS NOT NULL FROM people "
                     "WHERE phone = '13700000001'") == [("运维小王", "ops", 1, 1)]


def test_create_admin_refuses_a_taken_username_and_a_bad_phone(cli: Cli) -> None:
    taken = cli.invoke("create-admin", "13700000002", "--username", "admin", "--password", "another-pass")
    assert taken.exit_code == 1
    assert "belongs to someone else" in taken.stderr
    bad = cli.invoke("create-admin", "12345")
    assert bad.exit_code == 2
    assert "not a mainland mobile number" in bad.stderr
    short = cli.invoke("create-admin", "13700000003", "--username", "ops3", "--password", "short")
    assert short.exit_code == 1
    assert cli.one("SELECT count(*) FROM people WHERE phone IN ('13700000002', '12345', '13700000003')") == 0

    promoted = cli.invoke("create-admin", demo.RESIDENT.phone)
    assert promoted.exit_code == 0, promoted.output
    assert cli.one("SELECT is_platform_admin FROM people WHERE phone = ?", demo.RESIDENT.phone) == 1


ROSTER_HEADER = "姓名,手机号,村民小组,房号,面积,业主\n"


def test_import_roster(cli: Cli, tmp_path: Path) -> None:
    village = cli.one("SELECT id FROM communities WHERE name = '李家墩村'")
    good = tmp_path / "good.csv"
    good.write_text(ROSTER_HEADER + "李春生,13600000001,第五村民小组,1号,186.5,是\n"
                    "王秀兰,13600000002,第五村民小组,1号,,否\n", encoding="utf-8")
    done = cli.invoke("import-roster", str(village), str(good))
    assert done.exit_code == 0, done.output
    assert "2 people" in done.stdout
    group = cli.one("SELECT id FROM buildings WHERE name = '第五村民小组' AND kind = 'village_group'")
    assert cli.one("SELECT count(*) FROM roster_entries r JOIN households h ON h.id = r.household_id "
                   "WHERE h.building_id = ?", group) == 2

    before = cli.one("SELECT count(*) FROM roster_entries")
    bad = tmp_path / "bad.csv"
    bad.write_text(ROSTER_HEADER + "张三,13600000003,第六村民小组,1号,120,是\n"
                   "李四,1360000,第六村民小组,2号,120,是\n"
                   ",13600000005,第六村民小组,3号,abc,是\n", encoding="utf-8")
    refused = cli.invoke("import-roster", str(village), str(bad), "--lang", "en")
    assert refused.exit_code == 1
    assert "nothing was imported" in refused.stderr
    assert "line 3 [phone]" in refused.stderr and "line 4 [name]" in refused.stderr
    assert "line 4 [area]" in refused.stderr and "line 2" not in refused.stderr
    assert cli.one("SELECT count(*) FROM roster_entries") == before
    assert cli.one("SELECT count(*) FROM buildings WHERE name = '第六村民小组'") == 0

    unknown = cli.invoke("import-roster", "no-such-community", str(good))
    assert unknown.exit_code == 1
    assert "No community" in unknown.stderr


async def test_demo_on_the_test_database(session: AsyncSession) -> None:
    result = await demo.load(session)
    await session.commit()
    assert set(result.communities) == {demo.COMPOUND, demo.VILLAGE}

    async def roles(phone: str, community: str) -> list[str]:
        q = (select(Membership.roles).join(Person, Person.id == Membership.person_id)
             .join(Community, Community.id == Membership.community_id)
             .where(Person.phone == phone, Community.name == community))
        return list((await session.execute(q)).scalar_one())

    assert await roles(demo.COMMITTEE.phone, demo.COMPOUND) == ["committee", "resident"]
    assert await roles(demo.VILLAGE_COMMITTEE.phone, demo.VILLAGE) == ["committee", "resident"]
    assert await roles(demo.OWNER.phone, demo.COMPOUND) == ["owner", "resident"]
    assert await roles(demo.BUILDING_LEADER.phone, demo.COMPOUND) == ["building_leader", "owner", "resident"]
    owner_home = (await session.execute(
        select(Household.address).join(Membership, Membership.household_id == Household.id)
        .join(Person, Person.id == Membership.person_id).where(Person.phone == demo.OWNER.phone))).scalar_one()
    assert owner_home == "1栋1单元301"
    grid_worker = (await session.execute(select(Membership.grid_ids).join(Person, Person.id == Membership.person_id)
                                         .where(Person.phone == demo.GRID_WORKER.phone))).scalar_one()
    assert len(grid_worker) == 1
    assert (await session.execute(select(func.count()).select_from(Building))).scalar_one() == 16
    assert result.households == (await session.execute(select(func.count()).select_from(Household))).scalar_one()
    assert (await session.execute(select(func.count()).select_from(RosterEntry))).scalar_one() == result.roster_entries
    assert (await session.execute(select(func.count()).select_from(JoinRequest)
                                  .where(JoinRequest.status == "pending"))).scalar_one() == 3

    assert result.issues[demo.COMPOUND] >= 20
    escalated = (await session.execute(select(func.count()).select_from(Issue)
                                       .where(Issue.escalated_at.is_not(None)))).scalar_one()
    assert escalated == 1

    again = await demo.present(session)
    assert again is not None and again.demo_loaded
    with pytest.raises(demo.DemoPresent):
        await demo.load(session)


def test_commands_on_a_database_without_tables_say_to_migrate(tmp_path: Path) -> None:
    result = Cli(tmp_path / "empty").invoke("create-admin", "13800000000")
    assert result.exit_code == 1
    assert "wugong migrate" in result.stderr
