from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from exam_service.bank.authoring import Item, ItemSource
from exam_service.models import VersionStatus


class ItemSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    item_id: str
    version: int
    tier: str
    domain: str
    type: str
    tracks: list[str]
    status: VersionStatus
    stem: str


class ItemVersionRead(BaseModel):
    """An examiner's view: the whole authored content, keys and rationale included."""

    id: uuid.UUID
    item_id: str
    version: int
    status: VersionStatus
    content_hash: str
    author: str
    change_note: str
    created_at: datetime
    retired_at: datetime | None
    retired_by: str | None
    content: dict[str, Any]
    stem_html: str  # the stem rendered as candidates see it (sanitised HTML)
    source: ItemSource | None = None  # the identifier the item had in the tool it was imported from


class NewVersion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: Item
    change_note: str = Field(min_length=3, max_length=2000)


class PublishResult(BaseModel):
    outcome: str
    version: ItemVersionRead


class Retire(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=2000)


class VersionDiff(BaseModel):
    item_id: str
    from_version: int
    to_version: int
    diff: list[str]


class BlueprintRead(BaseModel):
    id: uuid.UUID
    key: str
    version: int
    tier: str
    status: VersionStatus
    created_at: datetime
    content: dict[str, Any]


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    candidate_id: uuid.UUID | None = None
    seed: int | None = Field(default=None, ge=0, lt=2**31)


class PreviewItem(BaseModel):
    position: int
    section: str
    item_id: str
    version: int
    candidate_view: dict[str, Any]
    presentation: dict[str, list[str]]


class FormPreview(BaseModel):
    blueprint: str
    blueprint_version: int
    seed: int
    items: list[PreviewItem]
