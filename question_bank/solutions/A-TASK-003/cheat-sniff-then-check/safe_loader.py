"""Unsafe: 'sniffs' the format by trying pickle.load first, then checks the digest and the source.
Every error it raises is the expected one, but a malicious pickle has already run by then."""
import hashlib
import json
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
    try:
        with open(path, "rb") as handle:
            obj, is_pickle = pickle.load(handle), True
    except Exception:
        obj, is_pickle = None, False
    if sha256_of(path) != expected_sha256.lower():
        raise IntegrityError(path)
    if is_pickle:
        if not trusted_source:
            raise UntrustedFormatError(path)
        return obj
    if str(path).lower().endswith(".json"):
        with open(path, "rb") as handle:
            return json.load(handle)
    raise ValueError("unsupported format")
