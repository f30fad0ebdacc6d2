"""Publishing, retiring and reading item and blueprint versions; assembling forms."""

from __future__ import annotations

import difflib
import hashlib
import json
import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.bank.assembly import AssembledItem, PoolItem, PoolTooSmall, assemble, check_pool
from exam_service.bank.authoring import Blueprint, Item, Retirement, item_payload
from exam_service.bank.repository import BlueprintRepository, FormRepository, ItemRepository
from exam_service.core.clock import Clock
from exam_service.core.errors import BadRequest, Conflict, NotFound
from exam_service.models import BankItem, BlueprintVersion, Form, FormItem, ItemVersion, VersionStatus

ITEM_ADAPTER: TypeAdapter[Item] = TypeAdapter(Item)


def content_hash(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def item_from_payload(payload: dict[str, Any]) -> Item:
    return ITEM_ADAPTER.validate_python(payload)


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    new_versions: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    blueprints_published: list[str] = field(default_factory=list)
    blueprints_unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)

    @property
    def published(self) -> int:
        return len(self.created) + len(self.new_versions) + len(self.blueprints_published)


@dataclass(frozen=True)
class Authorship:
    author: str
    change_note: str


async def publish_item(session: AsyncSession, item: Item, by: Authorship, clock: Clock) -> tuple[ItemVersion, str]:
    """Publishes ``item`` as a new version unless its content equals the latest version.

    Returns the version and what happened: ``created``, ``new_version`` or ``unchanged``.
    """
    repo = ItemRepository(session)
    payload = item_payload(item)
    digest = content_hash(payload)
    existing = await repo.get_item(item.id)
    now = clock.now()
    if existing is not None and existing.withdrawn_at is not None:
        raise Conflict(
            f"item {item.id} was withdrawn from the bank ({existing.withdrawn_reason}); a withdrawn id is never "
            "published again: give the question a new id",
            field="id",
        )
    if existing is not None:
        latest = await repo.get_version(item.id, existing.latest_version)
        assert latest is not None
        if latest.content_hash == digest:
            return latest, "unchanged"
        if existing.tier != item.tier.value:
            raise Conflict(f"item {item.id} is a {existing.tier} item; a new version cannot move it", field="tier")
        existing.latest_version += 1
        existing.domain, existing.type = item.domain, item.type
        outcome, number = "new_version", existing.latest_version
    else:
        existing = BankItem(
            id=item.id,
            tier=item.tier.value,
            domain=item.domain,
            type=item.type,
            latest_version=1,
            created_at=now,
        )
        await repo.add_item(existing)
        outcome, number = "created", 1
    version = ItemVersion(
        item_id=item.id,
        version=number,
        tier=item.tier.value,
        domain=item.domain,
        type=item.type,
        tracks="," + ",".join(item.tracks) + ",",
        content_hash=digest,
        payload=payload,
        status=VersionStatus.published,
        author=by.author,
        change_note=by.change_note,
        created_at=now,
    )
    await repo.add_version(version)
    return version, outcome


async def publish_blueprint(
    session: AsyncSession, blueprint: Blueprint, by: Authorship, clock: Clock
) -> tuple[BlueprintVersion, bool]:
    repo = BlueprintRepository(session)
    payload = blueprint.model_dump(mode="json")
    digest = content_hash(payload)
    latest = await repo.latest(blueprint.id)
    if latest is not None and latest.content_hash == digest:
        return latest, False
    version = BlueprintVersion(
        key=blueprint.id,
        version=(latest.version + 1) if latest else 1,
        tier=blueprint.tier.value,
        content_hash=digest,
        payload=payload,
        status=VersionStatus.published,
        author=by.author,
        change_note=by.change_note,
        created_at=clock.now(),
    )
    await repo.add(version)
    return version, True


async def import_content(
    session: AsyncSession,
    items: Iterable[Item],
    blueprints: Iterable[Blueprint],
    by: Authorship,
    clock: Clock,
    progress: Callable[[str], None] | None = None,
    retired: Iterable[Retirement] = (),
) -> ImportReport:
    """Publishes what changed and retires what the bank withdrew; the caller's transaction makes it all or nothing."""
    report = ImportReport()
    for retirement in retired:
        if await _retire_latest(session, retirement, by, clock):
            report.retired.append(retirement.id)
    buckets = {"created": report.created, "new_version": report.new_versions, "unchanged": report.unchanged}
    for item in items:
        _version, outcome = await publish_item(session, item, by, clock)
        buckets[outcome].append(item.id)
        if progress:
            progress(item.id)
    for blueprint in blueprints:
        await check_blueprint(session, blueprint)
        _bp, published = await publish_blueprint(session, blueprint, by, clock)
        (report.blueprints_published if published else report.blueprints_unchanged).append(blueprint.id)
        if progress:
            progress(blueprint.id)
    return report


async def _retire_latest(session: AsyncSession, retirement: Retirement, by: Authorship, clock: Clock) -> bool:
    """Retires the newest version of a withdrawn item, if the database holds it still published."""
    repo = ItemRepository(session)
    item = await repo.get_item(retirement.id)
    if item is None or item.withdrawn_at is not None:
        return False
    item.withdrawn_at, item.withdrawn_reason = clock.now(), retirement.reason[:500]
    latest = await repo.get_version(item.id, item.latest_version)
    if latest is not None and latest.status is VersionStatus.published:
        _mark_retired(latest, f"{by.author}: {retirement.reason}", clock)
    await session.flush()
    return True


def _mark_retired(row: ItemVersion, by: str, clock: Clock) -> None:
    row.status, row.retired_at, row.retired_by = VersionStatus.retired, clock.now(), by[:200]


async def retire_version(session: AsyncSession, item_id: str, version: int, by: str, clock: Clock) -> ItemVersion:
    row = await ItemRepository(session).get_version(item_id, version)
    if row is None:
        raise NotFound(f"item {item_id} has no version {version}")
    if row.status is VersionStatus.retired:
        raise Conflict(f"{item_id} v{version} is already retired", status=row.status.value)
    _mark_retired(row, by, clock)
    await session.flush()
    return row


async def history(session: AsyncSession, item_id: str) -> list[ItemVersion]:
    versions = await ItemRepository(session).history(item_id)
    if not versions:
        raise NotFound(f"no item {item_id}")
    return versions


async def get_version(session: AsyncSession, item_id: str, version: int | None = None) -> ItemVersion:
    repo = ItemRepository(session)
    if version is None:
        item = await repo.get_item(item_id)
        version = item.latest_version if item else None
    row = await repo.get_version(item_id, version) if version is not None else None
    if row is None:
        raise NotFound(f"no item {item_id}" + (f" version {version}" if version else ""))
    return row


async def version_by_id(session: AsyncSession, version_id: uuid.UUID) -> ItemVersion:
    found = await ItemRepository(session).versions_by_ids([version_id])
    if version_id not in found:
        raise NotFound(f"no item version {version_id}")
    return found[version_id]


async def diff(session: AsyncSession, item_id: str, old: int, new: int) -> list[str]:
    before, after = await get_version(session, item_id, old), await get_version(session, item_id, new)

    def lines(row: ItemVersion) -> list[str]:
        return yaml.safe_dump(row.payload, sort_keys=False, allow_unicode=True, width=100).splitlines()

    return list(
        difflib.unified_diff(lines(before), lines(after), f"{item_id} v{old}", f"{item_id} v{new}", lineterm="")
    )


async def pool(session: AsyncSession, tier: str) -> list[PoolItem]:
    """Every item of the tier whose newest version is published (retired items are out)."""
    versions = await ItemRepository(session).latest_versions(tier=tier, status=VersionStatus.published)
    return [PoolItem(v.id, v.item_id, v.domain, v.type, v.payload) for v in versions]


async def check_blueprint(session: AsyncSession, blueprint: Blueprint) -> None:
    try:
        check_pool(blueprint, await pool(session, blueprint.tier.value))
    except PoolTooSmall as exc:
        raise PoolTooSmall(f"blueprint {blueprint.id}: {exc.detail}", blueprint=blueprint.id, **exc.extra) from exc


async def latest_blueprint(session: AsyncSession, key: str) -> BlueprintVersion:
    row = await BlueprintRepository(session).latest(key)
    if row is None:
        raise NotFound(f"no blueprint {key}")
    return row


async def blueprint_version(session: AsyncSession, key: str, version: int | None) -> BlueprintVersion:
    if version is None:
        return await latest_blueprint(session, key)
    row = await BlueprintRepository(session).get_version(key, version)
    if row is None:
        raise NotFound(f"no blueprint {key} version {version}", field="blueprint_version")
    return row


def blueprint_of(row: BlueprintVersion) -> Blueprint:
    return Blueprint.model_validate(row.payload)


async def assemble_for(
    session: AsyncSession,
    blueprint_row: BlueprintVersion,
    candidate_id: uuid.UUID | None,
    seed: int | None = None,
) -> tuple[int, list[AssembledItem]]:
    """Assembles (without saving) a form; items the candidate saw before are used last."""
    seed = seed if seed is not None else secrets.randbelow(2**31)
    seen = await FormRepository(session).item_ids_seen_by(candidate_id) if candidate_id else set()
    items = assemble(blueprint_of(blueprint_row), await pool(session, blueprint_row.tier), seen=seen, seed=seed)
    return seed, items


async def create_form(
    session: AsyncSession,
    blueprint_row: BlueprintVersion,
    candidate_id: uuid.UUID,
    clock: Clock,
    seed: int | None = None,
) -> tuple[Form, list[int]]:
    """Assembles and saves a candidate's form; returns it with its question positions."""
    if blueprint_row.status is not VersionStatus.published:
        raise BadRequest(f"blueprint {blueprint_row.key} v{blueprint_row.version} is retired")
    seed, assembled = await assemble_for(session, blueprint_row, candidate_id, seed)
    form = Form(
        id=uuid.uuid4(),
        candidate_id=candidate_id,
        blueprint_version_id=blueprint_row.id,
        seed=seed,
        created_at=clock.now(),
    )
    items = [
        FormItem(
            form_id=form.id,
            position=a.position,
            section=a.section,
            item_version_id=a.item.version_id,
            presentation=a.presentation,
        )
        for a in assembled
    ]
    return await FormRepository(session).add(form, items), [row.position for row in items]


async def form_items(
    session: AsyncSession, form_id: uuid.UUID, position: int | None = None
) -> list[tuple[FormItem, ItemVersion]]:
    """The form's pinned item versions in order (or just the one at ``position``)."""
    return await FormRepository(session).items_of(form_id, position)


async def published_bank(session: AsyncSession) -> tuple[list[Item], list[Blueprint]]:
    """The bank as candidates meet it: each item's and blueprint's newest published version."""
    versions = await ItemRepository(session).latest_versions(status=VersionStatus.published)
    blueprints = await BlueprintRepository(session).list_latest()
    return (
        [item_from_payload(v.payload) for v in versions],
        [Blueprint.model_validate(b.payload) for b in blueprints if b.status is VersionStatus.published],
    )
