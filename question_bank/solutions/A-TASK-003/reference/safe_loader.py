"""Loads model artifacts only after verifying their SHA-256 digest (standard library only)."""
import hashlib
import hmac
import json
import os
import pickle
import re

PICKLE_EXTENSIONS = {".pkl", ".pickle", ".pt", ".pth", ".joblib"}
DIGEST = re.compile(r"[0-9a-fA-F]{64}")
CHUNK = 1024 * 1024


class IntegrityError(Exception):
    """The artifact's SHA-256 digest does not match the expected digest."""


class UntrustedFormatError(Exception):
    """A pickle-based artifact was requested from an untrusted source."""


def sha256_of(path):
    """Lowercase hex SHA-256 of the file at `path`, computed in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(CHUNK)
            if not chunk:
                break
            digest.update(chunk)
    return digest.hexdigest()


def load_artifact(path, expected_sha256, trusted_source=False):
    """Verify the digest, refuse untrusted pickle, then load JSON or (trusted) pickle."""
    if not isinstance(expected_sha256, str) or not DIGEST.fullmatch(expected_sha256):
        raise ValueError("expected_sha256 must be 64 hexadecimal characters")
    actual = sha256_of(path)
    if not hmac.compare_digest(actual, expected_sha256.lower()):
        raise IntegrityError(f"{path}: sha256 {actual} does not match {expected_sha256.lower()}")
    extension = os.path.splitext(path)[1].lower()
    with open(path, "rb") as handle:
        first = handle.read(1)
    if extension in PICKLE_EXTENSIONS or first == b"\x80":
        if not trusted_source:
            raise UntrustedFormatError(f"{path}: refusing to unpickle an artifact from an untrusted source")
        with open(path, "rb") as handle:
            return pickle.load(handle)
    if extension == ".json":
        with open(path, "rb") as handle:
            return json.load(handle)
    raise ValueError(f"{path}: unsupported artifact format {extension or '(none)'}")
