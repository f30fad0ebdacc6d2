"""Every use of python-jose lives here, behind an explicit algorithm allowlist.

Two kinds of token: access tokens (``TokenCodec``) and the signed credentials candidates earn
(``CredentialCodec``: ES256 only, its own allowlist, keys from ``credentials.keys``).

Access tokens carry ``iss``, ``aud``, ``sub``, ``role``, ``exp``, ``iat``, ``auth_time``, ``jti``,
``typ`` and ``sid`` (the sign-in session the token belongs to); ``decode`` refuses a token that
lacks any of them, holds one of the wrong type (``exp`` as a string, say), is signed with an
algorithm other than the one configured, or whose header names an algorithm outside the allowlist.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jose import JWTError, jwk, jws, jwt
from jose.exceptions import JOSEError

from exam_service.core.settings import Settings

ALLOWED_ALGORITHMS = frozenset({"HS256", "HS384", "HS512", "RS256", "ES256"})
ACCESS = "access"
STRING_CLAIMS = ("iss", "aud", "sub", "role", "jti", "typ", "sid")
TIME_CLAIMS = ("exp", "iat", "auth_time")  # NumericDate: seconds since the epoch, as a JSON integer
REQUIRED_CLAIMS = STRING_CLAIMS + TIME_CLAIMS


class InvalidToken(Exception):
    """The token cannot be trusted; the message says why (logged, never shown in detail)."""


@dataclass(frozen=True)
class TokenClaims:
    subject: str
    role: str
    token_id: str
    issued_at: datetime
    expires_at: datetime
    token_type: str
    authenticated_at: datetime  # when the password was checked; refreshed tokens keep it
    session_id: str  # the sign-in session: every token of one sign-in shares it


@dataclass(frozen=True)
class TokenCodec:
    algorithm: str
    signing_key: str
    verifying_key: str
    issuer: str
    audience: str

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenCodec:
        algorithm = settings.token_algorithm
        if algorithm not in ALLOWED_ALGORITHMS:
            raise ValueError(f"token algorithm {algorithm} is not allowed")
        if algorithm.startswith("HS"):
            secret = settings.token_secret.get_secret_value()
            signing, verifying = secret, secret
        else:
            assert settings.token_private_key is not None
            assert settings.token_public_key is not None
            signing = settings.token_private_key.get_secret_value()
            verifying = settings.token_public_key
        return cls(algorithm, signing, verifying, settings.token_issuer, settings.token_audience)

    def encode(
        self,
        *,
        subject: str,
        role: str,
        now: datetime,
        lifetime: timedelta,
        session_id: str,
        authenticated_at: datetime,
        token_type: str = ACCESS,
    ) -> tuple[str, TokenClaims]:
        claims = TokenClaims(
            subject=subject,
            role=role,
            token_id=uuid.uuid4().hex,
            issued_at=now,
            expires_at=now + lifetime,
            token_type=token_type,
            authenticated_at=authenticated_at,
            session_id=session_id,
        )
        payload = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "role": role,
            "iat": int(now.timestamp()),
            "exp": int(claims.expires_at.timestamp()),
            "jti": claims.token_id,
            "typ": token_type,
            "auth_time": int(claims.authenticated_at.timestamp()),
            "sid": session_id,
        }
        return jwt.encode(payload, self.signing_key, algorithm=self.algorithm), claims

    def decode(self, token: str, *, now: datetime, expected_type: str = ACCESS) -> TokenClaims:
        try:
            header = jwt.get_unverified_header(token)
        except JWTError as exc:
            raise InvalidToken(f"malformed token: {exc}") from exc
        if header.get("alg") != self.algorithm:
            raise InvalidToken(f"algorithm {header.get('alg')!r} is not accepted")
        try:
            payload: dict[str, Any] = jwt.decode(
                token,
                self.verifying_key,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                options={
                    # exp and iat are required and checked below against the injectable clock
                    # (python-jose's require_exp would check them against the wall clock)
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require_aud": True,
                    "require_iss": True,
                    "require_sub": True,
                    "require_jti": True,
                },
            )
        except JWTError as exc:
            raise InvalidToken(str(exc)) from exc
        missing = [claim for claim in REQUIRED_CLAIMS if claim not in payload]
        if missing:
            raise InvalidToken(f"missing claims: {', '.join(missing)}")
        wrong = [claim for claim in STRING_CLAIMS if not isinstance(payload[claim], str)]
        wrong += [claim for claim in TIME_CLAIMS if not _is_numeric_date(payload[claim])]
        if wrong:
            raise InvalidToken(f"claims of the wrong type: {', '.join(wrong)}")
        if payload["typ"] != expected_type:
            raise InvalidToken(f"token type {payload['typ']!r} is not {expected_type!r}")
        expires_at = datetime.fromtimestamp(payload["exp"], tz=now.tzinfo)
        issued_at = datetime.fromtimestamp(payload["iat"], tz=now.tzinfo)
        authenticated_at = datetime.fromtimestamp(payload["auth_time"], tz=now.tzinfo)
        if authenticated_at > issued_at:
            raise InvalidToken("auth_time is after iat")
        if expires_at <= now:
            raise InvalidToken("token has expired")
        if issued_at > now + timedelta(seconds=30):
            raise InvalidToken("token is issued in the future")
        return TokenClaims(
            subject=str(payload["sub"]),
            role=str(payload["role"]),
            token_id=str(payload["jti"]),
            issued_at=issued_at,
            expires_at=expires_at,
            token_type=str(payload["typ"]),
            authenticated_at=authenticated_at,
            session_id=str(payload["sid"]),
        )


def _is_numeric_date(value: object) -> bool:
    """A JSON integer within the years datetime can hold (bool is an int in Python: refused)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 253_402_300_800


# ---- credentials: Open Badges VC-JWTs, signed with the issuer's EC P-256 key ---------------------

CREDENTIAL_ALGORITHM = "ES256"
CREDENTIAL_ALGORITHMS = frozenset({CREDENTIAL_ALGORITHM})  # a credential signed any other way is refused
_THUMBPRINT_MEMBERS = ("crv", "kty", "x", "y")  # RFC 7638 section 3.2: the required members of an EC key


class CredentialTokenError(InvalidToken):
    """Why a presented credential cannot be trusted: ``kind`` is malformed, algorithm, unknown_key or signature."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def jwk_thumbprint(public_jwk: dict[str, str]) -> str:
    """RFC 7638: SHA-256 over the key's required members in lexicographic order, without whitespace."""
    canonical = json.dumps({name: public_jwk[name] for name in _THUMBPRINT_MEMBERS}, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


class CredentialCodec:
    """Signs credentials with one private key; verifies them against published public keys only.

    The JOSE header names the key twice: ``kid`` (its thumbprint, as listed in the issuer's JWKS)
    and ``jwk`` (the public key itself, for Open Badges verifiers that do not dereference a kid).
    Verification here never trusts the embedded ``jwk``: the key must be one the issuer publishes.
    """

    def __init__(self, private_key_pem: str) -> None:
        self._private_key_pem = private_key_pem
        public = jwk.construct(private_key_pem, CREDENTIAL_ALGORITHM).public_key().to_dict()
        if public.get("kty") != "EC" or public.get("crv") != "P-256":
            raise ValueError("credentials are signed with an EC P-256 key")
        self.key_id = jwk_thumbprint(public)
        self.public_jwk: dict[str, str] = {
            "kty": "EC",
            "crv": "P-256",
            "x": public["x"],
            "y": public["y"],
            "kid": self.key_id,
            "alg": CREDENTIAL_ALGORITHM,
            "use": "sig",
        }

    def sign(self, claims: dict[str, Any]) -> str:
        embedded = {name: self.public_jwk[name] for name in _THUMBPRINT_MEMBERS}
        headers = {"kid": self.key_id, "typ": "JWT", "jwk": embedded}
        payload = json.dumps(claims, separators=(",", ":")).encode()
        token: str = jws.sign(payload, self._private_key_pem, headers=headers, algorithm=CREDENTIAL_ALGORITHM)
        return token

    @staticmethod
    def verify(token: str, public_keys: dict[str, dict[str, str]]) -> dict[str, Any]:
        """The claims of ``token`` if one of ``public_keys`` (by kid) signed it with ES256."""
        try:
            header = jws.get_unverified_header(token)
            claims = json.loads(jws.get_unverified_claims(token))
        # anyone may present anything: a header of the wrong shape, or JSON nested past the parser's depth
        except (JOSEError, ValueError, TypeError, RecursionError) as exc:
            raise CredentialTokenError("malformed", "not a compact JWS with JSON header and payload") from exc
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise CredentialTokenError("malformed", "the header and the payload must be JSON objects")
        algorithm, kid = header.get("alg"), header.get("kid")
        if not isinstance(algorithm, str) or algorithm not in CREDENTIAL_ALGORITHMS:
            raise CredentialTokenError("algorithm", "the algorithm is not accepted")
        key = public_keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise CredentialTokenError("unknown_key", "the key is not published by this issuer")
        try:
            jws.verify(token, key, [CREDENTIAL_ALGORITHM])
        except JOSEError as exc:  # header and payload parsed above: what fails now is the signature
            raise CredentialTokenError("signature", "the signature does not match") from exc
        return claims

    @staticmethod
    def read_unverified(token: str) -> dict[str, Any]:
        """The payload of a token this service stored itself (to show it, never to trust it)."""
        claims: dict[str, Any] = json.loads(jws.get_unverified_claims(token))
        return claims
