"""create_app(): routers, middleware, error handlers, static files, lifespan."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app import openapi
from app.accounts.router import router as accounts_router
from app.communities import home as communities_home
from app.communities import service as communities_service
from app.communities.router import router as communities_router
from app.core import db, errors, media, ratelimit
from app.core.compression import CompressMiddleware
from app.core.config import Settings, get_settings
from app.core.i18n import SUPPORTED, catalogue
from app.core.idempotency import IdempotencyMiddleware
from app.core.nul import RefuseNul
from app.core.redis import close_redis, get_redis
from app.core.uploads import router as uploads_router
from app.home import service as home
from app.home.router import router as home_router
from app.issues import home as issues_home
from app.issues import scheduled as issues_scheduled
from app.issues import service as issues_service
from app.issues.region_router import router as issues_region_router
from app.issues.router import router as issues_router
from app.notifications.router import router as notifications_router
from app.points import home as points_home
from app.points import scheduled as points_scheduled
from app.points import sharing as points_sharing  # noqa: F401  (registers the board's share preview)
from app.points import store as points_store
from app.points.router import router as points_router
from app.points.router import store_router
from app.polls import home as polls_home
from app.polls import live
from app.polls import scheduled as polls_scheduled
from app.polls.router import router as polls_router
from app.sharing.router import router as sharing_router
from app.tasks import home as tasks_home
from app.tasks import scheduled as tasks_scheduled
from app.tasks import service as tasks_service
from app.tasks import sharing as tasks_sharing  # noqa: F401  (registers the "task" share preview)
from app.tasks.router import router as tasks_router
from app.web import assets
from app.web.assets import VersionedStaticFiles
from app.web.cobuild_pages import router as cobuild_pages_router
from app.web.poll_admin_pages import router as poll_admin_pages_router
from app.web.polls_pages import router as polls_pages_router
from app.web.router import not_found_page as web_not_found
from app.web.router import router as web_router


def _freeze_heap() -> None:
    """Once per process, when the app has started: what exists now (modules, models, compiled
    statements, catalogues) lives as long as the process, so move it out of the garbage collector's
    way. A full collection otherwise walks all of it, ~100 ms during which every request in flight
    waits, which at a meeting's call to vote is the slowest answer of the minute; after, ~10 ms."""
    if not gc.get_freeze_count():
        gc.collect()
        gc.freeze()


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str  # ok | unavailable
    checks: dict[str, str]  # database, redis: ok | error: <kind>


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpcore", "aiosqlite", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if db._engine is None:
            db.init_engine(settings.database_url, **settings.engine_options())
        sweeper = issues_scheduled.start(settings.sweep_seconds)
        poll_sweeper = polls_scheduled.start(settings.sweep_seconds)
        points_sweeper = points_scheduled.start(settings.sweep_seconds)
        task_sweeper = tasks_scheduled.start(settings.sweep_seconds)
        _freeze_heap()
        yield
        await live.hub.shutdown()
        await tasks_scheduled.stop(task_sweeper)
        await points_scheduled.stop(points_sweeper)
        await polls_scheduled.stop(poll_sweeper)
        await issues_scheduled.stop(sweeper)
        await close_redis()
        ratelimit.reset()
        await db.dispose_engine()

    app = FastAPI(
        title="Wugong 五共 API",
        version="0.1.0",
        description="美好环境与幸福生活共同缔造 — co-plan, co-build, co-manage, co-evaluate, co-share.",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    errors.install(app, html_not_found=web_not_found)
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(RefuseNul)  # before anything reads the request's body or values
    app.add_middleware(CompressMiddleware)  # outside the idempotency records, which keep plain bodies
    if settings.trusted_proxy_list:
        # Outermost, so every part of the app sees the client the proxy names. Only here: `wugong
        # serve` turns uvicorn's own reading (which trusts any loopback peer) off.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)

    api = APIRouter(prefix="/api/v1")
    api.include_router(accounts_router)
    api.include_router(communities_router)
    api.include_router(uploads_router)
    api.include_router(issues_router)
    api.include_router(issues_region_router)
    api.include_router(notifications_router)
    api.include_router(polls_router)
    api.include_router(points_router)
    api.include_router(store_router)
    api.include_router(tasks_router)
    api.include_router(home_router)
    app.include_router(api)

    # What the home page shows (app/home): each domain's cards, what waits for me first.
    home.register_card("polls.vote", polls_home.vote_card, order=10)
    home.register_card("tasks.next", tasks_home.next_task_card, order=15)
    home.register_card("tasks.adoption", tasks_home.adoption_card, order=16)
    home.register_card("issues.verify", issues_home.verify_card, order=20)
    home.register_card("issues.triage", issues_home.triage_card, order=30)
    home.register_card("issues.patrol", issues_home.patrol_card, order=31)
    home.register_card("issues.queue", issues_home.queue_card, order=32)
    home.register_card("tasks.verify", tasks_home.verify_card, order=33)
    home.register_card("tasks.approve", tasks_home.approve_card, order=34)
    home.register_card("communities.join_requests", communities_home.join_requests_card, order=35)
    home.register_card("polls.manage", polls_home.manage_card, order=40)
    home.register_card("store.ready", points_home.orders_ready_card, order=45)
    home.register_card("issues.mine", issues_home.my_reports_card, order=50)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> Health:
        """The process is up."""
        return Health(status="ok")

    @app.get("/readyz", tags=["health"], response_model=Readiness,
             responses={503: {"model": Readiness, "description": "The database or Redis is not reachable"}})
    async def readyz() -> JSONResponse:
        """The database (and Redis, when configured) answer."""
        checks: dict[str, str] = {}
        try:
            async with db.get_engine().connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # readiness reports, it does not raise
            checks["database"] = f"error: {type(exc).__name__}"
        redis = get_redis()
        if redis is not None:
            try:
                await redis.ping()
                checks["redis"] = "ok"
            except Exception as exc:
                checks["redis"] = f"error: {type(exc).__name__}"
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503)

    @app.get("/locales/{locale}.json", include_in_schema=False)
    async def locale_catalogue(locale: str) -> JSONResponse:
        # A language's whole catalogue, for integrators; pages load only their areas, versioned,
        # from /locales/<lang>/<area>.json (app/web/assets.py).
        if locale not in SUPPORTED:
            locale = "zh-CN"
        return JSONResponse(catalogue(locale), headers={"Cache-Control": "public, max-age=300"})

    # Which photos are public is asked of what they are attached to (app/core/media.py).
    media.register_attachment("issue", issues_service.upload_on_issues)
    media.register_attachment("community_cover", communities_service.upload_as_cover)
    media.register_attachment("store_item", points_store.upload_on_items)
    media.register_attachment("task", tasks_service.upload_on_tasks)
    app.include_router(media.router)
    app.include_router(sharing_router)
    app.include_router(web_router)
    app.include_router(polls_pages_router)
    app.include_router(poll_admin_pages_router)
    app.include_router(cobuild_pages_router)
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    # Immutable under their versioned URLs, revalidated under any other (app/web/assets.py): ES
    # modules import each other by plain paths that each page's import map versions, and inside
    # WeChat no service worker replaces stale copies after a deploy.
    app.mount("/static", VersionedStaticFiles(directory=assets.STATIC_DIR), name="static")
    app.mount("/locales", VersionedStaticFiles(directory=assets.LOCALES_DIR), name="locales")
    openapi.install(app)
    return app
