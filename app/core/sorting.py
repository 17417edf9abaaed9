"""One order for the names people number: 1栋, 2栋, …, 10栋 — not 10栋, 11栋, 1栋 as text sorts.

Every list of buildings, grids and households is put in this order by the server, and the pages
keep the order they are given."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[tuple[int, int, str], ...]:
    """Runs of digits compare as numbers (before words at the same place), the rest as text."""
    return tuple((0, int(part), part) if part.isdigit() else (1, 0, part.casefold())
                 for part in _NUMBER.split(name.strip()) if part)
