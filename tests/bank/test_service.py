"""Versioning rules: immutable versions, idempotent imports, pinned forms, retirement."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.bank import service as bank_service
from exam_service.bank.assembly import PoolTooSmall
from exam_service.bank.authoring import Blueprint
from exam_service.bank.service import Authorship, item_from_payload
from exam_service.core.clock import FrozenClock
from exam_service.core.errors import Conflict
from exam_service.models import ItemVersion, Role, VersionStatus
from tests.factories import blueprint_payload, make_user, synthetic_bank

BY = Authorship("author@example.org", "initial import")


async def _import(
    sm: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    payloads: list[dict[str, object]],
    blueprints: list[Blueprint] | None = None,
) -> bank_service.ImportReport:
    async with sm() as session, session.begin():
        items = [item_from_payload(p) for p in payloads]
        return await bank_service.import_content(session, items, blueprints or [], BY, clock)


async def _version_count(sm: async_sessionmaker[AsyncSession]) -> int:
    async with sm() as session:
        return int((await session.execute(select(func.count()).select_from(ItemVersion))).scalar_one())


async def test_reimporting_the_same_content_publishes_nothing(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    bank = synthetic_bank(4, 2)
    first = await _import(sessionmaker, clock, bank)
    assert len(first.created) == len(bank)
    again = await _import(sessionmaker, clock, bank)
    assert (again.published, len(again.unchanged)) == (0, len(bank))
    assert await _version_count(sessionmaker) == len(bank)


async def test_editing_one_item_publishes_exactly_one_version_and_old_forms_keep_theirs(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    bank = synthetic_bank(4, 2)
    blueprint = Blueprint.model_validate(blueprint_payload(per_domain=4, tasks=1))
    await _import(sessionmaker, clock, bank, [blueprint])
    candidate = await make_user(sessionmaker, clock, Role.candidate)
    async with sessionmaker() as session, session.begin():
        row = await bank_service.latest_blueprint(session, "mlocp-foundation")
        form, _positions = await bank_service.create_form(session, row, candidate.id, clock, seed=7)
    edited = [dict(p) for p in bank]
    target = next(p for p in edited if p["id"] == "F-CONT-001")
    target["stem"] = "A reworded question about containers and their layers?"
    clock.advance(days=1)
    report = await _import(sessionmaker, clock, edited)
    assert (report.new_versions, report.created) == (["F-CONT-001"], [])
    assert await _version_count(sessionmaker) == len(bank) + 1
    async with sessionmaker() as session:
        pinned = {
            v.item_id: (v.version, v.payload["stem"]) for _f, v in await bank_service.form_items(session, form.id)
        }
        history = await bank_service.history(session, "F-CONT-001")
        lines = await bank_service.diff(session, "F-CONT-001", 1, 2)
    assert pinned["F-CONT-001"][0] == 1
    assert pinned["F-CONT-001"][1].startswith("Question F-CONT-001")
    assert [(v.version, v.status) for v in history] == [(1, VersionStatus.published), (2, VersionStatus.published)]
    assert "-stem: 'Question F-CONT-001: which statement about containers holds?'" in lines
    assert "+stem: A reworded question about containers and their layers?" in lines


async def test_a_retired_item_leaves_the_pool_but_keeps_its_history(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    await _import(sessionmaker, clock, synthetic_bank(2, 1))
    async with sessionmaker() as session, session.begin():
        await bank_service.retire_version(session, "F-LIFE-001", 1, "examiner: leaked", clock)
    async with sessionmaker() as session, session.begin():
        pool_ids = {p.item_id for p in await bank_service.pool(session, "foundation")}
        [retired] = await bank_service.history(session, "F-LIFE-001")
        with pytest.raises(Conflict, match="already retired"):
            await bank_service.retire_version(session, "F-LIFE-001", 1, "again", clock)
    assert "F-LIFE-001" not in pool_ids
    assert (retired.status, retired.retired_by) == (VersionStatus.retired, "examiner: leaked")


async def test_a_blueprint_the_pool_cannot_satisfy_rolls_back_the_whole_import(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    too_big = Blueprint.model_validate(blueprint_payload(per_domain=9, tasks=1))
    with pytest.raises(PoolTooSmall) as raised:
        await _import(sessionmaker, clock, synthetic_bank(3, 1), [too_big])
    assert raised.value.extra["domain"] == "lifecycle"
    assert raised.value.detail.startswith("blueprint mlocp-foundation: section theory")
    assert await _version_count(sessionmaker) == 0
