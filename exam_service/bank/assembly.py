"""Per-candidate form assembly: exact quotas, recorded seed, fresh items first, shuffled choices.

Pure functions over plain data, so the same seed and pool always give the same form.
"""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from exam_service.bank.authoring import ANY_DOMAIN, THEORY_TYPES, Blueprint, DomainQuota, Item, Section, TaskMinutes
from exam_service.core.errors import Unprocessable


class PoolTooSmall(Unprocessable):
    """The pool cannot fill a quota; names the section and domain that fail."""


@dataclass(frozen=True)
class PoolItem:
    version_id: uuid.UUID
    item_id: str
    domain: str
    type: str
    payload: dict[str, Any]

    @property
    def section(self) -> str:
        return "theory" if self.type in THEORY_TYPES else "performance"


def pool_of(items: Iterable[Item]) -> list[PoolItem]:
    """Authored items as a pool, each with a version id derived from its item id (previews, benchmarks)."""
    return [
        PoolItem(uuid.uuid5(uuid.NAMESPACE_URL, i.id), i.id, i.domain, i.type, i.model_dump(mode="json")) for i in items
    ]


@dataclass(frozen=True)
class AssembledItem:
    position: int
    section: str
    item: PoolItem
    presentation: dict[str, list[str]] = field(default_factory=dict)


def _candidates(pool: list[PoolItem], section: Section, quota: DomainQuota, taken: set[str]) -> list[PoolItem]:
    return sorted(
        (
            p
            for p in pool
            if p.section == section.id
            and p.item_id not in taken
            and (quota.domain == ANY_DOMAIN or p.domain == quota.domain)
        ),
        key=lambda p: p.item_id,
    )


def check_pool(blueprint: Blueprint, pool: list[PoolItem]) -> None:
    """Raises ``PoolTooSmall`` naming the first quota the pool cannot meet."""
    assemble(blueprint, pool, seen=set(), seed=0)


def assemble(blueprint: Blueprint, pool: list[PoolItem], *, seen: set[str], seed: int) -> list[AssembledItem]:
    rng = random.Random(seed)  # noqa: S311 - reproducible selection, not a secret
    chosen: list[tuple[str, PoolItem]] = []
    taken: set[str] = set()
    for section in blueprint.sections:
        # specific domains first, so an "any" slot never takes an item a named quota needs
        quotas = sorted(section.quotas, key=lambda q: q.domain == ANY_DOMAIN)
        picked: list[PoolItem] = []
        preferences: list[tuple[DomainQuota, list[PoolItem]]] = []
        for quota in quotas:
            candidates = _candidates(pool, section, quota, taken)
            if len(candidates) < quota.count:
                raise PoolTooSmall(
                    f"section {section.id}, domain {quota.domain}: needs {quota.count} items, "
                    f"the pool has {len(candidates)}",
                    section=section.id,
                    domain=quota.domain,
                    needed=quota.count,
                    available=len(candidates),
                )
            fresh = [c for c in candidates if c.item_id not in seen]
            repeat = [c for c in candidates if c.item_id in seen]
            rng.shuffle(fresh)
            rng.shuffle(repeat)
            preferences.append((quota, fresh + repeat))
            if section.task_minutes is None:
                selection = (fresh + repeat)[: quota.count]
                taken.update(p.item_id for p in selection)
                picked.extend(selection)
        if section.task_minutes is not None:
            picked = _fit_minutes(section.task_minutes, section.id, preferences)
            taken.update(p.item_id for p in picked)
        rng.shuffle(picked)
        chosen.extend((section.id, p) for p in picked)
    return [
        AssembledItem(position, section_id, item, presentation_for(item.payload, rng))
        for position, (section_id, item) in enumerate(chosen, start=1)
    ]


_SEARCH_LIMIT = 20_000  # combinations tried for a task-minutes quota before the pool is declared unfit


def _minutes(item: PoolItem) -> int:
    return int(item.payload.get("estimated_minutes") or 0)


def _fit_minutes(
    quota_minutes: TaskMinutes, section_id: str, preferences: list[tuple[DomainQuota, list[PoolItem]]]
) -> list[PoolItem]:
    """The most preferred set of tasks, one combination per quota, whose minutes fit the quota."""
    low = quota_minutes.target - quota_minutes.tolerance
    high = quota_minutes.target + quota_minutes.tolerance
    tried = 0

    def search(index: int, taken: list[PoolItem]) -> list[PoolItem] | None:
        nonlocal tried
        if index == len(preferences):
            tried += 1
            return taken if low <= sum(map(_minutes, taken)) <= high else None
        quota, ordered = preferences[index]
        free = [p for p in ordered if p not in taken]
        for combination in itertools.combinations(free, quota.count):  # in preference order
            if tried >= _SEARCH_LIMIT:
                return None
            found = search(index + 1, [*taken, *combination])
            if found is not None:
                return found
        return None

    found = search(0, [])
    if found is None:
        raise PoolTooSmall(
            f"section {section_id}: no set of tasks adds up to {low}-{high} estimated minutes",
            section=section_id,
            domain=ANY_DOMAIN,
            needed=sum(q.count for q, _ in preferences),
            available=len({p.item_id for _, ordered in preferences for p in ordered}),
        )
    return found


def presentation_for(payload: dict[str, Any], rng: random.Random) -> dict[str, list[str]]:
    """The order each option list is shown in; an ordering item never starts out solved."""
    kind = payload["type"]
    if kind in ("single_choice", "multiple_response"):
        return {"options": _shuffled([o["id"] for o in payload["options"]], rng)}
    if kind == "ordering":
        correct = [o["id"] for o in payload["options"]]
        shown = _shuffled(correct, rng)
        while shown == correct and len(correct) > 1:
            shown = _shuffled(correct, rng)
        return {"options": shown}
    if kind == "matching":
        return {
            "premises": _shuffled([p["id"] for p in payload["premises"]], rng),
            "responses": _shuffled([r["id"] for r in payload["responses"]], rng),
        }
    return {}


def _shuffled(ids: list[str], rng: random.Random) -> list[str]:
    copy = list(ids)
    rng.shuffle(copy)
    return copy
