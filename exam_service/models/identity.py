from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from exam_service.models.base import Base, UUIDKey


class Role(enum.StrEnum):
    candidate = "candidate"
    proctor = "proctor"
    examiner = "examiner"
    admin = "admin"


class User(UUIDKey, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    # accommodations: the time limit is multiplied, then minutes are added
    extra_time_multiplier: Mapped[float] = mapped_column(default=1.0)
    extra_time_minutes: Mapped[int] = mapped_column(default=0)


class AuthSession(UUIDKey, Base):
    """One sign-in: every access and refresh token minted after one password check (a token family).

    Ending it (logout, an admin, a reused refresh token) refuses every token of the family at once.
    """

    __tablename__ = "auth_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    authenticated_at: Mapped[datetime]  # when the password was checked
    expires_at: Mapped[datetime] = mapped_column(index=True)  # no refresh after this
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(40))


class RefreshToken(Base):
    """A refresh token, stored as its SHA-256; each one is used once and names its successor."""

    __tablename__ = "auth_refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    replaced_by: Mapped[str | None] = mapped_column(String(64))


class LoginThrottle(Base):
    """Failed logins per key within a window: ``account:<email digest>``, ``address:<ip>`` or
    ``pair:<ip>|<email digest>`` (see ``identity.throttle``)."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    checking: Mapped[int] = mapped_column(default=0, server_default="0")  # of ``failures``: still being checked
    window_started_at: Mapped[datetime]
    last_failure_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
