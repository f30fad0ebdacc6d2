"""Looks complete, but load_artifact never compares the digest: it only validates its format and
trusts the trusted_source flag, so a replaced pickle from a 'trusted' bucket runs."""
import hashlib
import json
import os
import pickle
import re


class IntegrityError(Exception):
    """The artifact's SHA-256 digest does not match the expected digest."""


class UntrustedFormatError(Exception):
    """A pickle-based artifact was requested from an untrusted source."""


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_artifact(path, expected_sha256, trusted_source=False):
    if not isinstance(expected_sha256, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", expected_sha256):
        raise ValueError("malformed digest")
    with open(path, "rb") as handle:
        head = handle.read(1)
    ext = os.path.splitext(path)[1].lower()
    if ext in (".pkl", ".pickle", ".pt", ".pth", ".joblib") or head == b"\x80":
        if not trusted_source:
            raise UntrustedFormatError(path)
        with open(path, "rb") as handle:
            return pickle.load(handle)
    if ext == ".json":
        with open(path, "rb") as handle:
            return json.load(handle)
    raise ValueError("unsupported format")
