"""The credentials API as forgers, snoops and careless clients try it: who may call what, forged and malformed
VC-JWTs, hostile revocation reasons, simultaneous revocations. A forgery is answered as invalid without echoing
anything it claims; a refusal is a 4xx naming the field and leaves the credential as it was."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from joserfc import jws
from joserfc.jwk import ECKey
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import FrozenClock
from exam_service.credentials import endpoints as credentials_endpoints
from exam_service.credentials.service import TOKEN_REASONS
from exam_service.models import Role
from tests.credentials.helpers import Issued, examiner_headers, issue
from tests.factories import auth_headers

Session = async_sessionmaker[AsyncSession]
Json = dict[str, Any]
REASON = "identity document was forged"


@pytest.fixture
async def api(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """The app as a browser meets it: an unexpected error is a 500 response, not an exception in the test."""
    app = client.app  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        http.app = app  # type: ignore[attr-defined]
        yield http


def refused(response: httpx.Response, status: int, field: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]
    assert body["detail"]
    named = {body.get("field")} | {f["field"] for f in body.get("fields", [])}
    assert field in named, body


async def raw(api: httpx.AsyncClient, path: str, headers: dict[str, str], body: object) -> httpx.Response:
    """POSTs ``body`` as written (a str is sent verbatim): lone surrogates, wrong shapes, broken JSON."""
    text = body if isinstance(body, str) else json.dumps(body)
    return await api.post(path, headers={**headers, "Content-Type": "application/json"}, content=text.encode())


async def standing(api: httpx.AsyncClient, issued: Issued) -> Json:
    verification = await api.get(f"/api/v1/credentials/{issued.id}/verification")
    assert verification.status_code == 200, verification.text
    body: Json = verification.json()
    return body


# ---- who may call what ------------------------------------------------------------------------------------

PUBLIC = {"/.well-known/jwks.json", "/issuer", "/api/v1/credentials/{credential_id}/verification"}
PUBLIC |= {"/api/v1/credentials/verify"}
MINE = {"/api/v1/me/credentials"}  # any candidate, their own rows only
HOLDER = {"/api/v1/credentials/{credential_id}/download"}  # the holder, examiners and administrators
EXAMINERS = {"/api/v1/credentials", "/api/v1/credentials/{credential_id}/revoke"}


def credential_routes() -> set[tuple[str, str]]:
    routers = (credentials_endpoints.router, credentials_endpoints.issuer_router)
    return {
        (m, r.path) for router in routers for r in router.routes if isinstance(r, APIRoute) for m in r.methods or ()
    }


async def test_every_credentials_route_answers_each_role_as_its_rule_says(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock
) -> None:
    """Models a snoop calling every credentials route without a token, as another candidate, as a proctor; the
    holder and staff calling them as the documentation says they may; and no route left out of the list."""
    issued = await issue(api, sessionmaker, clock)
    _, other = await auth_headers(api, sessionmaker, clock, Role.candidate)
    examiner = await examiner_headers(api, sessionmaker, clock)
    routes = credential_routes()
    assert {path for _, path in routes} == PUBLIC | MINE | HOLDER | EXAMINERS
    callers = {
        "nobody": {},
        "holder": issued.headers,
        "other": other,
        "proctor": issued.proctor,
        "examiner": examiner,
        "admin": issued.admin,
    }
    bodies = {
        "/api/v1/credentials/verify": {"credential": issued.credential.token},
        "/api/v1/credentials/{credential_id}/revoke": {"reason": REASON},
    }
    staff_only = {"nobody": 401, "holder": 403, "other": 403, "proctor": 403}
    candidates_only = {"nobody": 401, "holder": 200, "other": 200, "proctor": 403, "examiner": 403, "admin": 403}
    holder_and_staff = {"nobody": 401, "holder": 200, "other": 404, "proctor": 403, "examiner": 200, "admin": 200}
    expected: dict[str, dict[str, int]] = {
        **{path: dict.fromkeys(callers, 200) for path in PUBLIC},
        "/api/v1/me/credentials": candidates_only,
        "/api/v1/credentials/{credential_id}/download": holder_and_staff,
        "/api/v1/credentials": staff_only | {"examiner": 200, "admin": 200},
        "/api/v1/credentials/{credential_id}/revoke": staff_only | {"examiner": 200, "admin": 409},  # already revoked
    }
    for method, path in sorted(routes):
        url = path.format(credential_id=issued.id)
        got = {}
        for who, headers in callers.items():
            response = await api.request(method, url, headers=headers, json=bodies.get(path))
            got[who] = response.status_code
            if path in MINE and response.status_code == 200:
                mine = [c["id"] for c in response.json()]
                assert mine == ([str(issued.id)] if who == "holder" else []), who
        assert got == expected[path], (method, path)


@contextmanager
def statements(api: httpx.AsyncClient) -> Iterator[list[str]]:
    """The SQL the app runs meanwhile: the same statements mean the same work, so the same time."""
    engine = api.app.state.engine.sync_engine  # type: ignore[attr-defined]
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_another_holders_credential_looks_exactly_like_a_missing_one(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock
) -> None:
    """Models a candidate enumerating credential ids to find out who holds one: someone else's must answer as a
    missing one does, in status, body and the work done (so in timing too)."""
    issued = await issue(api, sessionmaker, clock)
    _, snoop = await auth_headers(api, sessionmaker, clock, Role.candidate)
    for path in ("/api/v1/credentials/{}/download", "/api/v1/credentials/{}/revoke"):
        with statements(api) as theirs:
            someone_elses = await api.request(
                "POST" if path.endswith("revoke") else "GET",
                path.format(issued.id),
                headers=snoop,
                json={"reason": REASON},
            )
        with statements(api) as nobodys:
            missing = await api.request(
                "POST" if path.endswith("revoke") else "GET",
                path.format(uuid.uuid4()),
                headers=snoop,
                json={"reason": REASON},
            )
        assert someone_elses.status_code in (403, 404)
        assert (someone_elses.status_code, someone_elses.json()) == (missing.status_code, missing.json())
        assert theirs == nobodys
    assert (await standing(api, issued))["status"] == "valid"


# ---- forged and malformed credentials ---------------------------------------------------------------------


def b64(data: bytes | dict[str, Any] | list[Any]) -> str:
    raw_bytes = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw_bytes).rstrip(b"=").decode()


def hs256(header: dict[str, Any], payload: str, secret: bytes) -> str:
    """An HMAC token keyed with public material: the classic algorithm confusion."""
    signing_input = f"{b64(header)}.{payload}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def forgeries(token: str, published: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Each forged or malformed credential, with the kind of failure verification must report."""
    header, payload, signature = token.split(".")
    kid = published["kid"]
    claims = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    public_pem = ECKey.import_key(dict[str, str | list[str]](published)).as_pem(private=False)
    mallory = ECKey.generate_key("P-256")
    mallory_jwk = mallory.as_dict(private=False)
    return {
        "garbage": ("hello", "malformed"),
        "blank": ("   ", "malformed"),
        "dots only": ("..", "malformed"),
        "three words": ("a.b.c", "malformed"),
        "four parts": (token + ".x", "malformed"),
        "header is a list": (f"{b64([kid])}.{payload}.{signature}", "malformed"),
        "header not UTF-8": (f"{b64(bytes([255, 254]))}.{payload}.{signature}", "malformed"),
        "payload is a list": (f"{header}.{b64([1])}.{signature}", "malformed"),
        "alg none, no signature": (f"{b64({'alg': 'none', 'kid': kid})}.{payload}.", "algorithm"),
        "alg none, real signature": (f"{b64({'alg': 'none', 'kid': kid})}.{payload}.{signature}", "algorithm"),
        "alg None": (f"{b64({'alg': 'None', 'kid': kid})}.{payload}.", "algorithm"),
        "no alg": (f"{b64({'kid': kid})}.{payload}.{signature}", "algorithm"),
        "HS256 keyed with the public PEM": (hs256({"alg": "HS256", "kid": kid}, payload, public_pem), "algorithm"),
        "HS256 keyed with the JWK": (
            hs256({"alg": "HS256", "kid": kid}, payload, json.dumps(published).encode()),
            "algorithm",
        ),
        "HS256 keyed with x": (hs256({"alg": "HS256", "kid": kid}, payload, published["x"].encode()), "algorithm"),
        "ES384 label": (f"{b64({'alg': 'ES384', 'kid': kid})}.{payload}.{signature}", "algorithm"),
        "unknown kid": (jws.serialize_compact({"alg": "ES256", "kid": "mallory"}, claims, mallory), "unknown_key"),
        "kid is a list": (f"{b64({'alg': 'ES256', 'kid': [kid]})}.{payload}.{signature}", "unknown_key"),
        "embedded jwk, no kid": (
            jws.serialize_compact({"alg": "ES256", "jwk": mallory_jwk}, claims, mallory),
            "unknown_key",
        ),
        "the issuer's kid, mallory's key": (
            jws.serialize_compact({"alg": "ES256", "kid": kid, "jwk": mallory_jwk}, claims, mallory),
            "signature",
        ),
        "huge header": (f"{b64({'alg': 'ES256', 'kid': kid, 'pad': 'x' * 30_000})}.{payload}.{signature}", "signature"),
        "signature of another header": (
            f"{b64({'alg': 'ES256', 'kid': kid, 'typ': 'JWT'})}.{payload}.{signature}",
            "signature",
        ),
    }


async def test_verify_answers_every_forgery_invalid_without_echoing_it(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock
) -> None:
    """Models a forger presenting the issuer's own credential re-signed with alg none, HS256 keyed with the
    published key (algorithm confusion), their own key under the issuer's or an unknown kid, or mangled."""
    issued = await issue(api, sessionmaker, clock)
    token = issued.credential.token
    assert token is not None
    [published] = (await api.get("/.well-known/jwks.json")).json()["keys"]
    for name, (forged, kind) in forgeries(token, published).items():
        response = await api.post("/api/v1/credentials/verify", json={"credential": forged})
        assert response.status_code == 200, (name, response.text)
        body = response.json()
        assert (body["valid"], body["status"], body["reason"]) == (False, "invalid", TOKEN_REASONS[kind]), name
        assert {k for k, v in body.items() if v is not None} == {"valid", "status", "reason"}, name
    genuine = (await api.post("/api/v1/credentials/verify", json={"credential": f"\n {token} \n"})).json()
    assert (genuine["valid"], genuine["credential_id"]) == (True, str(issued.id))


async def test_verify_refuses_a_request_of_the_wrong_shape_naming_the_field(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock
) -> None:
    """Models a client posting nothing, a number, an oversized token, broken Unicode or extra fields."""
    await issue(api, sessionmaker, clock)
    url = "/api/v1/credentials/verify"
    for body in ({"credential": ""}, {"credential": "x" * 50_001}, {"credential": 1}, {"credential": None}, {}):
        refused(await raw(api, url, {}, body), 422, "credential")
    refused(await raw(api, url, {}, {"credential": "a.b.\ud800"}), 422, "credential")
    nul = await raw(api, url, {}, {"credential": "a.b.c\x00"})
    refused(nul, 422, "credential")
    assert "a.b.c" not in nul.text
    refused(await raw(api, url, {}, {"credential": "a.b.c", "alg": "none"}), 422, "alg")
    for text in ("[]", '"a.b.c"', "", "{"):
        refused(await raw(api, url, {}, text), 422, "body")
    refused(await raw(api, url, {}, {"credential": "x" * 1_000_000}), 413, "body")


def nested(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


@pytest.mark.parametrize(
    ("part", "value"),
    [("header", {"alg": ["ES256"]}), ("header", {"alg": {"name": "ES256"}}), ("header", None), ("payload", None)],
    ids=["alg-list", "alg-object", "header-nested", "payload-nested"],
)
async def test_verify_answers_a_header_or_payload_of_the_wrong_shape_invalid(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock, part: str, value: dict[str, Any] | None
) -> None:
    """Models a fuzzer sending a JOSE header whose alg is not a string, or JSON nested 5000 deep."""
    issued = await issue(api, sessionmaker, clock)
    assert issued.credential.token is not None
    header, payload, signature = issued.credential.token.split(".")
    if part == "header":
        header = b64(nested(5000)) if value is None else b64(value | {"kid": "k"})
    else:
        payload = b64(nested(5000))
    response = await api.post("/api/v1/credentials/verify", json={"credential": f"{header}.{payload}.{signature}"})
    assert response.status_code == 200, response.text
    assert (response.json()["valid"], response.json()["status"]) == (False, "invalid")


# ---- revocation -------------------------------------------------------------------------------------------


async def test_revoke_refuses_hostile_reasons_and_the_credential_keeps_standing(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock
) -> None:
    """Models an examiner's client revoking with no reason, spaces, a pasted 100k-character log, broken Unicode,
    a reason of the wrong type or extra fields; the credential must stay valid after every one."""
    issued = await issue(api, sessionmaker, clock)
    examiner = await examiner_headers(api, sessionmaker, clock)
    url = f"/api/v1/credentials/{issued.id}/revoke"
    for reason in ("", "ab", "   ", "  a  ", "x" * 2001, "x" * 100_000, "lone \ud800 surrogate", 42, None, ["x"]):
        refused(await raw(api, url, examiner, {"reason": reason}), 422, "reason")
    refused(await raw(api, url, examiner, {}), 422, "reason")
    refused(await raw(api, url, examiner, {"reason": REASON, "revoked_by": str(uuid.uuid4())}), 422, "revoked_by")
    for body in ("[]", "", "{"):
        refused(await raw(api, url, examiner, body), 422, "body")
    refused(
        await raw(api, f"/api/v1/credentials/{uuid.uuid4()}/revoke", examiner, {"reason": REASON}), 404, "credential_id"
    )
    after = await standing(api, issued)
    assert (after["status"], after["revoked_at"], after["revocation_reason"]) == ("valid", None, None)


async def test_revoke_refuses_a_reason_with_nul(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock
) -> None:
    """Models a client pasting binary text into the reason every verifier of the credential is shown."""
    issued = await issue(api, sessionmaker, clock)
    examiner = await examiner_headers(api, sessionmaker, clock)
    response = await raw(api, f"/api/v1/credentials/{issued.id}/revoke", examiner, {"reason": "forged\x00document"})
    refused(response, 422, "reason")
    assert (await standing(api, issued))["status"] == "valid"


async def test_malformed_ids_and_filters_are_refused_naming_the_parameter(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock
) -> None:
    """Models a script feeding the credentials routes ids that are not UUIDs and filters that do not exist."""
    issued = await issue(api, sessionmaker, clock)
    examiner = await examiner_headers(api, sessionmaker, clock)
    good = str(issued.id)
    for method, path in sorted(credential_routes()):
        if "{credential_id}" not in path:
            continue
        for bad in ("not-a-uuid", "123", good[:-1], good + "0", "%27%20OR%201%3D1--", "%00"):
            response = await api.request(
                method, path.format(credential_id=bad), headers=examiner, json={"reason": REASON}
            )
            refused(response, 422, "credential_id")
    for name, value in (("candidate_id", "x"), ("candidate_id", good[:-1]), ("tier", "expert"), ("tier", "")):
        refused(await api.get("/api/v1/credentials", headers=examiner, params={name: value}), 422, name)
    for kind in ("xml", "JWT", ""):
        download = await api.get(f"/api/v1/credentials/{good}/download", headers=examiner, params={"format": kind})
        refused(download, 422, "format")
    assert (await standing(api, issued))["status"] == "valid"


async def test_simultaneous_revocations_revoke_once_and_keep_the_first_reason(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock
) -> None:
    """Models two examiners revoking the same credential at the same moment with different reasons."""
    issued = await issue(api, sessionmaker, clock)
    first = await examiner_headers(api, sessionmaker, clock)
    url = f"/api/v1/credentials/{issued.id}/revoke"
    both = await asyncio.gather(
        api.post(url, headers=first, json={"reason": "proxy test taker"}),
        api.post(url, headers=issued.admin, json={"reason": "forged identity document"}),
    )
    assert sorted(r.status_code for r in both) == [200, 409]
    winner = next(r for r in both if r.status_code == 200).json()
    after = await standing(api, issued)
    assert (after["status"], after["revocation_reason"]) == ("revoked", winner["revocation_reason"])
    assert after["reason"].endswith(winner["revocation_reason"])
