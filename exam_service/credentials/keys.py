"""The issuer's signing key: loaded once per process, published as a JWKS, never leaves the server.

Production names the key (``EXAM_CREDENTIAL_SIGNING_KEY``, refused at start when missing);
development and tests keep one in ``credential_key_file``, generated on first use (mode 0600) so
that credentials issued yesterday still verify after a restart.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import Depends, Request

from exam_service.core.settings import Settings
from exam_service.core.tokens import CredentialCodec


class CredentialSigner:
    """Signs this issuer's credentials and names the keys a verifier may check them with.

    ``verification_keys`` holds every key still published: a key retired from signing stays
    there so that what it signed keeps verifying.
    """

    def __init__(self, private_key_pem: str, *, base_url: str) -> None:
        self._codec = CredentialCodec(private_key_pem)
        self.base_url = base_url.rstrip("/")
        self.verification_keys: dict[str, dict[str, str]] = {self._codec.key_id: self._codec.public_jwk}

    @classmethod
    def from_settings(cls, settings: Settings) -> CredentialSigner:
        if settings.credential_signing_key is not None:
            pem = settings.credential_signing_key.get_secret_value()
        elif settings.environment == "production":
            raise ValueError("EXAM_CREDENTIAL_SIGNING_KEY must be set in production")
        else:
            pem = load_or_create_key(Path(settings.credential_key_file))
        check_key(pem)
        return cls(pem, base_url=settings.public_base_url)

    @property
    def key_id(self) -> str:
        return self._codec.key_id

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": list(self.verification_keys.values())}

    def sign(self, claims: dict[str, Any]) -> str:
        return self._codec.sign(claims)

    def verify(self, token: str) -> dict[str, Any]:
        """The claims, or ``CredentialTokenError`` saying whether the token is malformed or forged."""
        return self._codec.verify(token, self.verification_keys)

    @staticmethod
    def read_unverified(token: str) -> dict[str, Any]:
        return CredentialCodec.read_unverified(token)


def check_key(pem: str) -> None:
    """Refuses anything but an unencrypted EC P-256 private key, with a message that says so."""
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"the credential signing key is not a readable PEM private key: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("the credential signing key must be an EC P-256 (secp256r1) private key")


def generate_key_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def load_or_create_key(path: Path) -> str:
    """The key in ``path``, created there (owner-only) when missing; two processes starting at once agree."""
    try:
        return path.read_text()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = generate_key_pem()
    # written whole under a private name, then linked into place: nobody reads a half-written key
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(pem)
        os.link(draft, path)
    except FileExistsError:  # another process put its key there first: use theirs
        return path.read_text()
    finally:
        draft.unlink(missing_ok=True)
    return pem


async def get_credential_signer(request: Request) -> CredentialSigner:
    signer: CredentialSigner = request.app.state.credential_signer
    return signer


CredentialSignerDep = Annotated[CredentialSigner, Depends(get_credential_signer)]
