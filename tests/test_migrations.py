"""Migrations are the only source of schema: the migrated database must match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from exam_service.core.database import create_engine
from exam_service.models import Base


async def test_models_and_migrations_agree(database_url: str) -> None:
    engine = create_engine(database_url)

    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    def tables(connection: Connection) -> set[str]:
        return set(inspect(connection).get_table_names())

    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(diff) == []
            assert set(Base.metadata.tables) <= await connection.run_sync(tables)
    finally:
        await engine.dispose()
