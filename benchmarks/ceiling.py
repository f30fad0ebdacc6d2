"""A bare autosave endpoint on the service's own stack: the ceiling its save path is measured against.

    .venv/bin/python -m benchmarks.ceiling --database-url sqlite+aiosqlite:////tmp/ceiling.db --port 8100
    .venv/bin/python -m benchmarks.ceiling --database-url postgresql+asyncpg://postgres@127.0.0.1/db --workers 2

One route, ``PUT /api/v1/attempts/{attempt_id}/responses/{position}``, takes the service's body
(``SaveRequest``: revision, value, time_spent_seconds; an ``Authorization`` header is accepted
and ignored) and runs exactly one statement in one session per request: an upsert into its own
table, ``INSERT ... ON CONFLICT (attempt_id, position) DO UPDATE ... WHERE stored revision <
new revision RETURNING revision``, then commits, and answers the service's ``SaveResult`` (a stale revision, which the
benchmark never sends, also reads the stored one, as the service does). No authentication, no
attempt or form lookup, no middleware. ``GET /readyz`` answers once it serves.

The same stack and settings as ``exam-service serve``: FastAPI, SQLAlchemy 2 async, the engine
of ``exam_service.core.database.create_engine`` (SQLite: WAL, ``synchronous=FULL``, ``BEGIN
IMMEDIATE``; PostgreSQL: its pool of 10 + 20, default ``synchronous_commit=on``), uvicorn with
its default loop and HTTP implementation, the given worker count, ``log_config=None``, the
service's logging set up at ``EXAM_LOG_LEVEL`` (default WARNING) with the access log off, and
the service's garbage-collector thresholds.

Sessions come from ``exam_service.core.database.create_sessionmaker`` and each request runs in
its ``transaction``: on SQLite the sessions of one process therefore take turns through the same
FIFO asyncio lock as the service's (``QueuedSession``), one writer at a time, which is the
discipline the service itself runs under; any change made there applies here too.

The table (``ceiling_responses``) is dropped and created by the parent process before uvicorn
starts: a benchmark fixture, not the product's schema.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, Table, Uuid, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from exam_service.core.database import create_engine, create_sessionmaker, transaction
from exam_service.core.logging import configure_logging
from exam_service.delivery.endpoints import Position
from exam_service.delivery.schemas import SaveRequest, SaveResult

URL_VARIABLE = "BENCH_CEILING_DATABASE_URL"

metadata = MetaData()
responses = Table(
    "ceiling_responses",
    metadata,
    Column("attempt_id", Uuid, primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("value", JSON),
    Column("time_spent_seconds", Integer, nullable=False, default=0),
    Column("saved_at", DateTime(timezone=True)),
)


def upsert(dialect: str, attempt_id: uuid.UUID, position: int, data: SaveRequest, now: datetime) -> Any:
    """The one statement: insert, or update a stored answer of a lower revision; returns the revision."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(responses).values(
        attempt_id=attempt_id,
        position=position,
        revision=data.revision,
        value=data.value,
        time_spent_seconds=data.time_spent_seconds or 0,
        saved_at=now,
    )
    new = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[responses.c.attempt_id, responses.c.position],
        set_={
            "revision": new.revision,
            "value": new.value,
            "time_spent_seconds": new.time_spent_seconds,
            "saved_at": new.saved_at,
        },
        where=responses.c.revision < new.revision,
    ).returning(responses.c.revision)


def create_app(url: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(url)
        app.state.dialect = engine.dialect.name
        app.state.sessionmaker = create_sessionmaker(engine)
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.put("/api/v1/attempts/{attempt_id}/responses/{position}", response_model=SaveResult)
    async def save(request: Request, attempt_id: uuid.UUID, position: Position, data: SaveRequest) -> SaveResult:
        statement = upsert(request.app.state.dialect, attempt_id, position, data, datetime.now(UTC))
        async with transaction(request.app.state.sessionmaker) as session:
            applied = (await session.execute(statement)).scalar_one_or_none() is not None
            stored = data.revision
            if not applied:  # a stale revision: what is stored (the service reads it too); never in the benchmark
                key = (responses.c.attempt_id == attempt_id) & (responses.c.position == position)
                stored = (await session.execute(select(responses.c.revision).where(key))).scalar_one()
        return SaveResult(position=position, applied=applied, stored_revision=stored, remaining_seconds=None)

    @app.get("/readyz")
    async def ready() -> PlainTextResponse:
        return PlainTextResponse("ok")

    return app


def app_factory() -> FastAPI:
    """What each uvicorn worker builds; the database comes from ``BENCH_CEILING_DATABASE_URL``."""
    configure_logging(os.environ.get("EXAM_LOG_LEVEL", "WARNING"), as_json=False)
    gc.set_threshold(50_000, 20, 20)  # as exam_service.main.app_factory
    return create_app(os.environ[URL_VARIABLE])


async def create_table(url: str) -> None:
    engine: AsyncEngine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.drop_all)
            await connection.run_sync(metadata.create_all)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    asyncio.run(create_table(args.database_url))
    os.environ[URL_VARIABLE] = args.database_url
    # as exam_service/cli.py serve: default loop and HTTP implementation, no log config of uvicorn's own
    uvicorn.run(
        "benchmarks.ceiling:app_factory",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
