"""Loads model artifacts only after verifying their SHA-256 digest (standard library only)."""
import hashlib
import json
import os
import pickle


class IntegrityError(Exception):
    """The artifact's SHA-256 digest does not match the expected digest."""


class UntrustedFormatError(Exception):
    """A pickle-based artifact was requested from an untrusted source."""


def sha256_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def load_artifact(path, expected_sha256, trusted_source=False):
    if len(expected_sha256) != 64:
        raise ValueError("bad digest")
    if sha256_of(path) != expected_sha256.lower():
        raise IntegrityError(path)
    ext = os.path.splitext(path)[1]
    if ext in (".pkl", ".pickle", ".pt", ".pth", ".joblib"):
        if not trusted_source:
            raise UntrustedFormatError(path)
        with open(path, "rb") as f:
            return pickle.load(f)
    if ext == ".json":
        with open(path) as f:
            return json.load(f)
    raise ValueError("unsupported format")
