from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from exam_service.core.text import Reason
from exam_service.credentials import openbadge
from exam_service.credentials.service import Status, Verification, status_of
from exam_service.models import Credential


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[Reason, Field(description="why the credential no longer stands; shown to anyone verifying it")]


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credential: Annotated[str, Field(min_length=1, max_length=50_000, description="the VC-JWT (compact JWS)")]


class CredentialRead(BaseModel):
    id: uuid.UUID
    candidate_id: uuid.UUID
    holder_name: str | None
    tier: str
    title: str
    attempt_id: uuid.UUID | None
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revocation_reason: str | None
    status: Status
    signed: bool  # False for a record older than signed credentials: nothing to download
    verification_url: str
    certificate_url: str

    @classmethod
    def build(cls, credential: Credential, urls: openbadge.Urls, now: datetime) -> CredentialRead:
        return cls(
            id=credential.id,
            candidate_id=credential.candidate_id,
            holder_name=credential.holder_name,
            tier=credential.tier,
            title=openbadge.title(credential.tier),
            attempt_id=credential.attempt_id,
            issued_at=credential.issued_at,
            expires_at=credential.expires_at,
            revoked_at=credential.revoked_at,
            revocation_reason=credential.revocation_reason,
            status=status_of(credential, now),
            signed=credential.token is not None,
            verification_url=urls.page(credential.id),
            certificate_url=urls.certificate(credential.id),
        )


class CredentialStaffRead(CredentialRead):
    revoked_by: uuid.UUID | None

    @classmethod
    def build(cls, credential: Credential, urls: openbadge.Urls, now: datetime) -> CredentialStaffRead:
        base = CredentialRead.build(credential, urls, now).model_dump()
        return cls(**base, revoked_by=credential.revoked_by)


class VerificationRead(BaseModel):
    valid: bool
    status: Status
    reason: str  # in plain words: why it is, or is not, valid
    credential_id: uuid.UUID | None = None
    holder_name: str | None = None
    tier: str | None = None
    title: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    revocation_reason: str | None = None
    verification_url: str | None = None

    @classmethod
    def build(cls, verification: Verification, urls: openbadge.Urls) -> VerificationRead:
        credential = verification.credential
        if credential is None:
            return cls(valid=False, status=verification.status, reason=verification.reason)
        return cls(
            valid=verification.valid,
            status=verification.status,
            reason=verification.reason,
            credential_id=credential.id,
            holder_name=credential.holder_name,
            tier=credential.tier,
            title=openbadge.title(credential.tier),
            issued_at=credential.issued_at,
            expires_at=credential.expires_at,
            revoked_at=credential.revoked_at,
            revocation_reason=credential.revocation_reason,
            verification_url=urls.page(credential.id),
        )
