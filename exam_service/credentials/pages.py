"""The public verification page and the printable certificate, rendered on the server (no script needed)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from exam_service.core.database import SessionDep
from exam_service.core.deps import ClockDep
from exam_service.credentials import openbadge
from exam_service.credentials import service as credentials_service
from exam_service.credentials.keys import CredentialSigner, CredentialSignerDep
from exam_service.web.endpoints import _page

router = APIRouter(include_in_schema=False)

HEADLINES = {
    credentials_service.Status.valid: "Valid credential",
    credentials_service.Status.revoked: "Revoked credential",
    credentials_service.Status.expired: "Expired credential",
    credentials_service.Status.not_yet_valid: "Credential not yet valid",
    credentials_service.Status.invalid: "Credential does not verify",
    credentials_service.Status.unknown: "Unknown credential",
}


def _context(checked: credentials_service.Verification, signer: CredentialSigner) -> dict[str, object]:
    urls = openbadge.Urls(signer.base_url)
    context: dict[str, object] = {
        "status": checked.status.value,
        "headline": HEADLINES[checked.status],
        "reason": checked.reason,
        "jwks_url": urls.jwks,
        "issuer_name": openbadge.ISSUER_NAME,
        "key_id": signer.key_id,
    }
    credential = checked.credential
    if credential is not None:
        context |= {
            "credential_id": str(credential.id),
            "holder": credential.holder_name or "(name not recorded)",
            "title": openbadge.title(credential.tier),
            "tier": credential.tier.capitalize(),
            "issued": _date(credential.issued_at),
            "expires": _date(credential.expires_at),
            "revoked": _date(credential.revoked_at) if credential.revoked_at else None,
            "revocation_reason": credential.revocation_reason,
            "signed": credential.token is not None,
            "page_url": urls.page(credential.id),
            "status_url": urls.status(credential.id),
            "certificate_url": urls.certificate(credential.id),
        }
    return context


async def _checked(
    session: SessionDep, signer: CredentialSigner, clock: ClockDep, credential_id: uuid.UUID
) -> credentials_service.Verification:
    return await credentials_service.verify_id(session, signer, credential_id, clock.now())


@router.get("/credentials/{credential_id}", response_class=HTMLResponse)
async def credential_page(
    request: Request, session: SessionDep, signer: CredentialSignerDep, clock: ClockDep, credential_id: uuid.UUID
) -> HTMLResponse:
    """Anyone with the link sees whether the credential stands: valid, revoked (why, when), expired or unknown."""
    checked = await _checked(session, signer, clock, credential_id)
    response = _page(request, "credential.html", **_context(checked, signer))
    if checked.status is credentials_service.Status.unknown:
        response.status_code = 404
    return response


@router.get("/credentials/{credential_id}/certificate", response_class=HTMLResponse)
async def certificate_page(
    request: Request, session: SessionDep, signer: CredentialSignerDep, clock: ClockDep, credential_id: uuid.UUID
) -> HTMLResponse:
    """A printable certificate; one that no longer stands says so across its face."""
    checked = await _checked(session, signer, clock, credential_id)
    if checked.status is credentials_service.Status.unknown:
        response = _page(request, "credential.html", **_context(checked, signer))
        response.status_code = 404
        return response
    return _page(request, "certificate.html", **_context(checked, signer))


def _date(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return f"{moment.day} {moment:%B %Y}"
