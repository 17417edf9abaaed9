"""Message catalogues (web/locales/<locale>.json), shared by the server and the pages.

One JSON file per locale serves server errors, Jinja templates and the ES modules alike,
so there is one place for every string and no compile step. zh-CN first, English second.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

LOCALES_DIR = Path(__file__).resolve().parent.parent.parent / "web" / "locales"
SUPPORTED = ("zh-CN", "en")
DEFAULT = "zh-CN"


@lru_cache
def catalogue(locale: str) -> dict[str, str]:
    """Every ``web/locales/<locale>/*.json`` file merged (errors.json, ui.json, …)."""
    data: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / locale).glob("*.json")):
        data.update(json.loads(path.read_text(encoding="utf-8")))
    return data


def negotiate(accept_language: str | None, preferred: str | None = None) -> str:
    """Pick zh-CN or en from an explicit preference, else from Accept-Language."""
    for candidate in (preferred, *_parse_accept(accept_language or "")):
        if not candidate:
            continue
        c = candidate.strip().lower()
        if c.startswith("zh"):
            return "zh-CN"
        if c.startswith("en"):
            return "en"
    return DEFAULT


def _parse_accept(header: str) -> list[str]:
    weighted: list[tuple[float, str]] = []
    for part in header.split(","):
        lang, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        if lang:
            weighted.append((weight, lang))
    return [lang for _, lang in sorted(weighted, key=lambda x: -x[0])]


def t(key: str, locale: str = DEFAULT, /, **params: Any) -> str:
    """Translate ``key``; fall back to zh-CN, then to the key itself."""
    text = catalogue(locale).get(key) or catalogue(DEFAULT).get(key) or key
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text
