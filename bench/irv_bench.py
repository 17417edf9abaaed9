"""Instant runoff over many ranked ballots (pure counting, no database); prints one JSON line.

    .venv/bin/python bench/irv_bench.py [--ballots 100000] [--options 10] [--repeat 3] [--seed 1]

Ballots are random full or truncated rankings drawn with a fixed seed, skewed so that no option
has a first-round majority and the count runs through several elimination rounds. The time
reported is the best of ``--repeat`` runs of ``instant_runoff`` alone (ballots are built first).
Target: under 2 s for 100k ballots × 10 options.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.polls.counting import Ballot, borda, instant_runoff


def make_ballots(n: int, options: list[str], rng: random.Random) -> list[Ballot]:
    weights = [1.0 + 0.15 * i for i in range(len(options))]  # mild skew, no majority
    ballots = []
    for i in range(n):
        order: list[str] = []
        pool = list(options)
        w = list(weights)
        depth = rng.randint(1, len(options))
        for _ in range(depth):
            j = rng.choices(range(len(pool)), weights=w)[0]
            order.append(pool.pop(j))
            w.pop(j)
        ballots.append(Ballot(f"v{i}", Decimal(0), tuple(order)))
    return ballots


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ballots", type=int, default=100_000)
    ap.add_argument("--options", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    options = [f"option-{i}" for i in range(args.options)]
    t0 = time.perf_counter()
    ballots = make_ballots(args.ballots, options, rng)
    build_s = time.perf_counter() - t0
    times = []
    result = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = instant_runoff(ballots, options, seed=f"bench-{args.seed}")
        times.append(time.perf_counter() - t0)
    assert result is not None
    t0 = time.perf_counter()
    borda(ballots, options, seed=f"bench-{args.seed}")
    borda_s = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "bench": "instant_runoff",
                "ballots": args.ballots,
                "options": args.options,
                "rounds": len(result.rounds),
                "exhausted_final": result.rounds[-1].exhausted,
                "winner": result.winner,
                "irv_seconds_best": round(min(times), 4),
                "irv_seconds_all": [round(t, 4) for t in times],
                "target_seconds": 2.0,
                "meets_target": min(times) < 2.0,
                "borda_seconds": round(borda_s, 4),
                "build_ballots_seconds": round(build_s, 2),
                "python": platform.python_version(),
            }
        )
    )


if __name__ == "__main__":
    main()
