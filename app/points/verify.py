"""``wugong verify-ledger``: recompute every balance from the ledger's entries, and every honour
board total from the entries that count for it, and report each difference.

The balances and totals are caches the services keep in step with each entry; the entries are the
record (append-only, app/points/guard.py). A difference means something wrote a cache by hand, or
a bug: the report names the community, person, unit (and period) with what the entries say and
what the cache holds. It reads in one snapshot (one transaction), so a server writing meanwhile
cannot make it see a difference that is not there; on SQLite a read transaction, on PostgreSQL
REPEATABLE READ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# The month and year of an entry, in Beijing time, per engine.
_PERIODS = {
    "postgresql": ("to_char(created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')",
                   "to_char(created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY')"),
    "sqlite": ("strftime('%Y-%m', created_at, '+8 hours')", "strftime('%Y', created_at, '+8 hours')"),
}

# Both sides in one sorted pass (a UNION ALL grouped by key), not a join: O(n log n) on either engine,
# where SQLite's FULL JOIN of two unindexed derived tables would compare every row with every row.
_BALANCES = """
SELECT community_id, person_id, unit, sum(entries), sum(stored), count(stored)
FROM (
  SELECT community_id, person_id, unit, amount AS entries, CAST(NULL AS integer) AS stored FROM points_entries
  UNION ALL
  SELECT community_id, person_id, unit, CAST(NULL AS integer), balance FROM points_balances
) sides
GROUP BY community_id, person_id, unit
HAVING coalesce(sum(entries), 0) <> coalesce(sum(stored), 0) OR count(stored) <> 1
"""

_TOTALS = """
WITH gains AS (
  SELECT community_id, person_id, unit, {month} AS month, {year} AS year, amount,
         CASE WHEN kind = 'earned' THEN amount ELSE 0 END AS earned
  FROM points_entries WHERE kind IN ('earned', 'bonus') AND amount > 0
)
SELECT community_id, person_id, unit, period, sum(gained), sum(stored_gained), sum(earned), sum(stored_earned)
FROM (
  SELECT community_id, person_id, unit, month AS period, amount AS gained, earned,
         CAST(NULL AS integer) AS stored_gained, CAST(NULL AS integer) AS stored_earned FROM gains
  UNION ALL
  SELECT community_id, person_id, unit, year, amount, earned, NULL, NULL FROM gains
  UNION ALL
  SELECT community_id, person_id, unit, 'all', amount, earned, NULL, NULL FROM gains
  UNION ALL
  SELECT community_id, person_id, unit, period, CAST(NULL AS integer), CAST(NULL AS integer), gained, earned
    FROM points_totals
) sides
GROUP BY community_id, person_id, unit, period
HAVING coalesce(sum(gained), 0) <> coalesce(sum(stored_gained), 0)
    OR coalesce(sum(earned), 0) <> coalesce(sum(stored_earned), 0)
"""


@dataclass
class Report:
    entries: int = 0
    balances: int = 0
    differences: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences

    def lines(self) -> list[str]:
        out = [f"{self.entries} entries, {self.balances} balances checked"]
        for d in self.differences:
            if d["what"] == "balance":
                out.append(f"DIFFERENCE balance community={d['community_id']} person={d['person_id']} "
                           f"unit={d['unit']}: entries say {d['entries']}, balance holds {d['stored']}")
            else:
                out.append(f"DIFFERENCE total community={d['community_id']} person={d['person_id']} unit={d['unit']} "
                           f"period={d['period']}: entries say {d['entries']}, total holds {d['stored']}")
        out.append("ledger OK" if self.ok else f"{len(self.differences)} difference(s)")
        return out


async def verify(engine: AsyncEngine) -> Report:
    report = Report()
    dialect = engine.dialect.name
    month, year = _PERIODS.get(dialect, _PERIODS["postgresql"])
    balances_sql, totals_sql = _BALANCES, _TOTALS.format(month=month, year=year)
    async with engine.connect() as conn:
        if dialect == "postgresql":
            await conn.execution_options(isolation_level="REPEATABLE READ")
        else:
            await conn.execution_options(sqlite_deferred=True)
        async with conn.begin():
            report.entries = int((await conn.execute(text("SELECT count(*) FROM points_entries"))).scalar_one())
            report.balances = int((await conn.execute(text("SELECT count(*) FROM points_balances"))).scalar_one())
            for c, p, u, total, stored, rows in (await conn.execute(text(balances_sql))).all():
                report.differences.append({"what": "balance", "community_id": c, "person_id": p, "unit": u,
                                           "entries": int(total or 0), "stored": stored if rows else None})
            for c, p, u, period, gained, stored, earned, stored_earned in (await conn.execute(text(totals_sql))).all():
                report.differences.append({"what": "total", "community_id": c, "person_id": p, "unit": u,
                                           "period": period, "entries": f"{gained or 0}/{earned or 0}",
                                           "stored": f"{stored}/{stored_earned}"})
    return report

