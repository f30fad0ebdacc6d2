"""Withdrawn items leave the pool for good; every form of a tier asks the same task time."""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.bank import service as bank_service
from exam_service.bank.assembly import PoolItem, PoolTooSmall, assemble, pool_of
from exam_service.bank.authoring import Blueprint, Retirement
from exam_service.bank.loader import load_path
from exam_service.bank.service import Authorship, item_from_payload
from exam_service.core.clock import FrozenClock
from exam_service.models import VersionStatus
from tests.factories import blueprint_payload, item_payload, synthetic_bank

BY = Authorship("author@example.org", "withdrawal")


def _write(folder: Path, name: str, data: Any) -> None:
    (folder / name).write_text(yaml.safe_dump(data, sort_keys=False))


def test_a_retired_id_is_refused_when_an_item_uses_it(tmp_path: Path) -> None:
    _write(tmp_path, "items.yaml", {"items": [item_payload("F-CONT-001"), item_payload("F-CONT-002")]})
    _write(tmp_path, "retired.yaml", {"retired": [{"id": "F-CONT-002", "reason": "repeats an Advanced item"}]})
    loaded = load_path(tmp_path)
    assert len(loaded.errors) == 1
    assert str(loaded.errors[0]).endswith("id: F-CONT-002 is retired; a retired id is never reused")
    assert [r.id for r in loaded.retired] == ["F-CONT-002"]


def test_a_retirement_needs_a_reason(tmp_path: Path) -> None:
    _write(tmp_path, "retired.yaml", {"retired": [{"id": "F-CONT-002", "reason": "no"}]})
    errors = [str(e) for e in load_path(tmp_path).errors]
    assert len(errors) == 1
    assert "reason" in errors[0]


async def test_importing_a_retirement_takes_the_item_out_of_the_pool(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    bank = [item_from_payload(p) for p in synthetic_bank(4, 1)]
    async with sessionmaker() as session, session.begin():
        await bank_service.import_content(session, bank, [], BY, clock)
    withdrawn = Retirement(id="F-CONT-002", reason="repeats an Advanced item word for word")
    survivors = [i for i in bank if i.id != withdrawn.id]
    async with sessionmaker() as session, session.begin():
        report = await bank_service.import_content(session, survivors, [], BY, clock, retired=[withdrawn])
    assert report.retired == ["F-CONT-002"]
    async with sessionmaker() as session:
        pool_ids = {p.item_id for p in await bank_service.pool(session, "foundation")}
        version = await bank_service.get_version(session, "F-CONT-002")
    assert "F-CONT-002" not in pool_ids
    assert len(pool_ids) == len(survivors)
    assert version.status is VersionStatus.retired
    assert version.retired_by is not None
    assert "repeats an Advanced item" in version.retired_by
    async with sessionmaker() as session, session.begin():
        again = await bank_service.import_content(session, survivors, [], BY, clock, retired=[withdrawn])
    assert again.retired == []  # already retired: nothing to do


def _tasks(minutes: list[int]) -> list[PoolItem]:
    pool = []
    for n, m in enumerate(minutes, start=1):
        payload = item_payload(f"F-TASK-{n:03d}", "serving", "performance_task", estimated_minutes=m)
        pool.append(
            PoolItem(uuid.uuid5(uuid.NAMESPACE_URL, payload["id"]), payload["id"], "serving", payload["type"], payload)
        )
    theory = [
        PoolItem(uuid.uuid5(uuid.NAMESPACE_URL, p["id"]), p["id"], p["domain"], p["type"], p)
        for p in synthetic_bank(2, 0)
    ]
    return theory + pool


def _blueprint(count: int, target: int, tolerance: int) -> Blueprint:
    payload = blueprint_payload(per_domain=1, tasks=count)
    payload["sections"][1]["task_minutes"] = {"target": target, "tolerance": tolerance}
    return Blueprint.model_validate(payload)


def test_every_form_s_tasks_add_up_to_the_quota() -> None:
    pool = _tasks([25, 40, 35, 45])  # pairs add up to 60..85 minutes
    blueprint = _blueprint(2, 75, 5)
    used: Counter[str] = Counter()
    for seed in range(200):
        form = assemble(blueprint, pool, seen=set(), seed=seed)
        tasks = [a.item for a in form if a.section == "performance"]
        assert len(tasks) == 2
        assert 70 <= sum(t.payload["estimated_minutes"] for t in tasks) <= 80
        used.update(t.item_id for t in tasks)
    assert set(used) == {"F-TASK-001", "F-TASK-002", "F-TASK-003", "F-TASK-004"}  # every task still serves


def test_a_quota_no_set_of_tasks_meets_names_the_section() -> None:
    with pytest.raises(PoolTooSmall) as raised:
        assemble(_blueprint(2, 120, 5), _tasks([25, 40, 35, 45]), seen=set(), seed=1)
    assert "no set of tasks adds up to 115-125 estimated minutes" in raised.value.detail


def test_task_minutes_belong_to_the_performance_section() -> None:
    payload = blueprint_payload()
    payload["sections"][0]["task_minutes"] = {"target": 40}
    with pytest.raises(ValueError, match="task_minutes applies to the performance section only"):
        Blueprint.model_validate(payload)


def test_the_shipped_blueprints_give_every_form_the_same_task_time() -> None:
    loaded = load_path(Path("question_bank"))
    for blueprint in loaded.blueprints:
        pool = pool_of(s.item for s in loaded.items if s.item.tier is blueprint.tier)
        minutes = {
            sum(
                a.item.payload["estimated_minutes"]
                for a in assemble(blueprint, pool, seen=set(), seed=seed)
                if a.section == "performance"
            )
            for seed in range(50)
        }
        section = next(s for s in blueprint.sections if s.id == "performance")
        assert section.task_minutes is not None
        assert max(minutes) - min(minutes) <= 2 * section.task_minutes.tolerance, (blueprint.id, minutes)
