"""Every use of python-jose lives here, behind an explicit algorithm allowlist.

Access tokens carry ``iss``, ``aud``, ``sub``, ``role``, ``exp``, ``iat``, ``jti`` and ``typ``;
``decode`` refuses a token that lacks any of them, is signed with an algorithm other than the
one configured, or whose header names an algorithm outside the allowlist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jose import JWTError, jwt

from exam_service.core.settings import Settings

ALLOWED_ALGORITHMS = frozenset({"HS256", "HS384", "HS512", "RS256", "ES256"})
ACCESS = "access"
REQUIRED_CLAIMS = ("iss", "aud", "sub", "role", "exp", "iat", "jti", "typ")


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
        token_type: str = ACCESS,
        authenticated_at: datetime | None = None,
    ) -> tuple[str, TokenClaims]:
        claims = TokenClaims(
            subject=subject,
            role=role,
            token_id=uuid.uuid4().hex,
            issued_at=now,
            expires_at=now + lifetime,
            token_type=token_type,
            authenticated_at=authenticated_at or now,
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
        if payload["typ"] != expected_type:
            raise InvalidToken(f"token type {payload['typ']!r} is not {expected_type!r}")
        try:
            expires_at = datetime.fromtimestamp(int(payload["exp"]), tz=now.tzinfo)
            issued_at = datetime.fromtimestamp(int(payload["iat"]), tz=now.tzinfo)
            authenticated_at = datetime.fromtimestamp(int(payload.get("auth_time", payload["iat"])), tz=now.tzinfo)
        except (TypeError, ValueError) as exc:
            raise InvalidToken("exp, iat and auth_time must be numbers") from exc
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
        )
