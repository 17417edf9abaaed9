"""User content in server-rendered pages: what people wrote and the names they gave (people,
places, issues, polls) is shown as written, in whatever language it was written in, and marked
``data-user-content`` so a translation tool leaves it alone and the page crawl
(tests/e2e/test_crawl.py) does not ask for it in English. The pages' modules do the same
(web/static/js/ui.js: quoted, tQuoted, setQuotedText).

Templates get ``quoted(value)``, ``tq(key, name=value)`` (a translated sentence quoting user
content) and ``quote_in(text, *values)`` (a sentence the server already composed, marking where it
quotes the values).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markupsafe import Markup, escape


def quoted(value: object) -> Markup:
    return Markup('<span data-user-content>{}</span>').format("" if value is None else value)


def quoting(translate: Callable[..., str]) -> Callable[..., Markup]:
    """``tq(key, **params)``: the sentence ``key`` with each parameter quoted as user content."""
    def tq(key: str, **params: Any) -> Markup:
        return Markup(escape(translate(key))).format(**{k: quoted(v) for k, v in params.items()})
    return tq


def quote_in(text: str, *values: str | None) -> Markup:
    wanted = sorted({v for v in values if v and v.strip()}, key=len, reverse=True)
    out, rest = Markup(), text
    while rest:
        hits = [(rest.find(v), v) for v in wanted if v in rest]
        if not hits:
            return out + escape(rest)
        at, value = min(hits, key=lambda h: (h[0], -len(h[1])))
        out += escape(rest[:at]) + quoted(value)
        rest = rest[at + len(value):]
    return out
