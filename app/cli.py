"""The ``wugong`` command for operators: serve, migrate, demo, create-admin, import-roster, sweep,
verify-poll, verify-ledger, backup, restore.

Settings come from the environment (``WUGONG_*``, see app/core/config.py), exactly as for the
server. Each command that touches data runs in one session and commits once at the end (the
services only flush), so a command that fails changes nothing. A new command is a function
decorated with ``@cli.command()`` that hands its work to ``in_session``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings, get_settings

T = TypeVar("T")
PHONE = re.compile(r"^1[3-9]\d{9}$")
MIN_PASSWORD = 8

cli = typer.Typer(
    name="wugong",
    help="五共 Wugong — run the server and look after its database.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


# --- plumbing --------------------------------------------------------------------------------

def _ensure_data_dir(settings: Settings) -> None:
    """Create the data directory, and the SQLite file's directory, before first use."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.is_sqlite:
        database = make_url(settings.database_url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)


def in_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one session of the configured database; commit once it returns.

    If ``work`` raises, nothing is committed and the exception propagates.
    """
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from app.core import db

    settings = get_settings()
    _ensure_data_dir(settings)

    async def go() -> T:
        engine = db.make_engine(settings.database_url)
        try:
            async with async_sessionmaker(engine, expire_on_commit=False, autoflush=False)() as session:
                value = await work(session)
                await session.commit()
                return value
        finally:
            await engine.dispose()

    try:
        return asyncio.run(go())
    except (OperationalError, ProgrammingError) as exc:
        if "no such table" in str(exc) or "does not exist" in str(exc):
            raise _fail("The database has no tables yet: run `wugong migrate` first.") from exc
        raise


def _migrate(settings: Settings) -> None:
    from app.core.migrate import upgrade

    _ensure_data_dir(settings)
    upgrade(settings.database_url)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def _load_demo(*, only_if_empty: bool) -> None:
    """Load the demo and print the accounts; say why not when the database isn't empty."""
    from app import demo

    async def work(session: AsyncSession) -> demo.DemoResult | demo.DemoPresent:
        try:
            return await demo.load(session)
        except demo.DemoPresent as present:
            return present

    outcome = in_session(work)
    if isinstance(outcome, demo.DemoResult):
        typer.secho(
            f"Demo data loaded: {len(outcome.communities)} communities ({', '.join(outcome.communities)}), "
            f"{outcome.buildings} buildings and villager groups, {outcome.households} households, "
            f"{outcome.roster_entries} people on the rosters, {outcome.pending_joins} pending join requests.",
            fg=typer.colors.GREEN)
        typer.echo(demo.accounts_table(outcome))
    elif outcome.demo_loaded:
        typer.echo("Demo data is already loaded; nothing changed. The accounts:")
        typer.echo(demo.accounts_table())
    elif only_if_empty:
        typer.echo("The database already has communities: demo data not loaded.")
    else:
        raise _fail("The database already has communities, so demo data was not loaded: "
                    "demo data goes only into an empty database (set WUGONG_DATA_DIR or "
                    "WUGONG_DATABASE_URL to use another one).")


# --- commands ----------------------------------------------------------------------------------

@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    demo: Annotated[bool, typer.Option(
        "--demo", help="Load demo data first if the database has no communities, and print the accounts.")] = False,
    migrate: Annotated[bool, typer.Option(
        help="Apply pending migrations before starting (turn off when several servers share a database "
             "and migrations are run on their own).")] = True,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = True,
) -> None:
    """Run the web server (uvicorn)."""
    import uvicorn

    settings = get_settings()
    if migrate or demo:
        _migrate(settings)
    else:
        _ensure_data_dir(settings)
    if demo:
        _load_demo(only_if_empty=True)
    if settings.sms_backend == "console":
        typer.echo("SMS backend: console — one-time codes are printed in this log.")
    # X-Forwarded-For is read by the app, from WUGONG_TRUSTED_PROXIES only (app/main.py).
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers,
                reload=False, access_log=access_log, proxy_headers=False)


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date (alembic upgrade head)."""
    settings = get_settings()
    _migrate(settings)
    typer.echo(f"Database is up to date: {make_url(settings.database_url).render_as_string(hide_password=True)}")


@cli.command()
def demo() -> None:
    """Load demo data (a street with a compound and a village) into an empty database."""
    _migrate(get_settings())
    _load_demo(only_if_empty=False)


@cli.command("create-admin")
def create_admin(
    phone: Annotated[str, typer.Argument(help="Mobile number, e.g. 13800000000.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    username: Annotated[str | None, typer.Option(help="Also allow password sign-in with this username.")] = None,
    password: Annotated[str | None, typer.Option(
        help="Password for --username; asked for (hidden) when left out.")] = None,
) -> None:
    """Make a person a platform admin, who may create regions and communities."""
    from sqlalchemy.exc import IntegrityError

    from app.accounts import service as accounts_service

    phone = phone.replace(" ", "").replace("-", "")
    if not PHONE.match(phone):
        raise typer.BadParameter(f"{phone!r} is not a mainland mobile number (11 digits, 1[3-9]…)",
                                 param_hint="PHONE")
    if password is not None and not username:
        raise typer.BadParameter("a password needs a --username to sign in with", param_hint="--password")
    if username and password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if password is not None and len(password) < MIN_PASSWORD:
        raise _fail(f"The password is too short: use at least {MIN_PASSWORD} characters.")

    async def work(session: AsyncSession) -> str:
        person = await accounts_service.create_admin(session, phone, name=name, username=username,
                                                     password=password)
        return person.id

    try:
        person_id = in_session(work)
    except IntegrityError as exc:
        raise _fail(f"The username {username!r} belongs to someone else; choose another.") from exc
    typer.echo(f"Platform admin ready: {phone}{f' ({name})' if name else ''}, id {person_id}. "
               + (f"Sign in with username {username!r} and the password, or " if username else "Sign in ")
               + "with the phone and a one-time code.")


@cli.command("import-roster")
def import_roster(
    community_id: Annotated[str, typer.Argument(help="The community's id.")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="Roster 住户花名册 as CSV (UTF-8 or GBK) or XLSX.")],
    lang: Annotated[str, typer.Option(help="Language of the messages: zh-CN or en.")] = "zh-CN",
) -> None:
    """Import a household roster; a file with any bad row is rejected whole, with line numbers."""
    from app.communities import service as communities_service
    from app.communities.schemas import RosterImportResult
    from app.core.errors import AppError
    from app.core.i18n import negotiate, t

    locale = negotiate(lang)
    content = file.read_bytes()

    async def work(session: AsyncSession) -> RosterImportResult | None:
        if await communities_service.get_community(session, community_id) is None:
            return None
        return await communities_service.import_roster(session, None, community_id, content, file.name, locale)

    try:
        result = in_session(work)
    except AppError as exc:
        typer.secho(t(exc.message_key, locale, **exc.params), fg=typer.colors.RED, err=True)
        for e in exc.errors:
            where = f"line {e['line']}" if "line" in e else "file"
            loc = e.get("loc") or []
            field = f" [{loc[2]}]" if len(loc) > 2 else ""
            typer.echo(f"  {where}{field}: {e['msg']}", err=True)
        raise typer.Exit(1) from exc
    if result is None:
        raise _fail(f"No community with id {community_id!r}.")
    typer.echo(f"Roster imported: {result.residents} people, {result.households_created} households created, "
               f"{result.households_updated} updated, {result.members_linked} members linked to their household.")


@cli.command()
def sweep() -> None:
    """Escalate overdue issues; open, close and finalise polls that are due; expire unclaimed store orders
    (refunded) and points past the community's expiry rule (the server does this every minute)."""
    from app.core import clock
    from app.issues import scheduled
    from app.polls import scheduled as polls_scheduled

    result = in_session(lambda session: scheduled.sweep(session, clock.now()))
    if not result.ran:
        typer.echo("Another process is sweeping right now (it holds the lease); nothing done.")
    elif result.escalated:
        typer.echo(f"Escalated {len(result.escalated)} overdue issue(s): {', '.join(result.escalated)}")
    else:
        typer.echo("No overdue issues to escalate.")
    polls = in_session(lambda session: polls_scheduled.sweep(session, clock.now(), holder=scheduled.holder_id()))
    if polls.ran:
        typer.echo(f"Polls: {len(polls.opened)} opened, {len(polls.closed)} closed, "
                   f"{len(polls.finalised)} made final.")
    from app.points import scheduled as points_scheduled

    points = in_session(lambda session: points_scheduled.sweep(session, clock.now(), holder=scheduled.holder_id()))
    if points.ran and (points.expired_orders or points.reminded_orders or points.expired_entries):
        typer.echo(f"Points: {len(points.expired_orders)} unclaimed order(s) expired and refunded, "
                   f"{len(points.reminded_orders)} reminded, {points.expired_entries} expiry entr(ies) written.")


@cli.command("verify-poll")
def verify_poll(
    source: Annotated[str, typer.Argument(help="A chain download (JSON file or URL), or a poll id in this database")],
    token: Annotated[str | None, typer.Option(help="An access token, to read an open poll's chain as a member")] = None,
) -> None:
    """Recompute a poll's hash chain and its count from the anonymised ballots, and compare them
    with the published result. Exit 0 when everything matches, 1 when anything does not.

    A closed poll's chain is public: https://<server>/api/v1/polls/<poll id>/chain needs no token."""
    from app.polls import verify

    if source.startswith(("http://", "https://")):
        data = _download(source, token)
    elif Path(source).exists():
        import json

        data = json.loads(Path(source).read_text(encoding="utf-8"))
    else:
        data = in_session(lambda session: verify.download_from_db(session, source))
    report = verify.verify_download(data)
    for line in report.lines:
        typer.echo(line)
    raise typer.Exit(0 if report.ok else 1)


@cli.command("verify-ledger")
def verify_ledger() -> None:
    """Recompute every points and hours balance (and every honour board total) from the ledger's
    entries and report each difference. Exit 0 when all match, 1 when any does not."""
    from app.core import db
    from app.points import verify

    settings = get_settings()

    async def go() -> verify.Report:
        engine = db.make_engine(settings.database_url, pool_size=1, max_overflow=0)
        try:
            return await verify.verify(engine)
        finally:
            await engine.dispose()

    report = asyncio.run(go())
    for line in report.lines():
        typer.echo(line)
    raise typer.Exit(0 if report.ok else 1)


def _download(url: str, token: str | None) -> dict[str, Any]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        r = httpx.get(url, headers=headers, timeout=60)
    except httpx.HTTPError as e:
        raise _fail(f"could not download {url}: {e}") from e
    if r.status_code in (401, 403, 404):
        hint = ("a closed poll's chain is public at /api/v1/polls/<poll id>/chain; an open poll's needs a member's "
                "token (--token) at /api/v1/communities/<community id>/polls/<poll id>/chain")
        raise _fail(f"{url} answered {r.status_code}: the poll is not closed yet, or does not exist here. {hint}")
    if r.status_code != 200 or not r.headers.get("content-type", "").startswith("application/json"):
        raise _fail(f"{url} answered {r.status_code} ({r.headers.get('content-type', '?')}), not a chain download")
    data: dict[str, Any] = r.json()
    return data


@cli.command()
def backup(
    directory: Annotated[Path, typer.Argument(help="A new directory to write the backup into.")],
) -> None:
    """Back up the database and the uploaded media into a new directory, while the server keeps running.
    The secret key is not in the backup: keep it apart."""
    from app.core import backup as backups

    try:
        manifest = backups.take_backup(get_settings(), directory)
    except backups.BackupError as exc:
        raise _fail(str(exc)) from exc
    rows = sum(manifest["tables"].values())
    typer.secho(f"Backup written to {directory}: {rows} rows in {len(manifest['tables'])} tables "
                f"({manifest['engine']}, schema {manifest['schema_revision']}), {manifest['media']['files']} media "
                f"files ({manifest['media']['bytes'] / 1e6:.1f} MB).", fg=typer.colors.GREEN)
    typer.echo(f"The secret key is not in it (fingerprint {manifest['secret_key_fingerprint']}): keep it apart.")


@cli.command()
def restore(
    directory: Annotated[Path, typer.Argument(help="A directory written by `wugong backup`.")],
    force: Annotated[bool, typer.Option(
        "--force", help="Replace a database and media directory that are not empty (everything in them is lost).")
    ] = False,
    check: Annotated[bool, typer.Option(
        "--check", help="Only check the backup against its manifest; change nothing.")] = False,
) -> None:
    """Restore a backup into an empty database and data directory (stop the server first). A backup of an
    older schema is migrated; one of a newer schema is refused."""
    from app.core import backup as backups

    settings = get_settings()
    try:
        if check:
            manifest = backups.check_backup(directory)
            typer.secho(f"The backup in {directory} is whole: {len(manifest['files'])} files match the manifest "
                        f"({manifest['engine']}, schema {manifest['schema_revision']}, taken "
                        f"{manifest['created_at']}).", fg=typer.colors.GREEN)
            return
        _ensure_data_dir(settings)
        restored = backups.restore_backup(settings, directory, force=force)
    except backups.BackupError as exc:
        raise _fail(str(exc)) from exc
    manifest = restored.manifest
    typer.secho(f"Restored the backup taken {manifest['created_at']}: {sum(manifest['tables'].values())} rows in "
                f"{len(manifest['tables'])} tables, {manifest['media']['files']} media files.",
                fg=typer.colors.GREEN)
    if restored.migrated_from:
        typer.echo(f"The schema was migrated from revision {restored.migrated_from} to {restored.head}.")
    if not restored.key_matches:
        typer.secho(
            f"Warning: this backup was taken under another secret key (fingerprint "
            f"{manifest['secret_key_fingerprint']}; the key set now is "
            f"{backups.key_fingerprint(settings.secret_key)}). "
            "Closed polls need nothing, but an open secret poll in this backup can be closed and counted only "
            "with the key it was taken under: set WUGONG_SECRET_KEY to that key before starting the server. "
            "Everyone will also have to sign in again.", fg=typer.colors.YELLOW, err=True)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
