"""Credentials: issued once per passed attempt, signed at issue, revoked with a reason, verifiable by anyone.

Scoring calls ``issue`` when an examiner releases a passing result and ``revoke_for_attempt``
when a result is invalidated; scheduling reads the rows (an unrevoked, unexpired credential of
the previous tier opens the next one). Verification says valid or not, and why, in plain words.
"""

from __future__ import annotations

import enum
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.bank.authoring import Tier
from exam_service.core.errors import Conflict, NotFound, Unprocessable
from exam_service.core.tokens import CredentialTokenError
from exam_service.credentials import openbadge
from exam_service.credentials.keys import CredentialSigner
from exam_service.credentials.repository import CredentialRepository
from exam_service.models import Credential, Role, User

UNKNOWN = "no credential with this id"
TOKEN_REASONS = {
    "signature": "the signature does not match: the credential was altered or not issued here",
    "unknown_key": "it is signed with a key this issuer does not publish: it was not issued here",
    "algorithm": "it is signed with an algorithm this issuer does not use (only ES256 is accepted)",
    "malformed": "this is not a signed credential (a VC-JWT: three base64url parts separated by dots)",
}


class Status(enum.StrEnum):
    valid = "valid"
    revoked = "revoked"
    expired = "expired"
    not_yet_valid = "not_yet_valid"
    invalid = "invalid"  # forged, altered or malformed
    unknown = "unknown"  # no such credential on record


@dataclass(frozen=True)
class Verification:
    status: Status
    reason: str
    credential: Credential | None = None

    @property
    def valid(self) -> bool:
        return self.status is Status.valid


def add_years(moment: datetime, years: int) -> datetime:
    """Calendar years; 29 February becomes 28 February in a year without it."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


async def issue(
    session: AsyncSession,
    signer: CredentialSigner,
    *,
    attempt_id: uuid.UUID,
    candidate: User,
    tier: str,
    validity_years: int,
    now: datetime,
    result_summary: dict[str, Any] | None = None,
) -> Credential:
    """The attempt's standing credential: the one it has, or one issued and signed now.

    A revoked credential is never revived: a result that passes again after a revocation earns a
    new credential. Callers hold the attempt's row lock; a unique index is the last guard against
    two standing at once. ``result_summary`` (name -> figure, e.g. {"percent": 82.5}) is stated in
    the credential as OB 3.0 results; leave it out to state only that the tier was passed.
    """
    repo = CredentialRepository(session)
    existing = await repo.standing_for_attempt(attempt_id)
    if existing is not None:
        if existing.candidate_id != candidate.id or existing.tier != tier:
            raise Conflict("this attempt already has a credential of another candidate or tier", field="attempt_id")
        return existing
    if tier not in {t.value for t in Tier}:
        raise Unprocessable(f"there is no tier {tier!r}", field="tier")
    if candidate.role is not Role.candidate:
        raise Unprocessable("credentials are issued to candidates only", field="candidate")
    if validity_years < 1:
        raise Unprocessable("a credential is valid for at least one year", field="validity_years")
    issued_at = now.astimezone(UTC).replace(microsecond=0)  # the JWT's NumericDates have whole seconds
    award = openbadge.Award(
        credential_id=uuid.uuid4(),
        holder_id=candidate.id,
        holder_name=candidate.full_name,
        holder_email=candidate.email,
        tier=tier,
        issued_at=issued_at,
        expires_at=add_years(issued_at, validity_years),
        results=result_summary,
    )
    document = openbadge.credential(award, openbadge.Urls(signer.base_url), salt=secrets.token_hex(16))
    return await repo.add(
        Credential(
            id=award.credential_id,
            candidate_id=candidate.id,
            tier=tier,
            attempt_id=attempt_id,
            issued_at=award.issued_at,
            expires_at=award.expires_at,
            holder_name=award.holder_name,
            token=signer.sign(openbadge.jwt_claims(document)),
        )
    )


async def revoke(session: AsyncSession, credential: Credential, actor: User | None, reason: str, now: datetime) -> None:
    """Records who revoked it, when and why; revoking twice is refused (the first reason stands)."""
    if credential.revoked_at is None:
        by = actor.id if actor is not None else None
        if await CredentialRepository(session).mark_revoked(credential.id, by=by, reason=reason, at=now):
            await session.refresh(credential)
            return
        await session.refresh(credential)
    assert credential.revoked_at is not None
    raise Conflict(f"this credential was already revoked on {_day(credential.revoked_at)}")


async def revoke_for_attempt(
    session: AsyncSession, attempt_id: uuid.UUID, actor: User | None, reason: str, now: datetime
) -> Credential | None:
    """An invalidated result takes its credential with it; one already revoked keeps its first reason.

    Returns the credential revoked now, else the attempt's latest (already revoked), else None.
    """
    repo = CredentialRepository(session)
    credential = await repo.standing_for_attempt(attempt_id)
    if credential is None:
        return await repo.latest_for_attempt(attempt_id)
    await revoke(session, credential, actor, reason, now)
    return credential


async def for_candidate(session: AsyncSession, candidate_id: uuid.UUID) -> list[Credential]:
    return await CredentialRepository(session).list(candidate_id=candidate_id)


async def search(
    session: AsyncSession, *, candidate_id: uuid.UUID | None = None, tier: str | None = None
) -> list[Credential]:
    return await CredentialRepository(session).list(candidate_id=candidate_id, tier=tier)


async def get(session: AsyncSession, credential_id: uuid.UUID) -> Credential:
    credential = await CredentialRepository(session).get(credential_id)
    if credential is None:
        raise NotFound(UNKNOWN, field="credential_id")
    return credential


def status_of(credential: Credential, now: datetime) -> Status:
    if credential.revoked_at is not None:
        return Status.revoked
    if now < credential.issued_at:
        return Status.not_yet_valid
    return Status.expired if now >= credential.expires_at else Status.valid


async def verify_token(session: AsyncSession, signer: CredentialSigner, token: str, now: datetime) -> Verification:
    """Signature (published keys only), the claims against the credential, then its record here."""
    try:
        claims = signer.verify(token.strip())
    except CredentialTokenError as exc:
        return Verification(Status.invalid, TOKEN_REASONS[exc.kind])
    problem = openbadge.check_claims(claims, openbadge.Urls(signer.base_url))
    if problem is not None:
        return Verification(Status.invalid, f"the credential is not consistent: {problem}")
    credential_id = openbadge.credential_uuid(claims)
    credential = await CredentialRepository(session).get(credential_id) if credential_id else None
    if credential is None:
        return Verification(Status.unknown, f"{UNKNOWN} is on record here")
    return explain(credential, now)


async def verify_id(
    session: AsyncSession, signer: CredentialSigner, credential_id: uuid.UUID, now: datetime
) -> Verification:
    credential = await CredentialRepository(session).get(credential_id)
    if credential is None:
        return Verification(Status.unknown, UNKNOWN)
    if credential.token is not None:
        checked = await verify_token(session, signer, credential.token, now)
        if checked.status is Status.invalid:
            reason = f"the credential on record does not verify: {checked.reason}"
            return Verification(Status.invalid, reason, credential)
    return explain(credential, now)


def explain(credential: Credential, now: datetime) -> Verification:
    status = status_of(credential, now)
    if status is Status.revoked:
        assert credential.revoked_at is not None
        reason = f"revoked on {_day(credential.revoked_at)}: {credential.revocation_reason or 'no reason recorded'}"
    elif status is Status.not_yet_valid:
        reason = f"not valid before {_day(credential.issued_at)}"
    elif status is Status.expired:
        reason = f"expired on {_day(credential.expires_at)}"
    else:
        holder = credential.holder_name or "its holder"
        reason = (
            f"valid: {openbadge.title(credential.tier)}, awarded to {holder} on {_day(credential.issued_at)}, "
            f"valid until {_day(credential.expires_at)}"
        )
    return Verification(status, reason, credential)


def _day(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return f"{moment.day} {moment:%B %Y}"
