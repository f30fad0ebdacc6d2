from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exam_service.models.base import Base, UUIDKey


class VersionStatus(enum.StrEnum):
    published = "published"
    retired = "retired"


class BankItem(Base):
    """A stable item id; its content lives in immutable versions."""

    __tablename__ = "bank_items"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tier: Mapped[str] = mapped_column(String(20), index=True)
    domain: Mapped[str] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(30))
    latest_version: Mapped[int]
    created_at: Mapped[datetime]
    # withdrawn for good by a retirement file: the id is never published again
    withdrawn_at: Mapped[datetime | None]
    withdrawn_reason: Mapped[str | None] = mapped_column(String(500))

    versions: Mapped[list[ItemVersion]] = relationship(
        back_populates="item", lazy="raise", order_by="ItemVersion.version"
    )


class ItemVersion(UUIDKey, Base):
    __tablename__ = "bank_item_versions"
    __table_args__ = (
        UniqueConstraint("item_id", "version"),
        Index("ix_bank_item_versions_tier_domain_status", "tier", "domain", "status"),
    )

    item_id: Mapped[str] = mapped_column(ForeignKey("bank_items.id"))
    version: Mapped[int]
    tier: Mapped[str] = mapped_column(String(20))
    domain: Mapped[str] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(30))
    tracks: Mapped[str] = mapped_column(String(200))  # ",DevOps,SRE," so a tag filter is a LIKE
    content_hash: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[VersionStatus] = mapped_column(Enum(VersionStatus, native_enum=False, length=20))
    author: Mapped[str] = mapped_column(String(200))
    change_note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]
    retired_by: Mapped[str | None] = mapped_column(String(200))

    item: Mapped[BankItem] = relationship(back_populates="versions", lazy="raise")


class BlueprintVersion(UUIDKey, Base):
    __tablename__ = "blueprint_versions"
    __table_args__ = (UniqueConstraint("key", "version"),)

    key: Mapped[str] = mapped_column(String(40))
    version: Mapped[int]
    tier: Mapped[str] = mapped_column(String(20), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[VersionStatus] = mapped_column(Enum(VersionStatus, native_enum=False, length=20))
    author: Mapped[str] = mapped_column(String(200))
    change_note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Form(UUIDKey, Base):
    """One candidate's exam paper: pinned item versions, their order and each choice order."""

    __tablename__ = "forms"

    candidate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    blueprint_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("blueprint_versions.id"))
    seed: Mapped[int]
    created_at: Mapped[datetime]

    items: Mapped[list[FormItem]] = relationship(back_populates="form", lazy="raise", order_by="FormItem.position")


class FormItem(Base):
    __tablename__ = "form_items"

    form_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("forms.id"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    section: Mapped[str] = mapped_column(String(20))
    item_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bank_item_versions.id"), index=True)
    # the order each option list is shown in, as authored ids: {"options": ["c", "a", "b"], ...}
    presentation: Mapped[dict[str, list[str]]] = mapped_column(JSON)

    form: Mapped[Form] = relationship(back_populates="items", lazy="raise")
    item_version: Mapped[ItemVersion] = relationship(lazy="raise")
