"""A candidate with a credential, issued through the service as scoring issues it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import FrozenClock
from exam_service.credentials import service as credentials_service
from exam_service.credentials.keys import CredentialSigner
from exam_service.models import Credential, Role, User
from tests.delivery.helpers import sitting
from tests.factories import auth_headers


@dataclass
class Issued:
    credential: Credential
    candidate: User
    headers: dict[str, str]  # the holder's
    admin: dict[str, str]
    proctor: dict[str, str]
    attempt_id: uuid.UUID

    @property
    def id(self) -> uuid.UUID:
        return self.credential.id


def signer_of(client: httpx.AsyncClient) -> CredentialSigner:
    signer: CredentialSigner = client.app.state.credential_signer  # type: ignore[attr-defined]
    return signer


async def issue(
    client: httpx.AsyncClient,
    sm: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    *,
    tier: str = "foundation",
    validity_years: int = 3,
) -> Issued:
    """A registered sitting stands in for the released attempt scoring would pass on."""
    seat = await sitting(client, sm, clock, started=False)
    attempt_id = uuid.UUID(seat.attempt_id)
    async with sm() as session, session.begin():
        credential = await credentials_service.issue(
            session,
            signer_of(client),
            attempt_id=attempt_id,
            candidate=seat.candidate,
            tier=tier,
            validity_years=validity_years,
            now=clock.now(),
        )
    return Issued(credential, seat.candidate, seat.headers, seat.admin, seat.proctor, attempt_id)


async def examiner_headers(
    client: httpx.AsyncClient, sm: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> dict[str, str]:
    _, headers = await auth_headers(client, sm, clock, Role.examiner)
    return headers
