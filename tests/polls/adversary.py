"""Someone trying to learn who voted what in a secret poll, from a copy of the database or from the
API. Each attack guesses, for some electors, the option they chose; the tests check the guesses
against what the test's voters really chose.

The attacks are the ones that worked before ballots were sealed (issue #10): a row that carries a
choice and a value naming someone; the rows one transaction wrote (PostgreSQL ``xmin``; SQLite,
the WAL replayed commit by commit); and orders (``xmin``, ``ctid``, ``rowid``, a sequence number,
the audit log's and the idempotency records' order) laid side by side. With the server's secret
key, the attacker also tries to open anything sealed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import struct
import subprocess
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core import db
from app.models import Base
from app.polls import secrecy

Row = dict[str, Any]
Tables = dict[str, list[Row]]


@dataclass
class Copy:
    """Every table of the database as rows, with the engine's system columns (``_xmin``/``_ctid``
    on PostgreSQL, ``_rowid`` on SQLite), and on SQLite every committed state its WAL still holds."""

    engine: str
    tables: Tables
    wal_states: list[Tables] = field(default_factory=list)
    raw_pages: list[bytes] = field(default_factory=list)  # PostgreSQL: the key table's pages as stored


def _decoded(value: Any) -> Any:
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _read_sqlite(path: Path) -> Tables:
    conn = sqlite3.connect(path)
    try:
        out: Tables = {}
        for table in Base.metadata.tables:
            cur = conn.execute(f'SELECT rowid AS _rowid, * FROM "{table}"')
            names = [d[0] for d in cur.description]
            out[table] = [{k: _decoded(v) for k, v in zip(names, r, strict=True)} for r in cur.fetchall()]
        return out
    finally:
        conn.close()


def _wal_states(db_bytes: bytes, wal: bytes, work: Path) -> list[Tables]:
    """Each committed state the WAL holds, oldest first: the database file with the WAL's frames
    applied one commit at a time."""
    if len(wal) < 32:
        return []
    page_size, _, salt1, salt2 = struct.unpack(">IIII", wal[8:24])
    frame = 24 + page_size
    image = work / "replayed.db"
    image.write_bytes(db_bytes)
    states: list[Tables] = []
    offset = 32
    with image.open("r+b") as out:
        while offset + frame <= len(wal):
            pgno, commit_size, s1, s2 = struct.unpack(">IIII", wal[offset:offset + 16])
            if (s1, s2) != (salt1, salt2):
                break  # frames of an older generation of the WAL
            out.seek((pgno - 1) * page_size)
            out.write(wal[offset + 24:offset + frame])
            offset += frame
            if commit_size:
                out.truncate(commit_size * page_size)
                out.flush()
                # Frames a checkpoint already copied into the file are older than the file: a state
                # mixing them does not read; the attacker moves on to the next commit.
                with contextlib.suppress(sqlite3.DatabaseError):
                    states.append(_read_sqlite(image))
    return states


def _sqlite_copy(path: Path, work: Path) -> Copy:
    # Copied by another process: opening and closing the database file in this one would drop the
    # POSIX locks the app's SQLite connections hold on it.
    work.mkdir(parents=True, exist_ok=True)
    snapshot = work / "copy.db"
    subprocess.run(["cp", str(path), str(snapshot)], check=True)
    if Path(f"{path}-wal").exists():
        subprocess.run(["cp", f"{path}-wal", f"{snapshot}-wal"], check=True)
    db_bytes = snapshot.read_bytes()
    wal_path = Path(f"{snapshot}-wal")
    wal = wal_path.read_bytes() if wal_path.exists() else b""
    return Copy("sqlite", _read_sqlite(snapshot), _wal_states(db_bytes, wal, work))


async def take_copy(work: Path, engine: AsyncEngine | None = None) -> Copy:
    """A full copy of the database as it is now, as someone with the files (or superuser) has it:
    the app's database, or the one ``engine`` reaches."""
    engine = engine or db.get_engine()
    if engine.dialect.name == "sqlite":
        return await asyncio.to_thread(_sqlite_copy, Path(str(engine.url.database)), work)
    tables: Tables = {}
    pages: list[bytes] = []
    async with engine.connect() as conn:
        for table in Base.metadata.tables:
            if (await conn.execute(text("SELECT to_regclass(:t)"), {"t": table})).scalar_one() is None:
                continue
            rows = await conn.execute(
                text(f'SELECT xmin::text::bigint AS _xmin, ctid::text AS _ctid, * FROM "{table}"'))
            tables[table] = [{k: _decoded(v) for k, v in r._mapping.items()} for r in rows]
        await conn.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        blocks = (await conn.execute(text("SELECT coalesce(pg_relation_size(to_regclass('poll_keys')), 0) / 8192"))
                  ).scalar_one()
        for block in range(int(blocks)):
            pages.append(bytes((await conn.execute(text("SELECT get_raw_page('poll_keys', :b)"), {"b": block}))
                               .scalar_one()))
        await conn.commit()
    return Copy("postgresql", tables, [], pages)


# --- what the attacker looks for ------------------------------------------------------------------

def _choice(value: Any, options: set[str]) -> str | None:
    if isinstance(value, list) and value and all(isinstance(x, str) and x in options for x in value):
        return str(value[0])
    return None


def choice_rows(tables: Tables, options: set[str]) -> dict[str, list[tuple[int, str]]]:
    """Rows that hold a ballot's choice in the clear, by table: (row index, the first option
    chosen). A table counts only if several rows do (one row holding the options is a result)."""
    out: dict[str, list[tuple[int, str]]] = {}
    for table, rows in tables.items():
        found = []
        for i, row in enumerate(rows):
            chosen = [c for v in row.values() if (c := _choice(v, options))]
            if len(chosen) == 1:
                found.append((i, chosen[0]))
        if len(found) >= 2:
            out[table] = found
    return out


@dataclass
class Truth:
    """What the test's voters really chose: elector id → the first option of their counted ballot."""

    chosen: dict[str, str]
    person_of: dict[str, str]  # elector id → person id

    def accuracy(self, guesses: dict[str, str]) -> float:
        judged = [e for e in guesses if e in self.chosen]
        return sum(guesses[e] == self.chosen[e] for e in judged) / len(judged) if judged else 0.0


def _voted(row: Row) -> bool:
    return bool(row.get("voted")) and row.get("poll_id") is not None


# --- attacks: exact links -------------------------------------------------------------------------

def linked_by_value(tables: Tables, options: set[str], electors: set[str]) -> dict[str, str]:
    """A choice row reaches exactly one elector through values that only two rows share (an id, a
    hash), in a few hops: that elector chose it."""
    where: dict[Any, set[tuple[str, int]]] = defaultdict(set)
    for table, rows in tables.items():
        for i, row in enumerate(rows):
            for k, v in row.items():
                if isinstance(v, str) and len(v) >= 12 and not k.startswith("_"):
                    where[v].add((table, i))
    links = {v: rows for v, rows in where.items() if len(rows) == 2}
    by_row: dict[tuple[str, int], list[tuple[str, int]]] = defaultdict(list)
    for pair in links.values():
        a, b = sorted(pair)
        by_row[a].append(b)
        by_row[b].append(a)
    guesses: dict[str, str] = {}
    for table, found in choice_rows(tables, options).items():
        for i, chosen in found:
            seen = {(table, i)}
            queue = deque([((table, i), 0)])
            reached = set()
            while queue:
                node, depth = queue.popleft()
                row = tables[node[0]][node[1]]
                if node[0] == "poll_electors" and row.get("id") in electors:
                    reached.add(row["id"])
                if depth < 4:
                    for nxt in by_row[node]:
                        if nxt not in seen:
                            seen.add(nxt)
                            queue.append((nxt, depth + 1))
            if len(reached) == 1:
                guesses[reached.pop()] = chosen
    return guesses


def _paired(voters: list[str], chosen: list[str]) -> dict[str, str]:
    return dict(zip(voters, chosen, strict=False)) if len(voters) == len(chosen) else (
        {voters[0]: Counter(chosen).most_common(1)[0][0]} if len(voters) == 1 and chosen else {})


def _acted(state: Tables, electors: set[str]) -> dict[str, tuple[Any, Any]]:
    return {r["id"]: (r.get("voted"), r.get("changes")) for r in state.get("poll_electors", [])
            if _voted(r) and r["id"] in electors}


def _stored_choices(state: Tables, options: set[str]) -> set[tuple[str, Any, str]]:
    return {(t, state[t][i].get("_rowid"), c) for t, found in choice_rows(state, options).items() for i, c in found}


def linked_by_transaction(copy: Copy, options: set[str], electors: set[str]) -> dict[str, str]:
    """Rows one transaction wrote: the electors it marked as voted (or changed) and the choices it
    stored. SQLite: what changed from one commit of the WAL to the next; PostgreSQL: equal ``xmin``."""
    guesses: dict[str, str] = {}
    if copy.engine == "sqlite":
        acted_before: dict[str, tuple[Any, Any]] = {}
        stored_before: set[tuple[str, Any, str]] = set()
        for state in copy.wal_states:
            acted, stored = _acted(state, electors), _stored_choices(state, options)
            voters = sorted(e for e, s in acted.items() if acted_before.get(e) != s)
            new = sorted(stored - stored_before, key=lambda x: (x[0], x[1]))
            if voters and new:
                guesses |= _paired(voters, [c for _, _, c in new])
            acted_before, stored_before = acted, stored
        return guesses
    groups: dict[Any, tuple[list[Row], list[tuple[str, str]]]] = defaultdict(lambda: ([], []))
    for r in copy.tables.get("poll_electors", []):
        if _voted(r) and r["id"] in electors:
            groups[r["_xmin"]][0].append(r)
    for table, found in choice_rows(copy.tables, options).items():
        for i, chosen in found:
            row = copy.tables[table][i]
            groups[row["_xmin"]][1].append((row["_ctid"], chosen))
    for voters, chosen in groups.values():
        if voters and chosen:
            guesses |= _paired([v["id"] for v in sorted(voters, key=lambda v: v["_ctid"])],
                               [c for _, c in sorted(chosen)])
    return guesses


# --- attacks: orders ------------------------------------------------------------------------------

def _order_key(row: Row) -> Any:
    if "_ctid" in row:
        block, item = row["_ctid"].strip("()").split(",")
        return (int(block), int(item))
    return row["_rowid"]


def voter_orders(copy: Copy, electors: set[str], person_electors: dict[str, str]) -> dict[str, list[str]]:
    """Orders in which the electors voted, as the copy gives them away."""
    orders: dict[str, list[str]] = {}
    rows = [r for r in copy.tables.get("poll_electors", []) if _voted(r) and r["id"] in electors]
    if rows and "_xmin" in rows[0]:
        orders["electors by xmin"] = [r["id"] for r in sorted(rows, key=lambda r: r["_xmin"])]
    if copy.wal_states:
        first_seen: dict[str, int] = {}
        for k, state in enumerate(copy.wal_states):
            for r in state.get("poll_electors", []):
                if _voted(r) and r["id"] in electors:
                    first_seen.setdefault(r["id"], k)
        orders["electors by WAL commit"] = sorted(first_seen, key=lambda e: first_seen[e])
    entered = [r for r in rows if r.get("entered_at")]
    orders["paper electors by entry time"] = [r["id"] for r in sorted(entered, key=lambda r: str(r["entered_at"]))]
    audit = [r for r in copy.tables.get("audit_log", []) if r.get("object_id") in electors]
    orders["audit rows"] = [r["object_id"] for r in sorted(audit, key=_order_key)]
    records = copy.tables.get("idempotency_records", [])
    people = [str(r.get("principal", ""))[2:] for r in sorted(records, key=_order_key)]
    orders["idempotency records"] = [person_electors[p] for p in people if p in person_electors]
    return {name: order for name, order in orders.items() if order}


def choice_orders(copy: Copy, options: set[str]) -> dict[str, list[str]]:
    """Orders of the stored choices: as written, and by any sequence number they carry."""
    orders: dict[str, list[str]] = {}
    for table, found in choice_rows(copy.tables, options).items():
        rows = copy.tables[table]
        orders[f"{table} as stored"] = [c for i, c in sorted(found, key=lambda x: _order_key(rows[x[0]]))]
        if "seq" in rows[0]:
            orders[f"{table} by seq"] = [c for i, c in sorted(found, key=lambda x: rows[x[0]]["seq"])]
        if "id" in rows[0]:
            orders[f"{table} by id"] = [c for i, c in sorted(found, key=lambda x: str(rows[x[0]]["id"]))]
    return orders


def best_order_attack(voters: dict[str, list[str]], choices: dict[str, list[str]], truth: Truth,
                      min_pairs: int) -> tuple[float, str]:
    """Each voter order laid beside each choice order (and reversed): the best accuracy over at
    least ``min_pairs`` pairs, and which pairing gave it."""
    best = (0.0, "none")
    for vname, v in voters.items():
        for cname, c in choices.items():
            for label, cc in ((cname, c), (f"{cname} reversed", c[::-1])):
                n = min(len(v), len(cc))
                if n >= min_pairs:
                    acc = truth.accuracy(dict(zip(v[:n], cc[:n], strict=True)))
                    best = max(best, (acc, f"{vname} ~ {label}"))
    return best


# --- with the server's secret key -----------------------------------------------------------------

def _bytes_in(tables: Tables) -> list[bytes]:
    return [v for rows in tables.values() for r in rows for v in r.values() if isinstance(v, bytes)]


def opened_with_secret_key(copy: Copy, secret_key: str, poll_id: str) -> int:
    """How many sealed ballots the copy lets one open, given the server's secret key: find the
    poll's sealed key anywhere (tables, WAL states, raw pages), then open every sealed value."""
    sources = [copy.tables, *copy.wal_states]
    keys: set[bytes] = set()
    blobs = [b for t in sources for b in _bytes_in(t)]
    for page in copy.raw_pages:
        blobs += [page[i:i + 60] for i in range(len(page) - 59)]
    for blob in blobs:
        if len(blob) == 60:
            with contextlib.suppress(secrecy.SealBroken):
                keys.add(secrecy.open_poll_key(secret_key, poll_id, blob))
    opened = 0
    for tables in sources:
        for rows in tables.values():
            for r in rows:
                sealed, digest = r.get("sealed"), r.get("commitment")
                if isinstance(sealed, bytes) and digest:
                    for key in keys:
                        try:
                            secrecy.open_ballot(key, poll_id, digest, sealed)
                            opened += 1
                        except secrecy.SealBroken:
                            pass
    return opened
