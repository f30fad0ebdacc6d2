"""Engine and session factory (built in the app's lifespan), and the per-request session.

Side effects wait for the commit: a service stages broker messages on its session
(``publish_after_commit``); they go out once the transaction has committed and are dropped
if it rolls back, so nothing is announced that the database does not hold.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

T = TypeVar("T")


class Publisher(Protocol):
    async def publish(self, channel: str, message: dict[str, Any]) -> None: ...


logger = logging.getLogger("exam_service.database")
_STAGED = "staged_messages"
_BROKER = "broker"


def create_engine(url: str, *, echo: bool = False, readonly: bool = False) -> AsyncEngine:
    """The engine; ``readonly`` (SQLite) gives connections that read a snapshot and never take the write lock."""
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)  # ./var on a fresh clone
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        if readonly:
            event.listen(engine.sync_engine, "connect", _sqlite_query_only)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_deferred if readonly else _sqlite_begin_immediate)
        return engine
    return create_async_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself, see below
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_query_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def _sqlite_begin_deferred(connection: Any) -> None:
    """A reader's transaction: one snapshot of the WAL for all its statements, no lock held."""
    connection.exec_driver_sql("BEGIN")


def _sqlite_begin_immediate(connection: Any) -> None:
    """Takes SQLite's write lock at BEGIN so two writers queue instead of failing mid-transaction."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


class QueuedSession(AsyncSession):
    """On SQLite, sessions of one process take turns (FIFO) instead of polling SQLite's lock.

    SQLite admits one writer at a time and its busy handler retries with growing sleeps, which
    turns contention into multi-second tail latencies; an asyncio lock queues them fairly.
    """

    async def __aenter__(self) -> QueuedSession:
        lock: asyncio.Lock | None = self.info.get("write_lock")
        if lock is not None:
            await lock.acquire()
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self.close()
        finally:
            lock: asyncio.Lock | None = self.info.get("write_lock")
            if lock is not None and lock.locked():
                lock.release()


def create_sessionmaker(engine: AsyncEngine, broker: Publisher | None = None) -> async_sessionmaker[AsyncSession]:
    """Sessions that publish their staged messages on ``broker`` after commit (none: dropped)."""
    info: dict[str, Any] = {_BROKER: broker}
    if engine.dialect.name == "sqlite":
        info["write_lock"] = asyncio.Lock()
    return async_sessionmaker(engine, class_=QueuedSession, expire_on_commit=False, autoflush=False, info=info)


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for reads only (``reading``): on SQLite they do not queue behind the writers."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def reading(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A read-only unit of work: a consistent snapshot, ended by closing (what was read stays readable)."""
    async with sessionmaker() as session:
        yield session


def publish_after_commit(session: AsyncSession, channel: str, message: dict[str, Any]) -> None:
    """Stages a broker message; it leaves only if the current transaction commits."""
    session.info.setdefault(_STAGED, []).append((channel, message))


async def checkpoint(session: AsyncSession) -> None:
    """Commits now and publishes what was staged: for decisions that must stand on their own.

    The clock's auto-submit uses it, so a request refused afterwards cannot undo the decision.
    """
    await session.commit()
    staged: list[tuple[str, dict[str, Any]]] = session.info.pop(_STAGED, [])
    broker: Publisher | None = session.info.get(_BROKER)
    if broker is None:
        return
    for channel, message in staged:
        try:
            await broker.publish(channel, message)
        except Exception:  # the log holds the event; subscribers fill gaps from it
            logger.exception("publishing after commit failed", extra={"channel": channel})


async def rollback(session: AsyncSession) -> None:
    session.info.pop(_STAGED, None)
    await session.rollback()


@asynccontextmanager
async def transaction(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work outside a request (sweeper, WebSocket message): commit and publish, or roll back."""
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await rollback(session)
            raise
        else:
            await checkpoint(session)


async def run_in_transaction(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """For commands: one engine, one transaction, committed only if ``work`` succeeds."""
    engine = create_engine(url)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            return await work(session)
    finally:
        await engine.dispose()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed before the response is sent, else rolled back."""
    async with transaction(request.app.state.sessionmaker) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


@dataclass(frozen=True)
class SessionFactories:
    """For a route that opens its own short units of work instead of one request session."""

    write: async_sessionmaker[AsyncSession]
    read: async_sessionmaker[AsyncSession]


async def get_session_factories(request: Request) -> SessionFactories:
    return SessionFactories(request.app.state.sessionmaker, request.app.state.read_sessionmaker)


Sessions = Annotated[SessionFactories, Depends(get_session_factories)]
