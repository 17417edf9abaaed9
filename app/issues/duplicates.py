"""Possible duplicates while reporting 查重: open issues nearby in the same category, and open
issues whose titles share many character pairs with the new one. Pure: no I/O.

Chinese has no spaces between words, so titles are compared by their character bigrams
(路灯不亮 → 路灯, 灯不, 不亮), the usual unit for Chinese text matching; Latin letters and digits
count as characters too, case folded, and whitespace and punctuation are ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)
NEARBY_M = 100.0
SIMILAR_TITLE_MIN = 0.3
MAX_RESULTS = 10


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine); exact enough for 100 m on a phone's GPS."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def bounding_box(lat: float, lng: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lng, max_lng) containing every point within ``radius_m``.

    A cheap superset for an indexed SQL prefilter; the haversine distance decides. Near a pole
    or across the antimeridian it widens to every longitude rather than wrap around.
    """
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    min_lat, max_lat = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    cos_lat = math.cos(math.radians(max(abs(min_lat), abs(max_lat))))
    if cos_lat < 1e-6:
        return min_lat, max_lat, -180.0, 180.0
    dlng = math.degrees(radius_m / (EARTH_RADIUS_M * cos_lat))
    if lng - dlng < -180.0 or lng + dlng > 180.0:
        return min_lat, max_lat, -180.0, 180.0
    return min_lat, max_lat, lng - dlng, lng + dlng


def _chars(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def bigrams(text: str) -> frozenset[str]:
    """The set of adjacent character pairs; a one-character text is its own single "pair"."""
    s = _chars(text)
    if len(s) < 2:
        return frozenset({s}) if s else frozenset()
    return frozenset(s[i:i + 2] for i in range(len(s) - 1))


def trigrams(text: str, limit: int = 32) -> list[str]:
    """Distinct character triples in order, at most ``limit``: the search index's candidate keys."""
    s = _chars(text)
    out: dict[str, None] = {}
    for i in range(len(s) - 2):
        out.setdefault(s[i:i + 3], None)
        if len(out) >= limit:
            break
    return list(out)


def title_similarity(a: str, b: str) -> float:
    """0…1: the mean of the bigram Jaccard index and the overlap coefficient.

    Jaccard alone punishes a short title inside a longer one (路灯不亮 in 3栋路灯不亮 is 0.6);
    the overlap coefficient alone calls any title containing 路灯 a copy of 路灯. Their mean
    keeps both effects in check.
    """
    x, y = bigrams(a), bigrams(b)
    if not x or not y:
        return 0.0
    shared = len(x & y)
    return (shared / len(x | y) + shared / min(len(x), len(y))) / 2


@dataclass(frozen=True)
class Candidate:
    """An open issue found by the index: the database's facts, before scoring."""

    id: str
    title: str
    lat: float | None
    lng: float | None
    category_id: str | None


@dataclass(frozen=True)
class Match:
    id: str
    score: float
    distance_m: float | None
    reasons: tuple[str, ...] = field(default=())

    @property
    def reason(self) -> str:
        return self.reasons[0]


def rank(candidates: list[Candidate], *, title: str | None, lat: float | None, lng: float | None,
         category_id: str | None, limit: int = MAX_RESULTS) -> list[Match]:
    """Best first: ``nearby`` (same category, within 100 m) scores 1 at the spot falling to 0.5
    at 100 m; ``similar_title`` adds the title similarity. Both reasons together rank highest."""
    out: dict[str, Match] = {}
    for c in candidates:
        if c.id in out:
            continue
        reasons: list[str] = []
        score = 0.0
        d = None
        if lat is not None and lng is not None and c.lat is not None and c.lng is not None:
            d = distance_m(lat, lng, c.lat, c.lng)
            if d <= NEARBY_M and (category_id is None or c.category_id == category_id):
                reasons.append("nearby")
                score += 1.0 - 0.5 * d / NEARBY_M
        if title:
            sim = title_similarity(title, c.title)
            if sim >= SIMILAR_TITLE_MIN:
                reasons.append("similar_title")
                score += sim
        if reasons:
            out[c.id] = Match(c.id, round(score, 4), None if d is None else round(d, 1), tuple(reasons))
    return sorted(out.values(), key=lambda m: (-m.score, m.distance_m if m.distance_m is not None else math.inf,
                                               m.id))[:limit]
