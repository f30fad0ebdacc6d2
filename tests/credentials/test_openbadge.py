"""The credential has the Open Badges 3.0 shape, and its JWT claims mirror it (no database needed)."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from exam_service.credentials import openbadge

URLS = openbadge.Urls("https://exams.example.org")
AWARD = openbadge.Award(
    credential_id=uuid.UUID("7d3c5a56-1c1e-4c43-9d0a-2f7f5d0c0b11"),
    holder_id=uuid.UUID("0b8f6a3e-52a4-4a57-9a3c-6d2a1c0e9f22"),
    holder_name="Ada Example",
    holder_email="Ada.Example@Example.org",
    tier="professional",
    issued_at=datetime(2026, 3, 2, 10, 30, tzinfo=UTC),
    expires_at=datetime(2029, 3, 2, 10, 30, tzinfo=UTC),
)


def _document(**changes: Any) -> dict[str, Any]:
    return openbadge.credential(dataclasses.replace(AWARD, **changes), URLS, salt="5a1t")


def test_the_credential_carries_every_field_open_badges_requires() -> None:
    document = _document()
    for field in ("@context", "id", "type", "issuer", "validFrom", "credentialSubject"):
        assert field in document
    assert document["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert document["@context"][1].startswith("https://purl.imsglobal.org/spec/ob/v3p0/context")
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert document["id"] == f"urn:uuid:{AWARD.credential_id}"
    assert document["issuer"] == {
        "id": "https://exams.example.org/issuer",
        "type": ["Profile"],
        "name": "MLOCP exam service",
        "url": "https://exams.example.org",
    }
    assert (document["validFrom"], document["validUntil"]) == ("2026-03-02T10:30:00Z", "2029-03-02T10:30:00Z")
    subject = document["credentialSubject"]
    assert "AchievementSubject" in subject["type"]
    achievement = subject["achievement"]
    for field in ("id", "type", "name", "description", "criteria"):
        assert field in achievement
    assert achievement["name"] == "MLOps Certified Professional - Professional"
    assert achievement["criteria"]["narrative"]
    assert document["credentialStatus"]["id"] == (
        f"https://exams.example.org/api/v1/credentials/{AWARD.credential_id}/verification"
    )


def test_the_holder_is_named_but_the_email_address_is_only_hashed() -> None:
    document = _document()
    assert "ada.example@example.org" not in str(document).lower()
    by_type = {i["identityType"]: i for i in document["credentialSubject"]["identifier"]}
    email = by_type["emailAddress"]
    assert email["hashed"] is True
    expected = hashlib.sha256(("ada.example@example.org" + email["salt"]).encode()).hexdigest()
    assert email["identityHash"] == f"sha256${expected}"
    assert by_type["name"] == {
        "type": "IdentityObject",
        "identityType": "name",
        "hashed": False,
        "identityHash": "Ada Example",
    }


def test_the_jwt_claims_mirror_the_credential_they_carry() -> None:
    document = _document()
    claims = openbadge.jwt_claims(document)
    assert claims["iss"] == document["issuer"]["id"]
    assert claims["sub"] == document["credentialSubject"]["id"]
    assert claims["jti"] == document["id"]
    assert claims["nbf"] == int(AWARD.issued_at.timestamp())
    assert claims["exp"] == int(AWARD.expires_at.timestamp())
    assert openbadge.check_claims(claims, URLS) is None
    assert openbadge.credential_of(claims) == document


@pytest.mark.parametrize(
    ("claim", "value", "problem"),
    [
        ("iss", "https://elsewhere.example.org/issuer", "another issuer"),
        ("sub", "urn:uuid:00000000-0000-0000-0000-000000000000", "subject"),
        ("jti", "urn:uuid:00000000-0000-0000-0000-000000000000", "id"),
        ("nbf", 0, "start of validity"),
        ("exp", 4102444800, "end of validity"),
    ],
)
def test_claims_that_contradict_the_credential_are_named(claim: str, value: object, problem: str) -> None:
    claims = openbadge.jwt_claims(_document()) | {claim: value}
    found = openbadge.check_claims(claims, URLS)
    assert found is not None
    assert problem in found


def test_results_are_stated_only_when_given() -> None:
    assert "result" not in _document()["credentialSubject"]
    subject = _document(results={"percent": 81.254, "scaled_score": None})["credentialSubject"]
    assert [r["value"] for r in subject["result"]] == ["81.25"]  # a figure that is not there is not stated
    description = subject["achievement"]["resultDescription"]
    assert [(d["name"], d["resultType"]) for d in description] == [("Percent", "Percent")]
    assert subject["result"][0]["resultDescription"] == description[0]["id"]
