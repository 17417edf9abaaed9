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

_BALANCES = """
SELECT coalesce(e.community_id, b.community_id), coalesce(e.person_id, b.person_id), coalesce(e.unit, b.unit),
       coalesce(e.total, 0), b.balance
FROM (SELECT community_id, person_id, unit, sum(amount) AS total FROM points_entries
      GROUP BY community_id, person_id, unit) e
FULL OUTER JOIN points_balances b
  ON b.community_id = e.community_id AND b.person_id = e.person_id AND b.unit = e.unit
WHERE b.balance IS NULL OR e.total IS NULL OR b.balance <> e.total
"""

_TOTALS = """
WITH gains AS (
  SELECT community_id, person_id, unit, {month} AS month, {year} AS year, amount,
         CASE WHEN kind = 'earned' THEN amount ELSE 0 END AS earned
  FROM points_entries WHERE kind IN ('earned', 'bonus') AND amount > 0
), expected AS (
  SELECT community_id, person_id, unit, month AS period, sum(amount) AS gained, sum(earned) AS earned
    FROM gains GROUP BY community_id, person_id, unit, month
  UNION ALL
  SELECT community_id, person_id, unit, year, sum(amount), sum(earned) FROM gains
    GROUP BY community_id, person_id, unit, year
  UNION ALL
  SELECT community_id, person_id, unit, 'all', sum(amount), sum(earned) FROM gains
    GROUP BY community_id, person_id, unit
)
SELECT coalesce(x.community_id, t.community_id), coalesce(x.person_id, t.person_id), coalesce(x.unit, t.unit),
       coalesce(x.period, t.period), coalesce(x.gained, 0), t.gained, coalesce(x.earned, 0), t.earned
FROM expected x
FULL OUTER JOIN (SELECT * FROM points_totals WHERE gained <> 0 OR earned <> 0) t
  ON t.community_id = x.community_id AND t.person_id = x.person_id AND t.unit = x.unit AND t.period = x.period
WHERE t.gained IS NULL OR x.gained IS NULL OR t.gained <> x.gained OR t.earned <> x.earned
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
    balances_sql, totals_sql = _BALANCES, _TOTALS.format(month=month, year=year)  # FULL JOIN: SQLite 3.39+
    async with engine.connect() as conn:
        if dialect == "postgresql":
            await conn.execution_options(isolation_level="REPEATABLE READ")
        else:
            await conn.execution_options(sqlite_deferred=True)
        async with conn.begin():
            report.entries = int((await conn.execute(text("SELECT count(*) FROM points_entries"))).scalar_one())
            report.balances = int((await conn.execute(text("SELECT count(*) FROM points_balances"))).scalar_one())
            for c, p, u, total, stored in (await conn.execute(text(balances_sql))).all():
                report.differences.append({"what": "balance", "community_id": c, "person_id": p, "unit": u,
                                           "entries": int(total or 0), "stored": stored})
            for c, p, u, period, gained, stored, earned, stored_earned in (await conn.execute(text(totals_sql))).all():
                report.differences.append({"what": "total", "community_id": c, "person_id": p, "unit": u,
                                           "period": period, "entries": f"{gained}/{earned}",
                                           "stored": f"{stored}/{stored_earned}"})
    return report

