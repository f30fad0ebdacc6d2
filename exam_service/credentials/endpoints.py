"""Credentials: anyone verifies, the holder and examiners download, examiners list and revoke.

``issuer_router`` serves the issuer's public documents outside ``/api/v1``: its keys as a JWKS at
the well-known address, and its Open Badges profile (the credentials' ``issuer.id``).
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from exam_service.bank.authoring import Tier
from exam_service.core.database import SessionDep
from exam_service.core.deps import ClockDep
from exam_service.core.errors import Forbidden, NotFound
from exam_service.core.openapi import TEXT, errors, media, raises
from exam_service.credentials import openbadge
from exam_service.credentials import service as credentials_service
from exam_service.credentials.keys import CredentialSigner, CredentialSignerDep
from exam_service.credentials.repository import CredentialRepository
from exam_service.credentials.schemas import (
    CredentialRead,
    CredentialStaffRead,
    RevokeRequest,
    VerificationRead,
    VerifyRequest,
)
from exam_service.identity.auth import CandidateUser, CurrentUser, ExaminerUser
from exam_service.models import Credential, Role

router = APIRouter(prefix="/api/v1", tags=["credentials"])
issuer_router = APIRouter(tags=["credentials"])

PUBLIC_DOCUMENT = {"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"}


@raises(403)
async def readable_credential(session: SessionDep, user: CurrentUser, credential_id: uuid.UUID) -> Credential:
    """The holder's own credential, or any for examiners and admins; another candidate's is not found."""
    repo = CredentialRepository(session)
    if user.role is Role.candidate:
        credential = await repo.owned(credential_id, user.id)
    elif user.role in (Role.examiner, Role.admin):
        credential = await repo.get(credential_id)
    else:
        raise Forbidden("this action needs the role candidate (the holder), examiner or admin")
    if credential is None:
        raise NotFound(credentials_service.UNKNOWN, field="credential_id")
    return credential


async def examined_credential(session: SessionDep, _examiner: ExaminerUser, credential_id: uuid.UUID) -> Credential:
    return await credentials_service.get(session, credential_id)


ReadableCredential = Annotated[Credential, Depends(readable_credential)]
ExaminedCredential = Annotated[Credential, Depends(examined_credential)]


def _urls(signer: CredentialSigner) -> openbadge.Urls:
    return openbadge.Urls(signer.base_url)


@issuer_router.get("/.well-known/jwks.json")
async def jwks(signer: CredentialSignerDep, response: Response) -> dict[str, list[dict[str, str]]]:
    """The public keys credentials are signed with (ES256); a key retired from signing stays listed."""
    response.headers.update(PUBLIC_DOCUMENT)
    return signer.jwks()


@issuer_router.get("/issuer")
async def issuer(signer: CredentialSignerDep, response: Response) -> dict[str, object]:
    """The Open Badges profile every credential names as its issuer."""
    response.headers.update(PUBLIC_DOCUMENT)
    return {"@context": openbadge.CONTEXT, **openbadge.issuer_profile(_urls(signer))}


@router.get("/credentials/{credential_id}/verification", response_model=VerificationRead)
async def verification(
    session: SessionDep, signer: CredentialSignerDep, clock: ClockDep, credential_id: uuid.UUID
) -> VerificationRead:
    """Public: whether the credential stands, and why not if it does not."""
    checked = await credentials_service.verify_id(session, signer, credential_id, clock.now())
    if checked.status is credentials_service.Status.unknown:
        raise NotFound(checked.reason, field="credential_id")
    return VerificationRead.build(checked, _urls(signer))


@router.post("/credentials/verify", response_model=VerificationRead)
async def verify(
    session: SessionDep, signer: CredentialSignerDep, clock: ClockDep, data: VerifyRequest
) -> VerificationRead:
    """Public: verifies a presented VC-JWT (signature, claims, then revocation and expiry here)."""
    checked = await credentials_service.verify_token(session, signer, data.credential, clock.now())
    return VerificationRead.build(checked, _urls(signer))


@router.get("/me/credentials", response_model=list[CredentialRead])
async def my_credentials(
    session: SessionDep, candidate: CandidateUser, signer: CredentialSignerDep, clock: ClockDep
) -> list[CredentialRead]:
    credentials = await credentials_service.for_candidate(session, candidate.id)
    return [CredentialRead.build(c, _urls(signer), clock.now()) for c in credentials]


@router.get(
    "/credentials/{credential_id}/download",
    responses=media(
        "The signed VC-JWT (``format=jwt``), or the OpenBadgeCredential it carries (``format=json``).",
        {"application/vc+jwt": TEXT, "application/json": {"type": "object"}},
    ),
)
async def download(
    credential: ReadableCredential, kind: Annotated[Literal["jwt", "json"], Query(alias="format")] = "jwt"
) -> Response:
    """The VC-JWT exactly as signed at issue; ``format=json``: the OpenBadgeCredential it carries."""
    if credential.token is None:
        raise NotFound("this credential was recorded before credentials were signed: there is no document")
    name = f"mlocp-{credential.tier}-{credential.id}"
    headers = {"Cache-Control": "no-store"}
    if kind == "json":
        document = openbadge.credential_of(CredentialSigner.read_unverified(credential.token))
        headers["Content-Disposition"] = f'attachment; filename="{name}.json"'
        return Response(json.dumps(document, indent=2), media_type="application/json", headers=headers)
    headers["Content-Disposition"] = f'attachment; filename="{name}.jwt"'
    return Response(credential.token, media_type="application/vc+jwt", headers=headers)


@router.get("/credentials", response_model=list[CredentialStaffRead])
async def list_credentials(
    session: SessionDep,
    _examiner: ExaminerUser,
    signer: CredentialSignerDep,
    clock: ClockDep,
    candidate_id: uuid.UUID | None = None,
    tier: Annotated[Tier | None, Query()] = None,
) -> list[CredentialStaffRead]:
    tier_name = tier.value if tier else None
    credentials = await credentials_service.search(session, candidate_id=candidate_id, tier=tier_name)
    return [CredentialStaffRead.build(c, _urls(signer), clock.now()) for c in credentials]


@router.post("/credentials/{credential_id}/revoke", response_model=CredentialStaffRead, responses=errors(409))
async def revoke(
    session: SessionDep,
    examiner: ExaminerUser,
    credential: ExaminedCredential,
    data: RevokeRequest,
    signer: CredentialSignerDep,
    clock: ClockDep,
) -> CredentialStaffRead:
    """Withdraws the credential for good; its pages and every verification say so, with the reason."""
    await credentials_service.revoke(session, credential, examiner, data.reason, clock.now())
    return CredentialStaffRead.build(credential, _urls(signer), clock.now())
