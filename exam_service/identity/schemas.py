from __future__ import annotations

import uuid
from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema

from exam_service.models import Role


def _valid_email(value: str) -> str:
    """An address mail can be sent to, syntax-wise (no control characters, a real domain), lower-cased."""
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return checked.normalized.lower()


Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254),
    AfterValidator(_valid_email),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": 254}),
]
Password = Annotated[str, Field(min_length=12, max_length=256)]


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds until the access token expires")
    role: Role
    refresh_token: str = Field(description="trade it once at POST /api/v1/auth/refresh for a new pair")
    refresh_expires_in: int = Field(description="seconds until the sign-in session ends; sign in again after")


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: Annotated[str, StringConstraints(min_length=20, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]


class SessionsEnded(BaseModel):
    ended: int = Field(description="how many open sessions were ended")


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    full_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    role: Role
    password: Password
    extra_time_multiplier: Annotated[float, Field(ge=1.0, le=3.0)] = 1.0
    extra_time_minutes: Annotated[int, Field(ge=0, le=240)] = 0


class Accommodations(BaseModel):
    model_config = ConfigDict(extra="forbid")

    extra_time_multiplier: Annotated[float, Field(ge=1.0, le=3.0)] = 1.0
    extra_time_minutes: Annotated[int, Field(ge=0, le=240)] = 0


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str
    role: Role
    is_active: bool
    extra_time_multiplier: float
    extra_time_minutes: int
