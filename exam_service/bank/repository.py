from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Text, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.models import BankItem, BlueprintVersion, Form, FormItem, ItemVersion, VersionStatus


class ItemRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_item(self, item_id: str) -> BankItem | None:
        return await self.session.get(BankItem, item_id)

    async def get_version(self, item_id: str, version: int) -> ItemVersion | None:
        statement = select(ItemVersion).where(ItemVersion.item_id == item_id, ItemVersion.version == version)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def versions_by_ids(self, version_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, ItemVersion]:
        statement = select(ItemVersion).where(ItemVersion.id.in_(version_ids))
        return {v.id: v for v in (await self.session.execute(statement)).scalars()}

    async def history(self, item_id: str) -> list[ItemVersion]:
        statement = select(ItemVersion).where(ItemVersion.item_id == item_id).order_by(ItemVersion.version)
        return list((await self.session.execute(statement)).scalars())

    async def latest_versions(
        self,
        *,
        tier: str | None = None,
        domain: str | None = None,
        tag: str | None = None,
        item_type: str | None = None,
        status: VersionStatus | None = None,
        text: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[ItemVersion]:
        """The newest version of every item, filtered; the bank's search."""
        statement = (
            select(ItemVersion)
            .join(
                BankItem,
                (BankItem.id == ItemVersion.item_id) & (BankItem.latest_version == ItemVersion.version),
            )
            .order_by(ItemVersion.item_id)
            .offset(offset)
        )
        if tier:
            statement = statement.where(ItemVersion.tier == tier)
        if domain:
            statement = statement.where(ItemVersion.domain == domain)
        if tag:
            statement = statement.where(ItemVersion.tracks.contains(f",{tag},", autoescape=True))
        if item_type:
            statement = statement.where(ItemVersion.type == item_type)
        if status:
            statement = statement.where(ItemVersion.status == status)
        if text:
            statement = statement.where(
                func.lower(ItemVersion.item_id).contains(text.lower(), autoescape=True)
                | func.lower(cast(ItemVersion.payload, Text)).contains(text.lower(), autoescape=True)
            )
        if limit is not None:
            statement = statement.limit(limit)
        return list((await self.session.execute(statement)).scalars())

    async def add_item(self, item: BankItem) -> None:
        self.session.add(item)

    async def add_version(self, version: ItemVersion) -> None:
        self.session.add(version)
        await self.session.flush()


class BlueprintRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def latest(self, key: str) -> BlueprintVersion | None:
        statement = (
            select(BlueprintVersion)
            .where(BlueprintVersion.key == key)
            .order_by(BlueprintVersion.version.desc())
            .limit(1)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def get(self, blueprint_version_id: uuid.UUID) -> BlueprintVersion | None:
        return await self.session.get(BlueprintVersion, blueprint_version_id)

    async def get_version(self, key: str, version: int) -> BlueprintVersion | None:
        statement = select(BlueprintVersion).where(BlueprintVersion.key == key, BlueprintVersion.version == version)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def list_latest(self) -> list[BlueprintVersion]:
        newest = (
            select(BlueprintVersion.key, func.max(BlueprintVersion.version).label("version"))
            .group_by(BlueprintVersion.key)
            .subquery()
        )
        statement = (
            select(BlueprintVersion)
            .join(
                newest,
                (newest.c.key == BlueprintVersion.key) & (newest.c.version == BlueprintVersion.version),
            )
            .order_by(BlueprintVersion.key)
        )
        return list((await self.session.execute(statement)).scalars())

    async def add(self, blueprint: BlueprintVersion) -> None:
        self.session.add(blueprint)
        await self.session.flush()


class FormRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def item_ids_seen_by(self, candidate_id: uuid.UUID) -> set[str]:
        statement = (
            select(ItemVersion.item_id)
            .join(FormItem, FormItem.item_version_id == ItemVersion.id)
            .join(Form, Form.id == FormItem.form_id)
            .where(Form.candidate_id == candidate_id)
            .distinct()
        )
        return set((await self.session.execute(statement)).scalars())

    async def items_of(self, form_id: uuid.UUID, position: int | None = None) -> list[tuple[FormItem, ItemVersion]]:
        statement = (
            select(FormItem, ItemVersion)
            .join(ItemVersion, ItemVersion.id == FormItem.item_version_id)
            .where(FormItem.form_id == form_id)
            .order_by(FormItem.position)
        )
        if position is not None:
            statement = statement.where(FormItem.position == position)
        return [(row[0], row[1]) for row in (await self.session.execute(statement)).all()]

    async def add(self, form: Form, items: list[FormItem]) -> Form:
        self.session.add(form)
        await self.session.flush()
        self.session.add_all(items)
        await self.session.flush()
        return form
