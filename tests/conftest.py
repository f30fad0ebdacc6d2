"""Shared fixtures: a freshly migrated database per test, the app on it, a movable clock.

Every test gets its own database: SQLite copies a file migrated once per run; PostgreSQL
(when ``EXAM_TEST_DATABASE_URL`` is set) clones a database migrated once per run as a template.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from exam_service.core.broker import Broker, InProcessBroker
from exam_service.core.clock import FrozenClock
from exam_service.core.database import create_engine, create_sessionmaker
from exam_service.core.migrate import upgrade_database
from exam_service.core.settings import Settings
from exam_service.main import create_app
from tests.factories import TEST_SECRET

PG_URL = os.environ.get("EXAM_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("EXAM_TEST_REDIS_URL")
NO_PG = "EXAM_TEST_DATABASE_URL is not set (PostgreSQL integration tests need it)"
NO_REDIS = "EXAM_TEST_REDIS_URL is not set (Redis integration tests need it)"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.integration),
]


def run_in_thread(coroutine: Coroutine[Any, Any, None]) -> None:
    """Session fixtures are first requested from inside a test's event loop."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    run_in_thread(upgrade_database(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    if not PG_URL:
        pytest.skip(NO_PG)
    name = f"exam_tpl_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await admin.dispose()
        await upgrade_database(_pg_url_for(name))

    run_in_thread(create())
    yield name
    run_in_thread(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _pg_url_for(name: str) -> str:
    assert PG_URL is not None
    return PG_URL.rsplit("/", 1)[0] + f"/{name}"


async def _pg_admin(sql: str) -> None:
    assert PG_URL is not None
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await admin.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextlib.asynccontextmanager
async def fresh_database(backend: str, request: pytest.FixtureRequest, folder: Path) -> AsyncIterator[str]:
    """A migrated database of its own, copied from the session's template; dropped afterwards."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = folder / "exam.db"
        shutil.copyfile(template, target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    template_name: str = request.getfixturevalue("pg_template")
    name = f"exam_t_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    try:
        yield _pg_url_for(name)
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with fresh_database(backend, request, tmp_path) as url:
        yield url


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return app_settings(database_url)


def app_settings(database_url: str, **overrides: Any) -> Settings:
    """What every test app runs with, unless a test says otherwise."""
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": database_url,
        "token_secret": TEST_SECRET,
        "max_body_bytes": 400_000,
        "sweep_interval_seconds": 0,
        "grading_dispatch": "off",  # grading tests run jobs themselves
        "scoring_interval_seconds": 0,  # and scoring tests score by hand
        "access_token_minutes": 600,  # sittings move the clock by hours
        "log_json": False,
        # the tests' own credential signing key, generated on first use (never the development key in var/)
        "credential_key_file": str(Path(tempfile.gettempdir()) / f"exam-test-credential-key-{os.getuid()}.pem"),
    }
    return Settings(**(values | overrides))


@pytest.fixture
def broker() -> Broker:
    return InProcessBroker()


@pytest.fixture
async def client(settings: Settings, clock: FrozenClock, broker: Broker) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, clock=clock, broker=broker)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            http.app = app  # type: ignore[attr-defined]
            yield http


@pytest.fixture
async def sessionmaker(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def redis_url() -> str:
    if not REDIS_URL:
        pytest.skip(NO_REDIS)
    return REDIS_URL
