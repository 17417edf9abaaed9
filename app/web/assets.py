"""Static files and message catalogues under versioned URLs, long cached and compressed once.

Every URL a page names carries a digest of the file's content (``/static/css/app.css?v=3f2a…``,
``/locales/en/ui.json?v=9c1e…``) and is served ``immutable`` for a year: a phone asks for it once.
The digest is checked on every request, so a URL never pins content other than the one it names: a
URL without one, or with another deploy's, is served revalidated (no-cache). Pages themselves are
always revalidated, so after a deploy a phone gets the new page and through it only new files, with
or without a service worker (WeChat's browser has none).

ES modules import each other by relative path, without a digest (no build step). Each page carries
an import map, made from its module graph, that sends those paths to versioned URLs; a browser
without import maps (iOS before 16.4) fetches the modules at their plain URLs, revalidated.

The catalogues stay one file per area (``web/locales/<lang>/<area>.json``); a page loads the
common areas and those it declares in PAGE_AREAS, not the whole catalogue.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import posixpath
import re
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import anyio
from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

from app.core.compression import MIN_SIZE, choose, compress, compressible
from app.core.config import get_settings

WEB_DIR = Path(__file__).resolve().parent.parent.parent / "web"
STATIC_DIR = WEB_DIR / "static"
LOCALES_DIR = WEB_DIR / "locales"

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

# The areas every page loads: the shell's own strings (ui: navigation, errors, the queue; inbox:
# the unread badge). A page whose module uses strings of another area names it here (a test reads
# each page's modules and fails on a string from an area its page does not load).
COMMON_AREAS = ("inbox", "ui")
PAGE_AREAS: dict[str, tuple[str, ...]] = {
    "audit": ("polls_server",),
    "issue": ("issues", "report"),  # issues: the default categories' names
    "issue-new": ("issues", "report"),
    "issue-queue": ("issues", "report"),
    "issues": ("issues", "report"),
    "issues-map": ("issues", "map", "report"),
    "patrol": ("issues", "report"),
    "poll": ("polls", "polls_server"),
    "poll-new": ("polls_admin",),
    "poll-paper": ("polls_admin", "polls_server"),
    "polls": ("polls", "polls_server"),
    "receipt": ("polls", "polls_server"),
    "points": ("points",),
    "points-board": ("points",),
    "region": ("issues", "report"),
    "settings": ("polls", "tasks"),  # the write queue lists what other pages queued (a ballot, a claim)
    "store": ("points", "store"),
    "store-manage": ("issues", "points", "report", "store"),  # issues.js: the photo picker
    "store-orders": ("points", "store"),
    "store-pickup": ("points", "store"),
    "tasks": ("points", "tasks"),
    "tasks-console": ("points", "tasks"),
    "tasks-detail": ("issues", "points", "report", "tasks"),
    "tasks-mine": ("points", "tasks"),
    "tasks-new": ("issues", "points", "report", "tasks"),
    "triage": ("issues", "report"),
}


def version(path: Path) -> str:
    """The digest of a file's content (cached while its size and time stay the same; in production,
    where files do not change under a running server, once)."""
    if get_settings().env == "production":
        return _version_once(path)
    st = path.stat()
    return _digest(str(path), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=1024)
def _version_once(path: Path) -> str:
    st = path.stat()
    return _digest(str(path), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=1024)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def static_url(path: str) -> str:
    """``/static/<path>?v=<digest>``: what templates name through ``asset()``."""
    return f"/static/{path}?v={version(STATIC_DIR / path)}"


# --- modules and their import map ----------------------------------------------------------------

IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}/[^"']+)["']""")


def module_graph(entry: str) -> list[str]:
    """The modules ``entry`` (``js/pages/home.js``) loads, itself included, as static paths."""
    seen: set[str] = set()
    todo = [entry]
    while todo:
        path = todo.pop()
        if path in seen or not (STATIC_DIR / path).is_file():
            continue
        seen.add(path)
        todo.extend(_imports(path))
    return sorted(seen)


def _imports(path: str) -> tuple[str, ...]:
    st = (STATIC_DIR / path).stat()
    return _parse_imports(path, st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=256)
def _parse_imports(path: str, size: int, mtime_ns: int) -> tuple[str, ...]:
    source = (STATIC_DIR / path).read_text(encoding="utf-8")
    return tuple(posixpath.normpath(posixpath.join(posixpath.dirname(path), spec)) for spec in IMPORT.findall(source))


def import_map(entry: str) -> str:
    """The page's ``<script type="importmap">``: each module's plain URL to its versioned one."""
    if get_settings().env == "production":
        return _import_map_once(entry)
    return _import_map(entry)  # development: edits show up without a restart


@lru_cache(maxsize=128)
def _import_map_once(entry: str) -> str:
    return _import_map(entry)


def _import_map(entry: str) -> str:
    imports = {f"/static/{path}": static_url(path) for path in module_graph(entry)}
    return json.dumps({"imports": imports}, separators=(",", ":"))


def csp_hash(text: str) -> str:
    """The Content-Security-Policy source that allows exactly this inline script (the import map)."""
    return f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"


# --- catalogues ----------------------------------------------------------------------------------


def page_areas(page: str) -> list[str]:
    return sorted({*COMMON_AREAS, *PAGE_AREAS.get(page, ())})


def catalogue_urls(locale: str, page: str) -> list[str]:
    """The page's catalogue files, in the order the server merges them (by name)."""
    urls = []
    for area in page_areas(page):
        path = LOCALES_DIR / locale / f"{area}.json"
        if path.is_file():
            urls.append(f"/locales/{locale}/{area}.json?v={version(path)}")
    return urls


# --- what the service worker keeps for offline use -----------------------------------------------

SHELL_STATIC = ("css/", "js/", "icons/icon-96.png", "icons/maskable-192.png", "manifest.webmanifest")


def shell_urls(locales: tuple[str, ...]) -> list[str]:
    """Every file a page may need offline, versioned: styles, modules, the app's icons, the
    manifest, and every catalogue area in every language."""
    static = sorted(p.relative_to(STATIC_DIR).as_posix() for p in STATIC_DIR.rglob("*") if p.is_file())
    urls = [static_url(path) for path in static if path.startswith(SHELL_STATIC)]
    for locale in locales:
        urls += [f"/locales/{locale}/{p.name}?v={version(p)}" for p in sorted((LOCALES_DIR / locale).glob("*.json"))]
    return urls


# --- serving -------------------------------------------------------------------------------------

_packed: dict[tuple[str, str], tuple[int, int, bytes]] = {}


async def _compressed(path: str, st: os.stat_result, encoding: str) -> bytes:
    """A file compressed at the strongest settings, once per content (off the event loop)."""
    kept = _packed.get((path, encoding))
    if kept and kept[:2] == (st.st_size, st.st_mtime_ns):
        return kept[2]
    body = await anyio.to_thread.run_sync(lambda: compress(Path(path).read_bytes(), encoding, static=True))
    _packed[(path, encoding)] = (st.st_size, st.st_mtime_ns, body)
    return body


class VersionedStaticFiles(StaticFiles):
    """Files served immutable under their versioned URL and revalidated (ETag → 304) under any
    other; text precompressed (brotli or gzip, as the client takes it) and kept in memory."""

    def _encoding(self, scope: Scope, media_type: str, size: int) -> str | None:
        headers = Headers(scope=scope)
        if scope["method"] != "GET" or "range" in headers or size < MIN_SIZE or not compressible(media_type):
            return None
        return choose(headers.get("accept-encoding", ""))

    def file_response(self, full_path: Any, stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = FileResponse(full_path, status_code=status_code, stat_result=stat_result)
        asked = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"))).get("v")
        current = _digest(str(full_path), stat_result.st_size, stat_result.st_mtime_ns)
        response.headers["Cache-Control"] = IMMUTABLE if asked == current else REVALIDATE
        if compressible(response.media_type or ""):
            response.headers["Vary"] = "Accept-Encoding"
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            not_modified = NotModifiedResponse(response.headers)
            if self._encoding(scope, response.media_type or "", stat_result.st_size):
                not_modified.headers["ETag"] = f"W/{response.headers['etag']}"
            return not_modified
        return response

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if not isinstance(response, FileResponse) or response.status_code != 200 or response.stat_result is None:
            return response
        st = response.stat_result
        encoding = self._encoding(scope, response.media_type or "", st.st_size)
        if encoding is None:
            return response
        body = await _compressed(str(response.path), st, encoding)
        headers = {k: v for k, v in response.headers.items() if k not in ("content-length", "accept-ranges")}
        headers.update({"content-encoding": encoding, "etag": f"W/{response.headers['etag']}"})
        return Response(body, headers=headers)
