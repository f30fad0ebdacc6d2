"""A passed tier as an Open Badges 3.0 ``OpenBadgeCredential``, and the claims of its VC-JWT.

Follows the 1EdTech Open Badges Specification 3.0 (Final, on the W3C VC Data Model 2.0), part
"Proofs (Signatures)", "JSON Web Token Proof Format" (https://www.imsglobal.org/spec/ob/v3p0/#jwt-proof):
"Create the JOSE Header" (#joseheader: ``alg``, ``kid``, ``jwk``, ``typ`` and nothing else) and
"JWT Payload Format": the payload *is* the credential's JSON, with ``iss`` = ``issuer.id``,
``sub`` = ``credentialSubject.id``, ``jti`` = ``id``, ``nbf`` = ``validFrom``, ``exp`` = ``validUntil``.
The ``vc`` claim of VC Data Model 1.1 is not used: the Final spec keeps it only as a note for
credentials of that older model. "Verify a Credential VC-JWT Signature" (#jwt-verify-credential) is
``check_claims`` below.

The holder is named, not exposed: the e-mail address only as a salted SHA-256 ``IdentityObject``
(``identityType`` emailAddress), the name as a plain one (``identityType`` name), which is how the
spec lets an issuer show a recipient's name.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

ISSUER_NAME = "MLOCP exam service"
CERTIFICATION = "MLOps Certified Professional"
CONTEXT = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
CREDENTIAL_TYPE = ["VerifiableCredential", "OpenBadgeCredential"]
SCHEMA = {
    "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
    "type": "1EdTechJsonSchemaValidator2019",
}
# the status is not a list: its id answers, for this one credential, valid / revoked / expired and why
STATUS_TYPE = "MlocpCredentialVerification"
JWT_CLAIMS = ("iss", "sub", "jti", "nbf", "exp")

DESCRIPTIONS = {
    "foundation": "Builds, versions, validates and serves machine-learning models with reproducible tooling.",
    "professional": "Runs machine-learning systems in production: pipelines, orchestration, monitoring, "
    "deployment strategies and retraining.",
    "advanced": "Designs and governs machine-learning platforms: distributed training, security, cost and "
    "compliance at scale.",
}
CRITERIA = (
    "Passed the proctored {tier} examination of the MLOps Certified Professional programme: every theory "
    "section and the hands-on performance tasks, graded in a sandbox, at or above the published cut scores."
)


# OB 3.0 ResultType for the figures scoring states; anything else is a plain "Result"
RESULT_TYPES = {"percent": "Percent", "scaled_score": "ScaledScore", "raw_score": "RawScore"}


@dataclass(frozen=True)
class Award:
    """What one credential states; everything in it is fixed at issue."""

    credential_id: uuid.UUID
    holder_id: uuid.UUID
    holder_name: str
    holder_email: str
    tier: str
    issued_at: datetime
    expires_at: datetime
    results: dict[str, Any] | None = None  # name -> figure; names without a figure are left out

    def __post_init__(self) -> None:
        if self.results is not None:
            stated = {name: value for name, value in self.results.items() if value is not None}
            object.__setattr__(self, "results", stated or None)


@dataclass(frozen=True)
class Urls:
    """The issuer's public addresses, all under ``EXAM_PUBLIC_BASE_URL``."""

    base: str

    @property
    def issuer(self) -> str:
        return f"{self.base}/issuer"

    @property
    def jwks(self) -> str:
        return f"{self.base}/.well-known/jwks.json"

    def achievement(self, tier: str) -> str:
        return f"{self.base}/achievements/mlocp-{tier}"

    def page(self, credential_id: uuid.UUID) -> str:
        return f"{self.base}/credentials/{credential_id}"

    def certificate(self, credential_id: uuid.UUID) -> str:
        return f"{self.page(credential_id)}/certificate"

    def status(self, credential_id: uuid.UUID) -> str:
        return f"{self.base}/api/v1/credentials/{credential_id}/verification"


def title(tier: str) -> str:
    return f"{CERTIFICATION} - {tier.capitalize()}"


def issuer_profile(urls: Urls) -> dict[str, Any]:
    return {"id": urls.issuer, "type": ["Profile"], "name": ISSUER_NAME, "url": urls.base}


def achievement(urls: Urls, tier: str, results: dict[str, Any] | None = None) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "id": urls.achievement(tier),
        "type": ["Achievement"],
        "achievementType": "Certification",
        "name": title(tier),
        "description": DESCRIPTIONS[tier],
        "criteria": {"narrative": CRITERIA.format(tier=tier)},
    }
    if results:
        definition["resultDescription"] = [
            {
                "id": _result_id(urls, tier, name),
                "type": ["ResultDescription"],
                "name": name.replace("_", " ").capitalize(),
                "resultType": RESULT_TYPES.get(name, "Result"),
            }
            for name in results
        ]
    return definition


def identity_hash(value: str, salt: str) -> str:
    """OB 3.0 IdentityHash: the algorithm, ``$``, and SHA-256 over the value with the salt appended."""
    return "sha256$" + hashlib.sha256((value + salt).encode()).hexdigest()


def credential(award: Award, urls: Urls, salt: str) -> dict[str, Any]:
    subject: dict[str, Any] = {
        "id": f"urn:uuid:{award.holder_id}",
        "type": ["AchievementSubject"],
        "identifier": [
            {
                "type": "IdentityObject",
                "identityType": "emailAddress",
                "hashed": True,
                "identityHash": identity_hash(award.holder_email.strip().lower(), salt),
                "salt": salt,
            },
            {"type": "IdentityObject", "identityType": "name", "hashed": False, "identityHash": award.holder_name},
        ],
        "achievement": achievement(urls, award.tier, award.results),
    }
    if award.results:
        subject["result"] = [
            {"type": ["Result"], "resultDescription": _result_id(urls, award.tier, name), "value": _value(value)}
            for name, value in award.results.items()
        ]
    return {
        "@context": CONTEXT,
        "id": f"urn:uuid:{award.credential_id}",
        "type": CREDENTIAL_TYPE,
        "name": title(award.tier),
        "issuer": issuer_profile(urls),
        "validFrom": _timestamp(award.issued_at),
        "validUntil": _timestamp(award.expires_at),
        "awardedDate": _timestamp(award.issued_at),
        "credentialSubject": subject,
        "credentialStatus": {"id": urls.status(award.credential_id), "type": STATUS_TYPE},
        "credentialSchema": [SCHEMA],
    }


def jwt_claims(document: dict[str, Any]) -> dict[str, Any]:
    """The VC-JWT payload: the credential itself plus the registered claims that mirror it."""
    return {
        **document,
        "iss": document["issuer"]["id"],
        "sub": document["credentialSubject"]["id"],
        "jti": document["id"],
        "nbf": _seconds(document["validFrom"]),
        "exp": _seconds(document["validUntil"]),
    }


def credential_of(claims: dict[str, Any]) -> dict[str, Any]:
    """The OpenBadgeCredential carried by a VC-JWT payload, without the JWT's own claims."""
    return {name: value for name, value in claims.items() if name not in JWT_CLAIMS}


def check_claims(claims: dict[str, Any], urls: Urls) -> str | None:
    """What is inconsistent between the JWT claims and the credential they carry, or None."""
    try:
        if "OpenBadgeCredential" not in claims["type"]:
            return "it is not an OpenBadgeCredential"
        if claims["iss"] != claims["issuer"]["id"] or claims["iss"] != urls.issuer:
            return f"it names another issuer ({claims['iss']})"
        if claims["sub"] != claims["credentialSubject"]["id"]:
            return "its subject does not match the credential's holder"
        if claims["jti"] != claims["id"] or credential_uuid(claims) is None:
            return "its id does not match the credential's id"
        if claims["nbf"] != _seconds(claims["validFrom"]):
            return "its start of validity does not match the credential's"
        if claims["exp"] != _seconds(claims["validUntil"]):
            return "its end of validity does not match the credential's"
    except (KeyError, TypeError, ValueError) as exc:
        return f"a required field is missing or malformed ({exc})"
    return None


def credential_uuid(claims: dict[str, Any]) -> uuid.UUID | None:
    value = str(claims.get("jti", ""))
    if not value.startswith("urn:uuid:"):
        return None
    try:
        return uuid.UUID(value.removeprefix("urn:uuid:"))
    except ValueError:
        return None


def _result_id(urls: Urls, tier: str, name: str) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-") or "result"
    return f"{urls.achievement(tier)}/results/{slug}"


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _seconds(stamp: str) -> int:
    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
