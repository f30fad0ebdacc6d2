"""The API: anyone verifies with the published keys alone; only the holder and examiners download; examiners revoke."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import FrozenClock
from exam_service.models import Role
from tests.credentials.helpers import examiner_headers, issue
from tests.factories import auth_headers


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["credentialSubject"]["identifier"][1]["identityHash"] = "Mallory Example"
    edited = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return ".".join((header, edited, signature))


async def _verify(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    response = await client.post("/api/v1/credentials/verify", json={"credential": token})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_downloaded_credential_verifies_with_an_independent_library_and_the_jwks_alone(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    issued = await issue(client, sessionmaker, clock)
    downloaded = await client.get(f"/api/v1/credentials/{issued.id}/download", headers=issued.headers)
    assert downloaded.status_code == 200
    assert downloaded.headers["content-type"] == "application/vc+jwt"
    assert downloaded.headers["content-disposition"] == f'attachment; filename="mlocp-foundation-{issued.id}.jwt"'
    again = await client.get(f"/api/v1/credentials/{issued.id}/download", headers=issued.headers)
    assert downloaded.content == again.content == issued.credential.token.encode()  # type: ignore[union-attr]

    published = await client.get("/.well-known/jwks.json")  # no sign-in: anyone may fetch it
    assert published.status_code == 200
    keys = KeySet.import_key_set(published.json())
    token = jwt.decode(downloaded.text, keys, algorithms=["ES256"])
    assert token.header["alg"] == "ES256"
    assert token.header["kid"] == published.json()["keys"][0]["kid"]
    claims = token.claims
    jwt.JWTClaimsRegistry(
        now=int(clock.now().timestamp()),
        iss={"essential": True, "value": "http://127.0.0.1:8000/issuer"},
        sub={"essential": True, "value": f"urn:uuid:{issued.candidate.id}"},
        jti={"essential": True, "value": f"urn:uuid:{issued.id}"},
        nbf={"essential": True},
        exp={"essential": True},
    ).validate(claims)
    assert claims["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert claims["credentialSubject"]["achievement"]["name"] == "MLOps Certified Professional - Foundation"
    assert issued.candidate.email not in downloaded.text

    profile = await client.get("/issuer")
    assert profile.json()["id"] == claims["issuer"]["id"]
    assert profile.json()["name"] == claims["issuer"]["name"]


async def test_a_tampered_credential_fails_the_library_and_the_verify_endpoint(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    issued = await issue(client, sessionmaker, clock)
    token = issued.credential.token
    assert token is not None
    keys = KeySet.import_key_set((await client.get("/.well-known/jwks.json")).json())
    with pytest.raises(BadSignatureError):
        jwt.decode(_tampered(token), keys, algorithms=["ES256"])
    refused = await _verify(client, _tampered(token))
    assert refused["valid"] is False
    assert refused["status"] == "invalid"
    assert "altered" in refused["reason"]
    assert refused["holder_name"] is None  # nothing of a forged document is echoed back as fact
    accepted = await _verify(client, token)
    assert (accepted["valid"], accepted["holder_name"], accepted["tier"]) == (True, "Test candidate", "foundation")


async def test_a_revoked_credential_says_so_with_its_reason_everywhere(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    issued = await issue(client, sessionmaker, clock)
    examiner = await examiner_headers(client, sessionmaker, clock)
    url = f"/api/v1/credentials/{issued.id}/revoke"
    clock.advance(hours=5)
    revoked = await client.post(url, headers=examiner, json={"reason": "  proxy test taker identified  "})
    assert revoked.status_code == 200, revoked.text
    body = revoked.json()
    assert (body["status"], body["revocation_reason"]) == ("revoked", "proxy test taker identified")
    assert body["revoked_by"] is not None
    assert body["revoked_at"].startswith("2026-01-05T14:00:00")

    verification = (await client.get(f"/api/v1/credentials/{issued.id}/verification")).json()
    assert verification["valid"] is False
    assert verification["reason"] == "revoked on 5 January 2026: proxy test taker identified"
    assert (await _verify(client, issued.credential.token or ""))["status"] == "revoked"
    page = await client.get(f"/credentials/{issued.id}")
    assert "Revoked credential" in page.text
    assert "proxy test taker identified" in page.text
    mine = (await client.get("/api/v1/me/credentials", headers=issued.headers)).json()
    assert [c["status"] for c in mine] == ["revoked"]

    twice = await client.post(url, headers=examiner, json={"reason": "again"})
    assert twice.status_code == 409
    assert "already revoked on 5 January 2026" in twice.json()["detail"]


async def test_a_credential_past_its_validity_is_expired(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    issued = await issue(client, sessionmaker, clock, validity_years=2)
    clock.advance(days=2 * 365 - 1)
    assert (await client.get(f"/api/v1/credentials/{issued.id}/verification")).json()["status"] == "valid"
    clock.advance(days=2)
    verification = (await client.get(f"/api/v1/credentials/{issued.id}/verification")).json()
    assert (verification["status"], verification["reason"]) == ("expired", "expired on 5 January 2028")
    assert (await _verify(client, issued.credential.token or ""))["reason"] == "expired on 5 January 2028"
    assert "Expired credential" in (await client.get(f"/credentials/{issued.id}")).text


async def test_only_the_holder_and_examiners_download_and_only_examiners_revoke(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    issued = await issue(client, sessionmaker, clock)
    _, other = await auth_headers(client, sessionmaker, clock, Role.candidate)
    examiner = await examiner_headers(client, sessionmaker, clock)
    url = f"/api/v1/credentials/{issued.id}/download"
    other_download = await client.get(url, headers=other)
    assert other_download.status_code == 404  # as if it did not exist
    assert other_download.json()["detail"] == "no credential with this id"
    assert (await client.get(url, headers=issued.proctor)).status_code == 403
    assert (await client.get(url)).status_code == 401
    as_json = await client.get(url, params={"format": "json"}, headers=examiner)
    assert as_json.status_code == 200
    assert as_json.headers["content-disposition"].endswith('.json"')
    document = as_json.json()
    assert document["id"] == f"urn:uuid:{issued.id}"
    assert not {"iss", "sub", "jti", "nbf", "exp"} & document.keys()  # the credential, not the JWT

    assert (await client.get("/api/v1/me/credentials", headers=other)).json() == []
    revoke = f"/api/v1/credentials/{issued.id}/revoke"
    for headers in (issued.proctor, issued.headers, other):
        assert (await client.post(revoke, headers=headers, json={"reason": "not theirs to do"})).status_code == 403
    too_short = await client.post(revoke, headers=examiner, json={"reason": " x "})
    assert too_short.status_code == 422
    assert too_short.json()["fields"][0]["field"] == "reason"
    assert (await client.get(f"/api/v1/credentials/{issued.id}/verification")).json()["status"] == "valid"


async def test_examiners_list_credentials_by_candidate_and_tier(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    issued = await issue(client, sessionmaker, clock)
    examiner = await examiner_headers(client, sessionmaker, clock)
    mine = {"candidate_id": str(issued.candidate.id)}
    listed = await client.get("/api/v1/credentials", params=mine, headers=examiner)
    assert [c["id"] for c in listed.json()] == [str(issued.id)]
    assert listed.json()[0]["verification_url"] == f"http://127.0.0.1:8000/credentials/{issued.id}"
    other_tier = await client.get("/api/v1/credentials", params={"tier": "advanced"}, headers=examiner)
    assert other_tier.json() == []
    assert (await client.get("/api/v1/credentials", params={"tier": "expert"}, headers=examiner)).status_code == 422
    assert (await client.get("/api/v1/credentials", headers=issued.headers)).status_code == 403


async def test_an_unknown_id_is_a_clear_404(client: httpx.AsyncClient) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    response = await client.get(f"/api/v1/credentials/{missing}/verification")
    assert response.status_code == 404
    assert response.json()["detail"] == "no credential with this id"
    assert (await client.get("/api/v1/credentials/nope/verification")).status_code == 422
