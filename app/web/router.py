"""Server-rendered pages of the PWA, and the service worker at /sw.js.

Each page is a shell rendered in the caller's language (cookie ``wg_lang``, else
Accept-Language) and size (cookie ``wg_elder=1`` → elder mode 长辈模式), then filled in by one ES
module that calls the JSON API with the token the phone keeps. A page therefore carries
nothing personal, and works the same with or without the service worker (WeChat's in-app
browser gets none).
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from jinja2 import Environment, FileSystemLoader

from app.communities import service as communities_service
from app.core import i18n, policy
from app.core.config import get_settings
from app.core.deps import Session
from app.core.errors import NotFound, request_locale
from app.web import assets
from app.web.user_content import quote_in, quoted, quoting

WEB_DIR = Path(__file__).resolve().parent.parent.parent / "web"
STATIC_DIR = WEB_DIR / "static"

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")  # no summer time: a fixed offset needs no tzdata

# Not every system's mime.types knows the manifest; StaticFiles asks mimetypes.
mimetypes.add_type("application/manifest+json", ".webmanifest")

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "font-src 'self'",
    "manifest-src 'self'",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
    "Vary": "Cookie, Accept-Language",
}
COMMUNITY_ID = re.compile(r"^[0-9A-Za-z_-]{1,26}$")
ISSUE_ID = re.compile(r"^[0-9A-Za-z]{1,26}$")
INVITE_CODE = re.compile(r"^[0-9A-Za-z_-]{1,16}$")
# What the community page needs to know to show the committee's links.
ADMIN_PERMISSIONS = ("members.view", "members.manage", "join_requests.decide", "roster.import", "invites.create",
                     "places.manage", "audit.read", "issues.triage", "issues.report_as_staff", "tasks.organise",
                 "store.manage")

router = APIRouter(include_in_schema=False)
templates = Environment(
    loader=FileSystemLoader(WEB_DIR / "templates"), autoescape=True, trim_blocks=True, lstrip_blocks=True
)
templates.globals.update(quoted=quoted, quote_in=quote_in)


def asset_version() -> str:
    """A digest of the static files and catalogues: busts caches and renews the service worker."""
    if get_settings().env == "production":
        return _digest_once()
    return _digest(_fingerprint())  # development edits show up without a restart


@lru_cache(maxsize=1)
def _digest_once() -> str:
    return _digest(_fingerprint())


def _fingerprint() -> tuple[tuple[str, int, int], ...]:
    files = sorted(p for root in (STATIC_DIR, WEB_DIR / "locales") for p in root.rglob("*") if p.is_file())
    return tuple((str(p.relative_to(WEB_DIR)), (s := p.stat()).st_size, s.st_mtime_ns) for p in files)


@lru_cache(maxsize=8)
def _digest(fingerprint: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.sha256()
    for name, _, _ in fingerprint:
        digest.update(name.encode())
        digest.update((WEB_DIR / name).read_bytes())
    return digest.hexdigest()[:12]


def render(request: Request, template: str, *, page: str, title_key: str, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    """A page: its module ``js/pages/<page>.js`` with the import map of its module graph (allowed
    by its hash in the CSP), and the catalogue areas it needs (app/web/assets.py)."""
    locale = request_locale(request)
    version = asset_version()

    def translate(key: str, **params: Any) -> str:
        return i18n.t(key, locale, **params)

    import_map = assets.import_map(f"js/pages/{page}.js")
    html = templates.get_template(template).render(
        locale=locale, elder=request.cookies.get("wg_elder") == "1", version=version, page=page,
        title=translate(title_key), t=translate, tq=quoting(translate), asset=assets.static_url, import_map=import_map,
        strings=" ".join(assets.catalogue_urls(locale, page)), **context,
    )
    csp = CONTENT_SECURITY_POLICY.replace("script-src 'self'", f"script-src 'self' {assets.csp_hash(import_map)}")
    return HTMLResponse(html, status_code=status_code,
                        headers={**PAGE_HEADERS, "Content-Security-Policy": csp, "Content-Language": locale})


def not_found_page(request: Request) -> HTMLResponse:
    return render(request, "missing.html", page="missing", title_key="ui.missing.title", status_code=404)


def community_page(request: Request, cid: str, template: str, page: str, title_key: str,
                   **context: Any) -> HTMLResponse:
    if not COMMUNITY_ID.match(cid):
        return render(request, "missing.html", page="missing", title_key="ui.missing.title", status_code=404)
    return render(request, template, page=page, title_key=title_key, cid=cid, **context)


@router.get("/")
async def home(request: Request) -> HTMLResponse:
    return render(request, "home.html", page="home", title_key="ui.home.title", nav="home")


@router.get("/login")
async def login(request: Request) -> HTMLResponse:
    return render(request, "login.html", page="login", title_key="ui.login.title",
                  sms_in_log=get_settings().sms_backend == "console")


@router.get("/join/{code}")
async def join(request: Request, code: str, session: Session) -> HTMLResponse:
    invite = None
    if INVITE_CODE.match(code):
        try:
            invite = await communities_service.invite_preview(session, code, request_locale(request))
        except NotFound:
            invite = None
    return render(request, "join.html", page="join", title_key="ui.join.title", status_code=200 if invite else 404,
                  code=code, invite=invite, sms_in_log=get_settings().sms_backend == "console")


@router.get("/c/{cid}")
async def community(request: Request, cid: str) -> HTMLResponse:
    permissions = {p: sorted(policy.PERMISSIONS.get(p, ())) for p in ADMIN_PERMISSIONS}
    return community_page(request, cid, "community.html", "community", "ui.community.title", nav="community",
                          data={"permissions": permissions})


@router.get("/c/{cid}/admin/members")
async def members(request: Request, cid: str) -> HTMLResponse:
    data = {"roles": [str(r) for r in policy.Role],
            "permissions": {"members.manage": sorted(policy.PERMISSIONS["members.manage"])}}
    return community_page(request, cid, "admin/members.html", "members", "ui.members.title", nav="community",
                          roles=data["roles"], data=data)


@router.get("/c/{cid}/admin/join-requests")
async def join_requests(request: Request, cid: str) -> HTMLResponse:
    return community_page(request, cid, "admin/join_requests.html", "join-requests", "ui.join_requests.title",
                          nav="community")


@router.get("/c/{cid}/admin/roster")
async def roster(request: Request, cid: str) -> HTMLResponse:
    return community_page(request, cid, "admin/roster.html", "roster", "ui.roster.title", nav="community")


@router.get("/c/{cid}/admin/invites")
async def invites(request: Request, cid: str) -> HTMLResponse:
    return community_page(request, cid, "admin/invites.html", "invites", "ui.invites.title", nav="community")


@router.get("/c/{cid}/admin/places")
async def places(request: Request, cid: str) -> HTMLResponse:
    data = {"permissions": {p: sorted(policy.PERMISSIONS[p]) for p in ("places.manage", "households.view")}}
    return community_page(request, cid, "admin/places.html", "places", "ui.places.title", nav="community", data=data)


@router.get("/c/{cid}/admin/audit")
async def audit(request: Request, cid: str) -> HTMLResponse:
    return community_page(request, cid, "admin/audit.html", "audit", "ui.audit.title", nav="community")


@router.get("/settings")
async def settings(request: Request) -> HTMLResponse:
    version, day = release()
    return render(request, "settings.html", page="settings", title_key="ui.settings.title", nav="settings",
                  languages=i18n.SUPPORTED, release_version=version, release_day=day)


def release() -> tuple[str, str]:
    """What Settings shows as the version, in words a resident can read out to whoever helps them:
    the installed package's version and the day (Beijing time) its pages last changed."""
    try:
        version = package_version("wugong")
    except PackageNotFoundError:
        version = "dev"
    if get_settings().env == "production":
        return version, _pages_day_once()
    return version, _pages_day()


@lru_cache(maxsize=1)
def _pages_day_once() -> str:
    return _pages_day()


def _pages_day() -> str:
    newest = max((p.stat().st_mtime for root in (STATIC_DIR, WEB_DIR / "locales", WEB_DIR / "templates")
                  for p in root.rglob("*") if p.is_file()), default=0.0)
    return datetime.fromtimestamp(newest, BEIJING).date().isoformat()


@router.get("/offline")
async def offline(request: Request) -> HTMLResponse:
    return render(request, "offline.html", page="offline", title_key="ui.offline.title")


@router.get("/sw.js")
async def service_worker() -> FileResponse:
    # Served from the root so its scope is the whole site; never cached, so updates are seen.
    return FileResponse(STATIC_DIR / "sw.js", media_type="text/javascript",
                        headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"})


@router.get("/sw-shell.json")
async def service_worker_shell() -> JSONResponse:
    # What the worker keeps for offline use, under this deploy's versioned URLs (it fetches this
    # list when it installs: sw.js itself stays a plain file).
    return JSONResponse({"urls": ["/offline", *assets.shell_urls(i18n.SUPPORTED)]},
                        headers={"Cache-Control": "no-cache"})


# --- the issue list 问题清单 -------------------------------------------------------------------
# Each issue page learns from its data who may do the staff things (the module compares them
# with my_roles from GET /communities/{cid}); the server still decides every step.

ISSUE_PERMISSIONS = ("issues.triage", "issues.see_staff_only", "issues.report_as_staff")


def _issue_data(**extra: Any) -> dict[str, Any]:
    return {"permissions": {p: sorted(policy.PERMISSIONS[p]) for p in ISSUE_PERMISSIONS}, **extra}


@router.get("/c/{cid}/issues")
async def issue_list(request: Request, cid: str) -> HTMLResponse:
    return community_page(request, cid, "issues/list.html", "issues", "ui.issues.title", nav="community",
                          data=_issue_data())


@router.get("/c/{cid}/issues/new")
async def issue_new(request: Request, cid: str) -> HTMLResponse:
    return community_page(request, cid, "issues/new.html", "issue-new", "ui.issue_new.title", nav="community",
                          data=_issue_data())


@router.get("/c/{cid}/patrol")
async def issue_patrol(request: Request, cid: str) -> HTMLResponse:
    return community_page(request, cid, "issues/patrol.html", "patrol", "ui.patrol.title", nav="community",
                          data=_issue_data())


@router.get("/c/{cid}/queue")
async def issue_queue(request: Request, cid: str) -> HTMLResponse:
    return community_page(request, cid, "issues/queue.html", "issue-queue", "ui.issue_queue.title",
                          nav="community", data=_issue_data())


@router.get("/c/{cid}/triage")
async def issue_triage(request: Request, cid: str) -> HTMLResponse:
    return community_page(request, cid, "issues/triage.html", "triage", "ui.triage.title", nav="community",
                          data=_issue_data())


# Declared after /issues/new (and any other fixed word under /issues) so those win.
@router.get("/c/{cid}/issues/{issue_id}")
async def issue_detail(request: Request, cid: str, issue_id: str) -> HTMLResponse:
    if not ISSUE_ID.match(issue_id):
        return not_found_page(request)
    return community_page(request, cid, "issues/detail.html", "issue", "ui.issue.title", nav="community",
                          issue_id=issue_id, data=_issue_data(issue_id=issue_id))


@router.get("/c/{cid}/issues/map")
async def issues_map(request: Request, cid: str) -> HTMLResponse:
    from app.issues.mapping import map_settings, tile_origin

    settings = map_settings()
    origin = tile_origin(settings.map_tile_url)
    tiles = settings.map_tile_url if origin else ""
    statuses = ["reported", "accepted", "dispatched", "in_progress", "resolved", "reopened", "closed", "rejected",
                "merged"]
    response = community_page(request, cid, "issues_map.html", "issues-map", "map.title", nav="community",
                              tiles=bool(tiles), statuses=statuses,
                              data={"tile_url": tiles, "tile_attribution": settings.map_tile_attribution})
    if origin:  # the tile server is the one outside origin this page may load images from
        response.headers["Content-Security-Policy"] = response.headers["Content-Security-Policy"].replace(
            "img-src 'self' data: blob:", f"img-src 'self' data: blob: {origin}")
    return response


# /c/{cid}/issues/{issue_id} would take "map" for an issue id: route the map page first.
router.routes[:] = ([r for r in router.routes if getattr(r, "path", "") == "/c/{cid}/issues/map"]
                    + [r for r in router.routes if getattr(r, "path", "") != "/c/{cid}/issues/map"])


# --- the inbox 消息 and the region view 督办 ------------------------------------------------------

REGION_ID = re.compile(r"^[0-9A-Za-z]{1,26}$")


@router.get("/notifications")
async def inbox(request: Request) -> HTMLResponse:
    return render(request, "inbox.html", page="inbox", title_key="inbox.title")


@router.get("/regions/{region_id}/escalations")
async def region_escalations(request: Request, region_id: str) -> HTMLResponse:
    if not REGION_ID.match(region_id):
        return not_found_page(request)
    return render(request, "region.html", page="region", title_key="inbox.region.title", nav="home",
                  data={"region_id": region_id})
