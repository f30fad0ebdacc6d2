"""Scheduling's tables: exam windows, the proctors assigned to them, waivers and credentials."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from exam_service.models.base import Base, UUIDKey


class ExamWindow(UUIDKey, Base):
    __tablename__ = "exam_windows"

    title: Mapped[str] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(20))
    blueprint_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("blueprint_versions.id"))
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime] = mapped_column(index=True)
    proctored: Mapped[bool]
    capacity: Mapped[int | None]
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    # proctoring policy: the risk score from which a sitting goes to integrity review, whether
    # the clock stops while a candidate is disconnected, and how often the webcam is sampled
    risk_threshold: Mapped[int] = mapped_column(default=50)
    pause_on_disconnect: Mapped[bool] = mapped_column(default=False)
    webcam_interval_seconds: Mapped[int | None]


class WindowProctor(Base):
    """A proctor assigned to a window sees and acts on that window's sittings only."""

    __tablename__ = "window_proctors"

    window_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exam_windows.id"), primary_key=True)
    proctor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    assigned_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime]


class Waiver(UUIDKey, Base):
    """An examiner lets a candidate sit a tier without the previous tier's credential."""

    __tablename__ = "prerequisite_waivers"
    __table_args__ = (UniqueConstraint("candidate_id", "tier"),)

    candidate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    tier: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    granted_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime]


class Credential(UUIDKey, Base):
    """A tier passed, signed once at issue (``token``) so every copy is the same.

    An attempt has at most one standing (unrevoked) credential; a revoked one stays as it was,
    and a result passed again later earns a new one. ``holder_name`` is the name at issue; a
    revocation records who, when and why.
    """

    __tablename__ = "credentials"
    __table_args__ = (
        Index(
            "ix_credentials_attempt_id_standing",
            "attempt_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    candidate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    tier: Mapped[str] = mapped_column(String(20))
    attempt_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("attempts.id"))
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    holder_name: Mapped[str | None] = mapped_column(String(200))
    token: Mapped[str | None] = mapped_column(Text)  # the Open Badges VC-JWT, as issued
    revoked_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    revocation_reason: Mapped[str | None] = mapped_column(Text)
