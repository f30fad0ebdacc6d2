"""The signing key: generated once where none is configured, kept private, and only ever EC P-256."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc.jwk import ECKey
from pydantic import SecretStr

from exam_service.core.settings import Settings
from exam_service.credentials.keys import CredentialSigner, generate_key_pem
from tests.factories import TEST_SECRET


def _settings(tmp_path: Path, **extra: Any) -> Settings:
    return Settings(
        environment="test", token_secret=TEST_SECRET, credential_key_file=str(tmp_path / "keys" / "c.pem"), **extra
    )


def test_a_key_is_generated_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    first = CredentialSigner.from_settings(_settings(tmp_path))
    key_file = tmp_path / "keys" / "c.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = CredentialSigner.from_settings(_settings(tmp_path))  # a restart signs with the same key
    assert again.key_id == first.key_id
    assert [p.name for p in key_file.parent.iterdir()] == ["c.pem"]  # no draft left behind


def test_the_published_key_is_public_and_named_by_its_rfc_7638_thumbprint(tmp_path: Path) -> None:
    signer = CredentialSigner.from_settings(_settings(tmp_path))
    (published,) = signer.jwks()["keys"]
    assert "d" not in published  # the private part never leaves the server
    assert (published["kty"], published["crv"], published["alg"]) == ("EC", "P-256", "ES256")
    members: dict[str, str | list[str]] = {**published}
    assert published["kid"] == signer.key_id == ECKey.import_key(members).thumbprint()


def test_a_configured_key_is_used_and_no_file_is_written(tmp_path: Path) -> None:
    pem = generate_key_pem()
    signer = CredentialSigner.from_settings(_settings(tmp_path, credential_signing_key=SecretStr(pem)))
    assert signer.key_id == CredentialSigner(pem, base_url="http://x").key_id
    assert not (tmp_path / "keys").exists()


@pytest.mark.parametrize("kind", ["rsa", "p384", "garbage"])
def test_anything_but_an_ec_p256_private_key_is_refused(tmp_path: Path, kind: str) -> None:
    if kind == "garbage":
        pem = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"
    else:
        key = rsa.generate_private_key(65537, 2048) if kind == "rsa" else ec.generate_private_key(ec.SECP384R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
    with pytest.raises(ValueError, match=r"EC P-256|PEM"):
        CredentialSigner.from_settings(_settings(tmp_path, credential_signing_key=SecretStr(pem)))
