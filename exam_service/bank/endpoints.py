"""The bank for examiners and admins. Candidates never reach these routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from exam_service.bank import service as bank_service
from exam_service.bank.presentation import candidate_view
from exam_service.bank.rendering import render_block
from exam_service.bank.repository import BlueprintRepository, ItemRepository
from exam_service.bank.schemas import (
    BlueprintRead,
    FormPreview,
    ItemSummary,
    ItemVersionRead,
    NewVersion,
    PreviewItem,
    PreviewRequest,
    PublishResult,
    Retire,
    VersionDiff,
)
from exam_service.core.database import SessionDep
from exam_service.core.deps import ClockDep
from exam_service.core.errors import BadRequest
from exam_service.core.openapi import errors
from exam_service.identity.auth import ExaminerUser
from exam_service.models import BlueprintVersion, ItemVersion, VersionStatus

router = APIRouter(prefix="/api/v1/bank", tags=["bank"])
ItemId = Annotated[str, Path(pattern=r"^[A-Z]{1,3}-[A-Z0-9]{2,12}-[0-9]{3}$")]


def _read(row: ItemVersion) -> ItemVersionRead:
    return ItemVersionRead(
        id=row.id,
        item_id=row.item_id,
        version=row.version,
        status=row.status,
        content_hash=row.content_hash,
        author=row.author,
        change_note=row.change_note,
        created_at=row.created_at,
        retired_at=row.retired_at,
        retired_by=row.retired_by,
        content=row.payload,
        stem_html=render_block(str(row.payload.get("stem", ""))),
        source=row.payload.get("source"),
    )


def _blueprint(row: BlueprintVersion) -> BlueprintRead:
    return BlueprintRead(
        id=row.id,
        key=row.key,
        version=row.version,
        tier=row.tier,
        status=row.status,
        created_at=row.created_at,
        content=row.payload,
    )


@router.get("/items", response_model=list[ItemSummary])
async def search_items(
    session: SessionDep,
    _examiner: ExaminerUser,
    tier: str | None = None,
    domain: str | None = None,
    tag: str | None = None,
    type: str | None = None,
    status: VersionStatus | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[ItemSummary]:
    rows = await ItemRepository(session).latest_versions(
        tier=tier, domain=domain, tag=tag, item_type=type, status=status, text=q, limit=limit, offset=offset
    )
    return [
        ItemSummary(
            item_id=r.item_id,
            version=r.version,
            tier=r.tier,
            domain=r.domain,
            type=r.type,
            tracks=[t for t in r.tracks.split(",") if t],
            status=r.status,
            stem=r.payload["stem"][:200],
        )
        for r in rows
    ]


@router.post("/items", response_model=PublishResult, status_code=status.HTTP_201_CREATED)
async def create_item(session: SessionDep, examiner: ExaminerUser, data: NewVersion, clock: ClockDep) -> PublishResult:
    if await ItemRepository(session).get_item(data.content.id) is not None:
        raise BadRequest(f"item {data.content.id} exists; publish a new version instead", field="content.id")
    by = bank_service.Authorship(examiner.email, data.change_note)
    row, outcome = await bank_service.publish_item(session, data.content, by, clock)
    return PublishResult(outcome=outcome, version=_read(row))


@router.get("/items/{item_id}", response_model=ItemVersionRead)
async def read_item(session: SessionDep, _examiner: ExaminerUser, item_id: ItemId) -> ItemVersionRead:
    return _read(await bank_service.get_version(session, item_id))


@router.get("/items/{item_id}/versions", response_model=list[ItemVersionRead])
async def item_history(session: SessionDep, _examiner: ExaminerUser, item_id: ItemId) -> list[ItemVersionRead]:
    return [_read(v) for v in await bank_service.history(session, item_id)]


@router.get("/items/{item_id}/versions/{version}", response_model=ItemVersionRead)
async def read_version(
    session: SessionDep, _examiner: ExaminerUser, item_id: ItemId, version: Annotated[int, Path(ge=1, le=1_000_000)]
) -> ItemVersionRead:
    return _read(await bank_service.get_version(session, item_id, version))


@router.post("/items/{item_id}/versions", response_model=PublishResult, responses=errors(409))
async def publish_version(
    session: SessionDep, examiner: ExaminerUser, item_id: ItemId, data: NewVersion, clock: ClockDep
) -> PublishResult:
    if data.content.id != item_id:
        raise BadRequest(f"content.id {data.content.id} does not match the item {item_id}", field="content.id")
    await bank_service.get_version(session, item_id)  # 404 for an unknown item
    by = bank_service.Authorship(examiner.email, data.change_note)
    row, outcome = await bank_service.publish_item(session, data.content, by, clock)
    return PublishResult(outcome=outcome, version=_read(row))


@router.post("/items/{item_id}/versions/{version}/retire", response_model=ItemVersionRead, responses=errors(409))
async def retire_version(
    session: SessionDep,
    examiner: ExaminerUser,
    item_id: ItemId,
    version: Annotated[int, Path(ge=1, le=1_000_000)],
    data: Retire,
    clock: ClockDep,
) -> ItemVersionRead:
    row = await bank_service.retire_version(session, item_id, version, f"{examiner.email}: {data.reason}", clock)
    return _read(row)


@router.get("/items/{item_id}/diff", response_model=VersionDiff)
async def diff_versions(
    session: SessionDep,
    _examiner: ExaminerUser,
    item_id: ItemId,
    from_version: Annotated[int, Query(alias="from", ge=1, le=1_000_000)],
    to_version: Annotated[int, Query(alias="to", ge=1, le=1_000_000)],
) -> VersionDiff:
    lines = await bank_service.diff(session, item_id, from_version, to_version)
    return VersionDiff(item_id=item_id, from_version=from_version, to_version=to_version, diff=lines)


@router.get("/blueprints", response_model=list[BlueprintRead])
async def list_blueprints(session: SessionDep, _examiner: ExaminerUser) -> list[BlueprintRead]:
    return [_blueprint(b) for b in await BlueprintRepository(session).list_latest()]


@router.get("/blueprints/{key}", response_model=BlueprintRead)
async def read_blueprint(session: SessionDep, _examiner: ExaminerUser, key: str) -> BlueprintRead:
    return _blueprint(await bank_service.latest_blueprint(session, key))


@router.post("/blueprints/{key}/preview", response_model=FormPreview)
async def preview_form(session: SessionDep, _examiner: ExaminerUser, key: str, data: PreviewRequest) -> FormPreview:
    row = await bank_service.latest_blueprint(session, key)
    seed, assembled = await bank_service.assemble_for(session, row, data.candidate_id, data.seed)
    versions = await ItemRepository(session).versions_by_ids([a.item.version_id for a in assembled])
    return FormPreview(
        blueprint=row.key,
        blueprint_version=row.version,
        seed=seed,
        items=[
            PreviewItem(
                position=a.position,
                section=a.section,
                item_id=a.item.item_id,
                version=versions[a.item.version_id].version,
                candidate_view=candidate_view(a.item.payload, a.presentation),
                presentation=a.presentation,
            )
            for a in assembled
        ],
    )
