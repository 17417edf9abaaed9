"""From a poll's published description and its counted ballots to the result, as JSON. Pure.

The server counts with this at close (and live while open); ``wugong verify-poll`` counts the
downloaded chain with the same function, so a published result can be re-derived by anyone.
Every number that is an area is a decimal string; every ratio is exact.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.polls import counting, rules
from app.polls.counting import Ballot, Electorate, Lot


class OutcomeError(ValueError):
    pass


def _lot(lot: Lot | None) -> dict[str, Any] | None:
    if lot is None:
        return None
    return {"seed": lot.seed, "context": lot.context, "tied": list(lot.tied), "order": list(lot.order),
            "keys": dict(lot.keys), "drawn": lot.drawn}


def _d(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def _ballots(kind: str, entries: list[dict[str, Any]]) -> list[Ballot]:
    out = []
    for i, e in enumerate(entries, start=1):
        key = f"b{e.get('seq', i)}"  # a ballot box has no seq: its order
        weight = Decimal(str(e.get("weight") or "0"))
        if kind == "score":
            scores = tuple((str(o), int(s)) for o, s in e["choices"])
            out.append(Ballot(key, weight, (), scores))
        else:
            out.append(Ballot(key, weight, tuple(str(c) for c in e["choices"])))
    return out


def compute(spec: dict[str, Any], entries: list[dict[str, Any]], seed: str,
            participating_households: int | None = None, *, provisional: bool = False) -> dict[str, Any]:
    """``spec``: kind, options [{id, label}], max_choices, allow_stacking, ranked_method, rule,
    electorate {kind, size, area, households}. ``entries``: the counted ballots (seq, choices, weight).
    ``provisional``: the poll is still open, so a proposal's count states no verdict (passed,
    quorum_met and approved are None) and its explanation says where each threshold stands."""
    kind = spec["kind"]
    options = [o["id"] for o in spec["options"]]
    labels = {o["id"]: o["label"] for o in spec["options"]}
    ballots = _ballots(kind, entries)
    el = spec["electorate"]
    result: dict[str, Any] = {"kind": kind, "ballots": len(ballots), "seed": seed,
                              "participating_area": _d(counting.exact_sum(b.weight_area for b in ballots))}
    try:
        if kind in ("single", "multiple", "approval"):
            if kind == "single":
                t = counting.plurality(ballots, options, seed)
            elif kind == "multiple":
                t = counting.multiple_choice(ballots, options, int(spec["max_choices"]), seed)
            else:
                t = counting.approval(ballots, options, int(spec["max_choices"]), bool(spec.get("allow_stacking")),
                                      seed)
            result["options"] = [{"id": o, "label": labels[o], "count": t.counts[o], "area": _d(t.areas[o])}
                                 for o in options]
            result["winner"] = t.winner
            result["leaders"] = list(t.leaders)
            result["tie_break"] = _lot(t.tie_break)
            zh = f"得票最多：{labels[t.winner]}（{t.counts[t.winner]}票）" if t.winner else "尚无选票"
            en = f"Most votes: {labels[t.winner]} ({t.counts[t.winner]})" if t.winner else "No ballots yet"
            if t.tie_break is not None and t.winner:
                zh += "；平票，抽签决定"
                en += "; tied, decided by lot"
        elif kind == "score":
            s = counting.score(ballots, options)
            lines = []
            for o in options:
                line = s.lines[o]
                lines.append({"id": o, "label": labels[o], "raters": line.raters, "total": line.total,
                              "mean": None if line.mean is None else f"{float(line.mean):.2f}",
                              "mean_exact": None if line.mean is None else str(line.mean),
                              "histogram": {str(k): v for k, v in line.histogram.items()}})
            result["options"] = lines
            rated = [ln for ln in lines if ln["mean_exact"] is not None]
            best = max(rated, key=lambda ln: s.lines[ln["id"]].mean or 0, default=None)
            result["winner"] = best["id"] if best else None
            zh = f"平均分最高：{best['label']}（{best['mean']}分）" if best else "尚无评分"
            en = f"Highest mean score: {best['label']} ({best['mean']})" if best else "No scores yet"
        elif kind == "ranked":
            if spec.get("ranked_method") == "borda":
                b = counting.borda(ballots, options, seed)
                result["points"] = [{"id": o, "label": labels[o], "points": b.points[o]} for o in options]
                result["order"] = list(b.order)
                result["tie_breaks"] = [_lot(x) for x in b.tie_breaks]
                result["winner"] = b.winner
                zh = "优先顺序：" + " > ".join(labels[o] for o in b.order) if b.ballots else "尚无选票"
                en = "Priority order: " + " > ".join(labels[o] for o in b.order) if b.ballots else "No ballots yet"
            else:
                r = counting.instant_runoff(ballots, options, seed)
                result["rounds"] = [{"number": x.number, "counts": dict(x.counts), "continuing": x.continuing_ballots,
                                     "exhausted": x.exhausted, "eliminated": x.eliminated, "elected": x.elected,
                                     "tie_break": _lot(x.tie_break)} for x in r.rounds]
                result["winner"] = r.winner
                result["options"] = [{"id": o, "label": labels[o]} for o in options]
                n = len(r.rounds)
                zh = f"第{n}轮当选：{labels[r.winner]}" if r.winner else "尚无选票"
                en = f"Elected in round {n}: {labels[r.winner]}" if r.winner else "No ballots yet"
        elif kind == "proposal":
            rule = rules.from_json(spec["rule"])
            electorate = Electorate(int(el["size"]), Decimal(str(el["area"])), int(el.get("households") or 0))
            p = counting.proposal(ballots, electorate, rule, participating_households)
            result.update({
                "passed": p.passed, "quorum_met": p.quorum_met, "approved": p.approved,
                "yes": p.yes, "no": p.no, "abstain": p.abstain,
                "yes_area": _d(p.yes_area), "no_area": _d(p.no_area), "abstain_area": _d(p.abstain_area),
                "participants": p.participants, "participating_households": p.participating_households,
                "criteria": [{"stage": c.stage, "name": c.name, "measure": c.measure.value,
                              "numerator": str(c.numerator), "denominator": str(c.denominator),
                              "required": str(c.required), "comparator": c.comparator, "met": c.met,
                              "group": c.group} for c in p.criteria],
            })
            zh, en = p.explanation_zh, p.explanation_en
            if provisional:
                result.update({"passed": None, "quorum_met": None, "approved": None})
                zh, en = counting.explain_so_far(p.criteria)
        else:
            raise OutcomeError(f"unknown poll kind {kind!r}")
    except counting.CountingError as e:
        raise OutcomeError(str(e)) from e
    result["explanation_zh"] = zh
    result["explanation_en"] = en
    return result
