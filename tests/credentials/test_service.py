"""Issue, revoke and verify through the service, as scoring and the API use it."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from joserfc import jws
from joserfc.jwk import OctKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import FrozenClock
from exam_service.core.errors import Conflict
from exam_service.credentials import openbadge
from exam_service.credentials import service as credentials_service
from exam_service.credentials.keys import CredentialSigner, generate_key_pem
from exam_service.credentials.service import Status
from exam_service.scheduling import service as scheduling_service
from tests.credentials.helpers import issue, signer_of


def _segment(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _altered(token: str, **changes: object) -> str:
    """The same signature over a payload someone edited."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return ".".join((header, _segment(claims | changes), signature))


def test_calendar_years_keep_the_day_and_29_february_becomes_28() -> None:
    def day(year: int, month: int, day: int) -> datetime:
        return datetime(year, month, day, 9, tzinfo=UTC)

    assert credentials_service.add_years(day(2026, 5, 31), 3) == day(2029, 5, 31)
    assert credentials_service.add_years(day(2028, 2, 29), 3) == day(2031, 2, 28)
    assert credentials_service.add_years(day(2028, 2, 29), 4) == day(2032, 2, 29)


async def test_a_credential_is_issued_once_per_attempt_and_signed_once(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    clock.set(datetime(2028, 2, 29, 14, 5, 7, 123456, tzinfo=UTC))
    issued = await issue(client, sessionmaker, clock)
    assert issued.credential.issued_at == datetime(2028, 2, 29, 14, 5, 7, tzinfo=UTC)  # whole seconds, as nbf
    assert issued.credential.expires_at == datetime(2031, 2, 28, 14, 5, 7, tzinfo=UTC)
    assert issued.credential.holder_name == issued.candidate.full_name
    clock.advance(hours=1)
    async with sessionmaker() as session, session.begin():
        again = await credentials_service.issue(
            session,
            signer_of(client),
            attempt_id=issued.attempt_id,
            candidate=issued.candidate,
            tier="foundation",
            validity_years=3,
            now=clock.now(),
        )
        assert (again.id, again.token) == (issued.id, issued.credential.token)
        assert len(await credentials_service.for_candidate(session, issued.candidate.id)) == 1
        with pytest.raises(Conflict):
            await credentials_service.issue(
                session,
                signer_of(client),
                attempt_id=issued.attempt_id,
                candidate=issued.candidate,
                tier="advanced",
                validity_years=3,
                now=clock.now(),
            )


async def test_a_result_passed_again_after_a_revocation_earns_a_new_credential(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    issued = await issue(client, sessionmaker, clock)
    async with sessionmaker() as session, session.begin():
        await credentials_service.revoke_for_attempt(session, issued.attempt_id, None, "result changed", clock.now())
        clock.advance(days=2)
        renewed = await credentials_service.issue(
            session,
            signer_of(client),
            attempt_id=issued.attempt_id,
            candidate=issued.candidate,
            tier="foundation",
            validity_years=3,
            now=clock.now(),
        )
        assert renewed.id != issued.id
        assert renewed.revoked_at is None
        statuses = {
            c.id: c.revocation_reason for c in await credentials_service.for_candidate(session, issued.candidate.id)
        }
        assert statuses == {renewed.id: None, issued.id: "result changed"}


async def test_revocation_is_recorded_once_and_closes_the_next_tier(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    issued = await issue(client, sessionmaker, clock)
    async with sessionmaker() as session, session.begin():
        await scheduling_service.check_prerequisite(session, issued.candidate, "professional", clock)  # open
        credential = await credentials_service.get(session, issued.id)
        await credentials_service.revoke(session, credential, None, "identity fraud confirmed", clock.now())
        with pytest.raises(Conflict, match="already revoked on 5 January 2026"):
            await credentials_service.revoke(session, credential, None, "a second reason", clock.now())
        assert credential.revocation_reason == "identity fraud confirmed"
    async with sessionmaker() as session, session.begin():
        with pytest.raises(Conflict) as refused:
            await scheduling_service.check_prerequisite(session, issued.candidate, "professional", clock)
        assert refused.value.extra["prerequisite"] == "foundation"


async def test_an_invalidated_result_revokes_its_credential_and_keeps_a_first_revocation(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    issued = await issue(client, sessionmaker, clock)
    async with sessionmaker() as session, session.begin():
        revoked = await credentials_service.revoke_for_attempt(
            session, issued.attempt_id, None, "result invalidated: copied answers", clock.now()
        )
        assert revoked is not None
        assert revoked.revoked_at == clock.now()
        clock.advance(days=1)
        again = await credentials_service.revoke_for_attempt(session, issued.attempt_id, None, "later", clock.now())
        assert again is not None
        assert again.revocation_reason == "result invalidated: copied answers"
        assert (
            await credentials_service.revoke_for_attempt(session, uuid.uuid4(), None, "no such attempt", clock.now())
            is None
        )


async def test_verification_says_why_a_presented_credential_does_not_hold(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    issued = await issue(client, sessionmaker, clock)
    signer = signer_of(client)
    token = issued.credential.token
    assert token is not None
    stranger = CredentialSigner(generate_key_pem(), base_url=signer.base_url)
    document = openbadge.credential_of(signer.read_unverified(token))
    forged_elsewhere = stranger.sign(openbadge.jwt_claims(document))
    header = {"alg": "HS256", "typ": "JWT", "kid": signer.key_id}
    hmac = jws.serialize_compact(header, json.dumps(signer.read_unverified(token)), OctKey.generate_key(256))
    alg_none = ".".join((_segment({"alg": "none"}), token.split(".")[1], ""))
    cases = {
        token: (Status.valid, "valid: MLOps Certified Professional - Foundation, awarded to"),
        _altered(token, name="MLOps Certified Professional - Advanced"): (Status.invalid, "altered"),
        forged_elsewhere: (Status.invalid, "a key this issuer does not publish"),
        hmac: (Status.invalid, "only ES256"),
        alg_none: (Status.invalid, "only ES256"),
        "not.a-credential": (Status.invalid, "not a signed credential"),
    }
    async with sessionmaker() as session:
        for presented, (status, reason) in cases.items():
            checked = await credentials_service.verify_token(session, signer, presented, clock.now())
            assert (checked.status, reason in checked.reason) == (status, True), checked.reason
        # signed here, but the record is gone (say, a restored backup): not on record
        unknown = openbadge.jwt_claims(document | {"id": "urn:uuid:00000000-0000-4000-8000-000000000000"})
        checked = await credentials_service.verify_token(session, signer, signer.sign(unknown), clock.now())
        assert (checked.status, checked.reason) == (Status.unknown, "no credential with this id is on record here")
