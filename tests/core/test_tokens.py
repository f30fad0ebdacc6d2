"""Every kind of untrustworthy token is refused with 401 by a real authenticated route."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import httpx
import pytest
from jose import jwt
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import FrozenClock
from exam_service.core.tokens import TokenCodec
from exam_service.models import Role, User
from tests.factories import TEST_SECRET, bearer, make_user, token_for

ME = "/api/v1/users/me"


@pytest.fixture
async def user(sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock) -> User:
    return await make_user(sessionmaker, clock, Role.candidate)


@pytest.fixture
async def session_id(client: httpx.AsyncClient, user: User) -> str:
    """A real sign-in session of the user: hand-made tokens below belong to it."""
    sid: str = jwt.get_unverified_claims(await token_for(client, user.email))["sid"]
    return sid


def _claims(user: User, clock: FrozenClock, session_id: str, **override: object) -> dict[str, object]:
    now = int(clock.now().timestamp())
    claims: dict[str, object] = {
        "iss": "exam-service",
        "aud": "exam-service-api",
        "sub": str(user.id),
        "role": user.role.value,
        "iat": now,
        "auth_time": now,
        "exp": now + 600,
        "jti": "a" * 32,
        "typ": "access",
        "sid": session_id,
    }
    claims.update(override)
    return {k: v for k, v in claims.items() if v is not None}


async def _status(client: httpx.AsyncClient, token: str) -> int:
    return (await client.get(ME, headers=bearer(token))).status_code


async def test_a_well_formed_token_is_accepted(
    client: httpx.AsyncClient, user: User, clock: FrozenClock, session_id: str
) -> None:
    token = jwt.encode(_claims(user, clock, session_id), TEST_SECRET, algorithm="HS256")
    response = await client.get(ME, headers=bearer(token))
    assert response.status_code == 200
    assert response.json()["email"] == user.email


async def test_expired_token_is_refused(client: httpx.AsyncClient, user: User, clock: FrozenClock) -> None:
    token = await token_for(client, user.email)
    assert await _status(client, token) == 200
    clock.advance(minutes=601)
    response = await client.get(ME, headers=bearer(token))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def _unsigned(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


async def test_alg_none_is_refused(client: httpx.AsyncClient, user: User, clock: FrozenClock, session_id: str) -> None:
    assert await _status(client, _unsigned(_claims(user, clock, session_id))) == 401


async def test_token_signed_with_another_key_is_refused(
    client: httpx.AsyncClient, user: User, clock: FrozenClock, session_id: str
) -> None:
    token = jwt.encode(_claims(user, clock, session_id), "another-secret-of-sufficient-length-000", algorithm="HS256")
    assert await _status(client, token) == 401


async def test_token_signed_with_another_algorithm_is_refused(
    client: httpx.AsyncClient, user: User, clock: FrozenClock, session_id: str
) -> None:
    token = jwt.encode(_claims(user, clock, session_id), TEST_SECRET, algorithm="HS512")
    assert await _status(client, token) == 401


@pytest.mark.parametrize(
    "override",
    [
        {"aud": "another-service"},
        {"iss": "someone-else"},
        {"typ": "refresh"},
        {"jti": None},
        {"role": None},
        {"iat": None},
        {"role": "admin"},
        {"sid": None},
        {"sid": "0" * 32},
        {"auth_time": None},
        {"exp": "9999999999"},
        {"iat": "0"},
        {"exp": True},
        {"exp": 1e20},
        {"sub": 7},
        {"auth_time": 4102444800},
    ],
    ids=[
        "wrong-aud",
        "wrong-iss",
        "wrong-typ",
        "no-jti",
        "no-role",
        "no-iat",
        "role-not-the-users",
        "no-session",
        "unknown-session",
        "no-auth-time",
        "exp-as-string",
        "iat-as-string",
        "exp-as-boolean",
        "exp-as-float-beyond-any-date",
        "sub-as-number",
        "authenticated-after-issue",
    ],
)
async def test_claims_that_do_not_hold_are_refused(
    client: httpx.AsyncClient, user: User, clock: FrozenClock, session_id: str, override: dict[str, object]
) -> None:
    token = jwt.encode(_claims(user, clock, session_id, **override), TEST_SECRET, algorithm="HS256")
    assert await _status(client, token) == 401


async def test_tampered_payload_is_refused(client: httpx.AsyncClient, user: User, clock: FrozenClock) -> None:
    token = await token_for(client, user.email)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert await _status(client, f"{header}.{forged}.{signature}") == 401


async def test_logout_revokes_the_token(client: httpx.AsyncClient, user: User) -> None:
    token = await token_for(client, user.email)
    assert (await client.post("/api/v1/auth/logout", headers=bearer(token))).status_code == 204
    response = await client.get(ME, headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["detail"] == "The session has ended; please sign in again"
    # a new login still works
    assert await _status(client, await token_for(client, user.email)) == 200


async def test_garbage_and_missing_tokens_are_refused(client: httpx.AsyncClient) -> None:
    assert (await client.get(ME)).status_code == 401
    assert (await client.get(ME, headers=bearer("not.a.token"))).status_code == 401
    assert (await client.get(ME, headers={"Authorization": "Basic Zm9vOmJhcg=="})).status_code == 401


def test_codec_refuses_a_token_issued_in_the_future(clock: FrozenClock) -> None:
    codec = TokenCodec("HS256", TEST_SECRET, TEST_SECRET, "exam-service", "exam-service-api")
    later = clock.now() + timedelta(hours=1)
    token, _ = codec.encode(
        subject="x", role="candidate", now=later, lifetime=timedelta(hours=2), session_id="s", authenticated_at=later
    )
    with pytest.raises(Exception, match="future"):
        codec.decode(token, now=clock.now())


def test_asymmetric_keys_round_trip_and_refuse_hs_confusion(clock: FrozenClock) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    codec = TokenCodec("ES256", private, public, "exam-service", "exam-service-api")
    token, claims = codec.encode(
        subject="u1",
        role="proctor",
        now=clock.now(),
        lifetime=timedelta(minutes=5),
        session_id="s1",
        authenticated_at=clock.now(),
    )
    assert codec.decode(token, now=clock.now()).subject == "u1"
    # an HS256 token keyed with the public key (algorithm confusion) is refused
    forged = jwt.encode({"sub": "u1"}, "x" * 40, algorithm="HS256")
    with pytest.raises(Exception, match="not accepted"):
        codec.decode(forged, now=clock.now())
    assert claims.token_type == "access"
