"""Whose address a request is counted under: the peer's, or what trusted proxies forwarded."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.broker import Broker
from exam_service.core.clock import FrozenClock
from exam_service.core.deps import client_address
from exam_service.core.settings import Settings
from exam_service.main import create_app
from tests.factories import login, make_user
from tests.servers import Server, run_cli

WRONG = "not the password 123"


def address_of(peer: str, forwarded: list[str], trusted: list[str]) -> str:
    """The address the service sees for a request from ``peer`` carrying these X-Forwarded-For headers."""
    app = FastAPI()
    app.state.settings = Settings(trusted_proxies=trusted)
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    scope = {"type": "http", "app": app, "client": (peer, 5000), "headers": headers, "method": "POST", "path": "/"}
    return client_address(Request(scope))


def test_forwarded_addresses_are_believed_only_from_trusted_proxies() -> None:
    proxies = ["10.0.0.0/8", "2001:db8::/32"]
    # no trusted proxies: the header is the caller's own words
    assert address_of("127.0.0.1", ["198.51.100.9"], []) == "127.0.0.1"
    assert address_of("192.0.2.1", ["198.51.100.9"], proxies) == "192.0.2.1"
    # through a trusted proxy: the address it received from, not what the caller wrote before it
    assert address_of("10.1.2.3", ["198.51.100.9"], proxies) == "198.51.100.9"
    assert address_of("10.1.2.3", ["6.6.6.6, 7.7.7.7, 198.51.100.9"], proxies) == "198.51.100.9"
    assert address_of("10.1.2.3", ["6.6.6.6", "198.51.100.9"], proxies) == "198.51.100.9"  # repeated headers
    # a chain of trusted proxies is walked from the right
    assert address_of("10.1.2.3", ["6.6.6.6, 198.51.100.9, 10.9.9.9"], proxies) == "198.51.100.9"
    assert address_of("2001:db8::1", ["[2001:DB8:FFFF::7]:4711, 2001:db8::2"], ["2001:db8::/48"]) == "2001:db8:ffff::7"
    assert address_of("10.1.2.3", ["198.51.100.9:51234"], proxies) == "198.51.100.9"
    # junk where the proxy's entry should be, or no header: the proxy's own address
    assert address_of("10.1.2.3", ["198.51.100.9, not-an-address"], proxies) == "10.1.2.3"
    assert address_of("10.1.2.3", [], proxies) == "10.1.2.3"
    assert address_of("10.1.2.3", ["10.4.4.4"], proxies) == "10.1.2.3"
    # a malformed trusted entry is refused when the settings are read, naming it
    with pytest.raises(ValueError, match="'not a network' is not an IP address"):
        address_of("10.1.2.3", ["198.51.100.9"], ["not a network", "10.0.0.0/8"])


@pytest.fixture
async def behind_proxy(settings: Settings, clock: FrozenClock, broker: Broker) -> AsyncIterator[FastAPI]:
    app = create_app(settings.model_copy(update={"trusted_proxies": ["10.0.0.0/8"]}), clock=clock, broker=broker)
    async with app.router.lifespan_context(app):
        yield app


async def test_behind_a_trusted_proxy_each_caller_is_counted_under_its_own_address(
    behind_proxy: FastAPI, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_user(sessionmaker, clock)
    transport = httpx.ASGITransport(app=behind_proxy, client=("10.1.2.3", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as proxy:
        for n in range(5):  # a guesser who writes a new address of its own each time
            proxy.headers["X-Forwarded-For"] = f"192.0.2.{n}, 198.51.100.9"
            assert (await login(proxy, user.email, WRONG)).status_code == 401
        proxy.headers["X-Forwarded-For"] = "192.0.2.99, 198.51.100.9"
        assert (await login(proxy, user.email)).status_code == 429
        # the owner, through the same proxy from another address, is not held up
        proxy.headers["X-Forwarded-For"] = "198.51.100.10"
        assert (await login(proxy, user.email)).status_code == 200


@pytest.mark.slow
def test_the_served_app_ignores_forwarded_for_from_a_local_peer(tmp_path: Path) -> None:
    """uvicorn itself must not take X-Forwarded-For as the client (it trusts 127.0.0.1 by default)."""
    env = {
        **os.environ,
        "EXAM_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/exam.db",
        "EXAM_LOG_JSON": "false",
        "EXAM_SWEEP_INTERVAL_SECONDS": "0",
        "EXAM_SCORING_INTERVAL_SECONDS": "0",
        "EXAM_GRADING_DISPATCH": "off",
    }
    env.pop("EXAM_TRUSTED_PROXIES", None)
    env.pop("FORWARDED_ALLOW_IPS", None)
    assert run_cli(["db", "upgrade"], env).returncode == 0
    server = Server(env, tmp_path / "serve.log")
    server.start()
    try:
        codes = []
        for n in range(11):  # a new account and a new claimed address each time
            response = httpx.post(
                f"{server.base}/api/v1/auth/token",
                data={"username": f"someone{n}@example.org", "password": WRONG},
                headers={"X-Forwarded-For": f"198.51.100.{n}"},
                timeout=30,
            )
            codes.append(response.status_code)
    finally:
        server.stop()
    # every try came from 127.0.0.1, whatever the header said: ten accounts, then the address is locked
    assert codes == [401] * 10 + [429]
