"""Whose address the per-address limits count: the peer's, unless WUGONG_TRUSTED_PROXIES names the
peer as a proxy, and then the client that the proxy says it serves (X-Forwarded-For)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select

from app.accounts.models import OtpCode
from app.core.config import Settings, get_settings
from app.main import create_app
from tests.accounts.support import API, client_at, fetch_all, request_code, settings_changed
from tests.factories import assert_problem

ROOT = Path(__file__).resolve().parents[2]


async def addresses() -> list[str]:
    return [c.ip for c in await fetch_all(select(OtpCode).order_by(OtpCode.id))]


async def test_a_spoofed_forwarded_for_neither_dodges_nor_triggers_address_limits(app, client):
    with settings_changed(otp_per_ip_hour=2):
        for n, spoof in enumerate(("198.51.100.1", "198.51.100.2")):
            r = await request_code(client, f"1380000010{n}", headers={"X-Forwarded-For": spoof})
            assert r.status_code == 202
        r = await request_code(client, "13800000109", headers={"X-Forwarded-For": "198.51.100.3"})
        assert_problem(r, 429, "otp_ip_hourly")
        assert await addresses() == ["203.0.113.7"] * 2
        # A peer naming the limited address, even from this host, is itself and is not limited.
        async with client_at(app, "127.0.0.1") as local:
            r = await request_code(local, "13800000109", headers={"X-Forwarded-For": "203.0.113.7"})
            assert r.status_code == 202
        assert await addresses() == ["203.0.113.7"] * 2 + ["127.0.0.1"]


@asynccontextmanager
async def behind_proxies(peer: str, proxies: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app configured with WUGONG_TRUSTED_PROXIES=proxies, calling from ``peer``."""
    app = create_app(get_settings().model_copy(update={"trusted_proxies": proxies}))
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def test_a_trusted_proxys_forwarded_for_names_the_client(app):
    with settings_changed(otp_per_ip_hour=1):
        async with behind_proxies("10.1.2.3", "10.0.0.0/8, 192.0.2.1") as proxy:
            # What the client wrote into the header itself stands before what the proxy saw.
            r = await request_code(proxy, "13800000101", headers={"X-Forwarded-For": "192.0.2.50, 198.51.100.9"})
            assert r.status_code == 202
            # Through two proxies we trust: the first address neither of them is.
            r = await request_code(proxy, "13800000102", headers={"X-Forwarded-For": "198.51.100.10, 192.0.2.1"})
            assert r.status_code == 202
            assert await addresses() == ["198.51.100.9", "198.51.100.10"]
            # The limits are the client's, not the proxy's.
            r = await request_code(proxy, "13800000103", headers={"X-Forwarded-For": "198.51.100.9"})
            assert_problem(r, 429, "otp_ip_hourly")
        # A peer that is not one of the proxies is believed no more than before.
        async with behind_proxies("203.0.113.7", "10.0.0.0/8") as direct:
            r = await request_code(direct, "13800000104", headers={"X-Forwarded-For": "198.51.100.11"})
            assert r.status_code == 202
        assert (await addresses())[-1] == "203.0.113.7"


def test_trusted_proxies_must_be_addresses_or_networks():
    assert Settings(trusted_proxies=" 127.0.0.1, ::1 ,10.0.0.0/8,fd00::/8").trusted_proxy_list == [
        "127.0.0.1", "::1", "10.0.0.0/8", "fd00::/8"]
    assert Settings().trusted_proxy_list == []
    for bad in ("localhost", "10.0.0.0/33", "10.0.0.1 10.0.0.2"):
        with pytest.raises(ValidationError, match="WUGONG_TRUSTED_PROXIES"):
            Settings(trusted_proxies=bad)


# --- the server as operators run it ---

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`wugong serve` on a SQLite directory of its own, one code per address an hour, no proxies."""
    port = _free_port()
    env = {**os.environ, "WUGONG_DATA_DIR": str(tmp_path), "WUGONG_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/w.db",
           "WUGONG_SMS_BACKEND": "memory", "WUGONG_OTP_PER_IP_HOUR": "1"}
    env.pop("WUGONG_REDIS_URL", None)
    env.pop("FORWARDED_ALLOW_IPS", None)
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-access-log"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_the_server_believes_no_forwarded_for_by_default_not_even_from_this_host(server):
    """uvicorn on its own trusts X-Forwarded-For from any loopback peer, so anyone on the server's
    host (or a careless proxy passing the header on) could choose their address."""
    r = httpx.post(f"{server}{API}/auth/otp", json={"phone": "13800000001"},
                   headers={"X-Forwarded-For": "198.51.100.1"})
    assert r.status_code == 202, r.text
    r = httpx.post(f"{server}{API}/auth/otp", json={"phone": "13800000002"},
                   headers={"X-Forwarded-For": "198.51.100.2", "Accept-Language": "en"})
    assert_problem(r, 429, "otp_ip_hourly")
