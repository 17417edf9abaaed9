"""HTTP throughput and latency of Wugong against a bare FastAPI ceiling; prints JSON lines.

    .venv/bin/python bench/http_bench.py --db sqlite --workers 1 --concurrency 32 --duration 15

For each target it starts a fresh server (uvicorn, the given number of workers, on a free
127.0.0.1 port, access log off), warms it up, then runs the load generator in a separate
process for ``--duration`` seconds and prints one JSON object; a summary with the ratios to the
ceiling comes last. The database is new for every run: a temporary SQLite file, or the
PostgreSQL database named in ``--database-url``, dropped and created again. It is migrated and
loaded with the demo data (``wugong demo``); residents sign in with a one-time code read from
the server's log, staff with their password. See bench/README.md for how to read the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/wugong_bench"
TARGETS = ("me", "community", "ceiling")
RESIDENT_PHONE = "13800000005"  # the demo owner, on the roster of 幸福里社区
STAFF = (("committee", "wugong-demo"), ("grid", "wugong-demo"))
LOAD_GENERATOR = "--load-generator"  # how this script runs itself as the client process


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def wait_idle(seconds: float, below: float = 0.5) -> float:
    """Wait (up to ``seconds``) until the 1-minute load average drops below ``below``; return it."""
    deadline = time.monotonic() + seconds
    while loadavg() >= below and time.monotonic() < deadline:
        time.sleep(2)
    return loadavg()


# --- the load generator (runs in its own process) ----------------------------------------------

class _Raw:
    """One keep-alive HTTP/1.1 connection speaking just enough HTTP for GET and a JSON answer.

    An order of magnitude less client CPU per request than httpx, so that on a small machine
    the ceiling measures the server, not the load generator.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, request: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(request)
        status = int((await self.reader.readline()).split(b" ", 2)[1])
        length, chunked, close = 0, False, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = b"close" in value.lower()
        if chunked:
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                await self.reader.readexactly(size + 2)
            await self.reader.readline()
        else:
            await self.reader.readexactly(length)
        if close:
            await self.aclose()
        return status

    async def aclose(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def _drive(cfg: dict[str, Any]) -> dict[str, Any]:
    """Keep ``concurrency`` requests in flight (one connection each) until time or budget runs out."""
    concurrency: int = cfg["concurrency"]
    tokens: list[str] = cfg["tokens"] or [""]
    url = httpx.URL(cfg["base_url"])
    host, port = url.host, url.port or 80
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    budget = {"left": int(cfg["max_requests"])}
    errors = 0
    start = time.monotonic()
    deadline = start + float(cfg["duration"])

    async def worker(i: int) -> None:
        nonlocal errors
        n = i
        raw = _Raw(host, port) if cfg["client"] == "raw" else None
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=cfg["base_url"], limits=limits, timeout=30.0) as client:
            while budget["left"] > 0 and time.monotonic() < deadline:
                budget["left"] -= 1
                n += concurrency
                token = tokens[n % len(tokens)]
                t0 = time.perf_counter()
                try:
                    if raw is not None:
                        code = await asyncio.wait_for(raw.get(
                            f"GET {cfg['path']} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                            f"Authorization: Bearer {token}\r\n\r\n".encode()), 30)
                    else:
                        code = (await client.get(cfg["path"], headers={"Authorization": f"Bearer {token}"})
                                ).status_code
                    key = str(code)
                    if code != 200:
                        errors += 1
                except (httpx.HTTPError, OSError, ValueError, IndexError, asyncio.IncompleteReadError,
                        TimeoutError) as exc:
                    key = type(exc).__name__
                    errors += 1
                    if raw is not None:
                        await raw.aclose()
                latencies.append(time.perf_counter() - t0)
                statuses[key] = statuses.get(key, 0) + 1
        if raw is not None:
            await raw.aclose()

    cpu0 = os.times()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    elapsed = time.monotonic() - start
    cpu1 = os.times()
    return {"requests": len(latencies), "errors": errors, "statuses": statuses, "elapsed_s": elapsed,
            "latencies": latencies,
            "client_cpu_s": (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)}


def client_main(cfg_json: str) -> None:
    cfg = json.loads(cfg_json)
    try:
        import uvloop

        out = uvloop.run(_drive(cfg))
    except ImportError:
        out = asyncio.run(_drive(cfg))
    lat = sorted(out.pop("latencies"))
    out["latency_ms"] = _percentiles(lat)
    json.dump(out, sys.stdout)


def _percentiles(lat: list[float]) -> dict[str, float | None]:
    if not lat:
        return {"p50": None, "p95": None, "p99": None, "max": None, "mean": None}

    def q(p: float) -> float:
        return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 2)

    return {"p50": q(0.50), "p95": q(0.95), "p99": q(0.99), "max": round(lat[-1] * 1000, 2),
            "mean": round(statistics.fmean(lat) * 1000, 2)}


def run_client(base_url: str, path: str, tokens: list[str], args: argparse.Namespace,
               duration: float) -> dict[str, Any]:
    cfg = {"base_url": base_url, "path": path, "tokens": tokens, "concurrency": args.concurrency,
           "duration": duration, "max_requests": args.max_requests, "client": args.client}
    proc = subprocess.run([sys.executable, __file__, LOAD_GENERATOR, json.dumps(cfg)], capture_output=True,
                          text=True, timeout=duration + 120, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


# --- servers -------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def process_tree(root: int) -> list[int]:
    """``root`` and every process below it."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            pp = _ppid(int(entry.name))
            if pp is not None:
                parents.setdefault(pp, []).append(int(entry.name))
    out, frontier = [root], [root]
    while frontier:
        frontier = [c for p in frontier for c in parents.get(p, [])]
        out.extend(frontier)
    return out


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def postgres_cpu_seconds() -> float:
    """CPU used so far by every PostgreSQL process on this machine, including backends that have
    exited (the postmaster's reaped children): the database's share of a run, as a difference."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, rest = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        if head.endswith("(postgres"):
            f = rest.split()
            total += sum(int(x) for x in f[11:15])  # utime, stime, cutime, cstime
    return total / os.sysconf("SC_CLK_TCK")


class Server:
    """A uvicorn server in its own process group, stopped (the whole group) on exit."""

    def __init__(self, app: str, *, factory: bool, workers: int, env: dict[str, str], log: Path,
                 app_dir: Path | None = None) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = log
        cmd = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(self.port),
               "--workers", str(workers), "--no-access-log"]
        if factory:
            cmd.append("--factory")
        if app_dir is not None:
            cmd += ["--app-dir", str(app_dir)]
        self._log_file = log.open("w")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self._log_file, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not start:\n{self.log.read_text()[-3000:]}")

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log_file.close()

    def processes(self) -> list[int]:
        return process_tree(self.proc.pid)

    def peak_rss(self) -> dict[str, Any]:
        """VmHWM (peak resident set) of the server and every process it started."""
        per = {pid: round(_status_kb(pid, "VmHWM") / 1024, 1) for pid in self.processes()}
        return {"peak_rss_mb": round(sum(per.values()), 1), "peak_rss_mb_per_process": list(per.values())}

    def cpu_seconds(self) -> float:
        return sum(_cpu_seconds(pid) for pid in self.processes())


# --- setting up the database and signing in -------------------------------------------------------

def recreate_postgres(url: str) -> None:
    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.engine import make_url

    u = make_url(url)
    name = u.database
    if not name or not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise SystemExit(f"refusing database name {name!r}")
    admin_dsn = u.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)

    async def go() -> None:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(go())


def load_demo(env: dict[str, str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "app.cli", "demo"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"wugong demo failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")


def sign_in(server: Server) -> tuple[list[str], str]:
    """Tokens for a resident (one-time code read from the server log) and two staff; the compound's id."""
    tokens: list[str] = []
    with httpx.Client(base_url=server.base_url, timeout=30) as c:
        r = c.post("/api/v1/auth/otp", json={"phone": RESIDENT_PHONE})
        r.raise_for_status()
        pattern = re.compile(rf"SMS to {RESIDENT_PHONE}: code (\d{{6}})")
        code = None
        for _ in range(100):
            if m := pattern.search(server.log.read_text()):
                code = m.group(1)
                break
            time.sleep(0.1)
        if code is None:
            raise RuntimeError("no one-time code in the server log (is WUGONG_SMS_BACKEND=console?)")
        r = c.post("/api/v1/auth/token", json={"phone": RESIDENT_PHONE, "code": code})
        r.raise_for_status()
        tokens.append(r.json()["access_token"])
        for username, password in STAFF:
            r = c.post("/api/v1/auth/token", json={"username": username, "password": password})
            r.raise_for_status()
            tokens.append(r.json()["access_token"])
        me = c.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens[0]}"})
        me.raise_for_status()
        cid = next(m["community_id"] for m in me.json()["memberships"] if m["community_name"] == "幸福里社区")
    return tokens, cid


# --- the run -----------------------------------------------------------------------------------------

def bench_target(target: str, args: argparse.Namespace, env: dict[str, str], tmp: Path,
                 session: dict[str, Any]) -> dict[str, Any]:
    if target == "ceiling":
        server = Server("ceiling_app:app", factory=False, workers=args.workers, env=env,
                        log=tmp / "ceiling.log", app_dir=ROOT / "bench")
    else:
        server = Server("app.main:create_app", factory=True, workers=args.workers, env=env,
                        log=tmp / f"{target}.log")
    load_before = wait_idle(args.wait_idle)
    with server:
        if target != "ceiling" and "tokens" not in session:
            session["tokens"], session["cid"] = sign_in(server)
        tokens = session.get("tokens", []) if target != "ceiling" else ["ceiling-ignores-this"]
        path = {"me": "/api/v1/me", "community": f"/api/v1/communities/{session.get('cid')}",
                "ceiling": "/ceiling"}[target]
        check = httpx.get(server.base_url + path, headers={"Authorization": f"Bearer {tokens[0]}"}, timeout=30)
        if check.status_code != 200:
            raise RuntimeError(f"{target}: GET {path} answered {check.status_code}: {check.text[:500]}")
        if args.warmup > 0:
            run_client(server.base_url, path, tokens, args, args.warmup)
        cpu0 = server.cpu_seconds()
        out = run_client(server.base_url, path, tokens, args, args.duration)
        server_cpu = server.cpu_seconds() - cpu0
        rss = server.peak_rss()
    lat = out["latency_ms"]
    elapsed = out["elapsed_s"]
    return {
        "target": target, "db": args.db if target != "ceiling" else None, "workers": args.workers,
        "concurrency": args.concurrency, "requests": out["requests"], "errors": out["errors"],
        "rps": round(out["requests"] / elapsed, 1) if elapsed else 0.0,
        "p50_ms": lat["p50"], "p95_ms": lat["p95"], "p99_ms": lat["p99"], "max_ms": lat["max"],
        "mean_ms": lat["mean"], **rss,
        "server_cpu_pct": round(100 * server_cpu / elapsed, 1) if elapsed else None,
        "client_cpu_pct": round(100 * out["client_cpu_s"] / elapsed, 1) if elapsed else None,
        "duration_s": round(elapsed, 2), "statuses": out["statuses"], "client": args.client,
        "loadavg_before": load_before, "loadavg_after": loadavg(),
        "path": path.replace(str(session.get("cid")), "{cid}"),
    }


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == LOAD_GENERATOR:
        client_main(sys.argv[2])
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--database-url", default=DEFAULT_PG, help="PostgreSQL database to drop and create")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--duration", type=float, default=15.0, help="seconds of measured load per target")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds of unmeasured load first")
    p.add_argument("--max-requests", type=int, default=1_000_000, help="stop a target after this many")
    p.add_argument("--target", choices=(*TARGETS, "all"), default="all")
    p.add_argument("--client", choices=("raw", "httpx"), default="raw",
                   help="httpx.AsyncClient per connection, or a minimal asyncio HTTP/1.1 client (less CPU)")
    p.add_argument("--wait-idle", type=float, default=0.0,
                   help="before each target, wait up to this many seconds for the machine to be idle")
    args = p.parse_args()
    if not (1 <= args.workers <= 16 and 1 <= args.concurrency <= 1024 and 0 < args.duration <= 600):
        p.error("workers 1–16, concurrency 1–1024, duration up to 600 s")

    targets = TARGETS if args.target == "all" else (args.target,)
    with tempfile.TemporaryDirectory(prefix="wugong-bench-") as tmp_name:
        tmp = Path(tmp_name)
        url = f"sqlite+aiosqlite:///{tmp / 'data' / 'wugong.db'}" if args.db == "sqlite" else args.database_url
        env = {**os.environ, "WUGONG_ENV": "development", "WUGONG_DATA_DIR": str(tmp / "data"),
               "WUGONG_DATABASE_URL": url, "WUGONG_SECRET_KEY": secrets.token_urlsafe(48),
               "WUGONG_SMS_BACKEND": "console", "WUGONG_ACCESS_TOKEN_MINUTES": "600",
               "PYTHONPATH": str(ROOT)}
        env.pop("WUGONG_REDIS_URL", None)
        if any(t != "ceiling" for t in targets):
            if args.db == "postgres":
                recreate_postgres(url)
            load_demo(env)
        session: dict[str, Any] = {}
        results: dict[str, dict[str, Any]] = {}
        for target in targets:
            results[target] = bench_target(target, args, env, tmp, session)
            print(json.dumps(results[target], ensure_ascii=False), flush=True)

    summary: dict[str, Any] = {
        "target": "summary", "db": args.db, "workers": args.workers, "concurrency": args.concurrency,
        "duration_s": args.duration, "cpus": os.cpu_count(), "python": platform.python_version(),
        "client": f"{args.client}, one connection per concurrent request, in a separate process on the "
                  "same machine",
    }
    ceiling = results.get("ceiling")
    if ceiling and ceiling["rps"]:
        for t in ("me", "community"):
            if t in results:
                summary[f"{t}_rps_over_ceiling"] = round(results[t]["rps"] / ceiling["rps"], 3)
                if results[t]["p50_ms"] and ceiling["p50_ms"]:
                    summary[f"{t}_p50_over_ceiling"] = round(results[t]["p50_ms"] / ceiling["p50_ms"], 2)
    print(json.dumps(summary, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
