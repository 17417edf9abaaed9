"""Idempotency records: whose they are stays unreadable, and a request that lost its key to a retry
writes nothing. (The replay rules are in test_platform.py; killed servers in test_idempotency_crash.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select, update

from app.communities.models import Grid
from app.core import clock, db, idempotency
from app.core.models import IdempotencyRecord
from tests import factories as f


async def test_a_copy_of_the_records_cannot_tell_whose_they_are(client, session):
    c = await f.community(session)
    ann, bob = await f.member(session, c, "committee", name="安"), await f.member(session, c, "committee", name="波")
    url = f"/api/v1/communities/{c.id}/grids"
    for who, name in ((ann, "东区"), (bob, "西区"), (ann, "南区")):
        key = "grid-1" if name != "南区" else "grid-2"
        r = await client.post(url, json={"name": name}, headers={**f.auth(who), "Idempotency-Key": key})
        assert r.status_code == 201, r.text
    async with db.get_engine().connect() as conn:
        columns = await conn.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("idempotency_records")})
    assert "principal" not in columns
    rows = (await session.execute(select(IdempotencyRecord))).scalars().all()
    assert len(rows) == 3  # one key used by two people is two records
    stored = " ".join(f"{r.id} {r.key} {r.fingerprint} {r.headers} {r.content_type} {r.owner}" for r in rows)
    assert ann.id not in stored and bob.id not in stored and "grid-1" not in stored
    assert len({r.key for r in rows}) == 3 and all(len(r.key) == 64 for r in rows)
    assert all(r.owner is None and r.lease_until is None for r in rows)  # answered: no trace of when it ran


async def test_a_request_whose_key_was_taken_over_records_nothing_and_writes_nothing(app, session):
    """A server alive after all, whose lease ran out (a long pause) while a retry took its key over:
    its answer cannot be recorded (the record names its new owner), so its writes are rolled back
    instead of being done twice."""
    c = await f.community(session)
    lookup = idempotency._lookup("p:someone", "k-1")
    first = await idempotency._claim(lookup, "fp", None)
    assert isinstance(first, idempotency._Run)
    # The first request's lease runs out (its process is not renewing it), and a retry comes.
    async with db.get_engine().begin() as conn:
        await conn.execute(update(IdempotencyRecord).where(IdempotencyRecord.id == first.id)
                           .values(lease_until=clock.now() - timedelta(seconds=1)))
    taker = await idempotency._claim(lookup, "fp", None)
    assert isinstance(taker, idempotency._Run) and taker.id == first.id and taker.owner != first.owner

    late = db.sessionmaker()()
    late.add(Grid(community_id=c.id, name="东区"))
    await late.flush()
    first.adopt(late)
    with pytest.raises(idempotency._Superseded):
        await first.settle(201, [(b"content-type", b"application/json")], b'{"id": "x"}', "k-1")
    assert first.superseded and not first.done
    assert (await session.execute(select(func.count()).select_from(Grid))).scalar() == 0

    mine = db.sessionmaker()()
    mine.add(Grid(community_id=c.id, name="东区"))
    await mine.flush()
    taker.adopt(mine)
    await taker.settle(201, [(b"content-type", b"application/json")], b'{"id": "y"}', "k-1")
    assert taker.recorded
    await session.commit()  # a fresh snapshot
    assert (await session.execute(select(func.count()).select_from(Grid))).scalar() == 1
    rec = (await session.execute(select(IdempotencyRecord))).scalar_one()
    assert rec.status_code == 201 and idempotency._open("k-1", rec.body) == b'{"id": "y"}'


async def test_a_running_key_is_not_taken_over_while_its_lease_holds(app, session):
    lookup = idempotency._lookup("p:someone", "k-2")
    first = await idempotency._claim(lookup, "fp", None)
    assert isinstance(first, idempotency._Run)
    again = await idempotency._claim(lookup, "fp", None)
    assert isinstance(again, IdempotencyRecord) and again.status_code is None and again.owner == first.owner
