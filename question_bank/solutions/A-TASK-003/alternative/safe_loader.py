"""Loads model artifacts only after verifying their SHA-256 digest (standard library only)."""
import hashlib
import json
import pickle
import secrets
import string
from pathlib import Path

_HEX = frozenset(string.hexdigits)
_PICKLE_SUFFIXES = (".pkl", ".pickle", ".pt", ".pth", ".joblib")
_PICKLE_MAGIC = 0x80  # PROTO opcode: every pickle of protocol 2 or later starts with it


class IntegrityError(Exception):
    """The artifact's SHA-256 digest does not match the expected digest."""


class UntrustedFormatError(Exception):
    """A pickle-based artifact was requested from an untrusted source."""


def sha256_of(path):
    """Lowercase hex SHA-256 of the file at `path`, computed in chunks."""
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()  # 256 KiB buffer, Python 3.11+


def _normalised(expected):
    if isinstance(expected, str) and len(expected) == 64 and set(expected) <= _HEX:
        return expected.lower()
    raise ValueError(f"not a SHA-256 hex digest: {expected!r}")


def _looks_like_pickle(path, payload):
    return path.name.lower().endswith(_PICKLE_SUFFIXES) or payload[:1] == bytes([_PICKLE_MAGIC])


def load_artifact(path, expected_sha256, trusted_source=False):
    """Verify the digest, refuse untrusted pickle, then load JSON or (trusted) pickle."""
    expected = _normalised(expected_sha256)
    path = Path(path)
    if not secrets.compare_digest(sha256_of(path), expected):
        raise IntegrityError(f"{path.name}: content does not match the published digest")
    with path.open("rb") as stream:
        header = stream.read(1)
    if _looks_like_pickle(path, header):
        if trusted_source is not True:
            raise UntrustedFormatError(f"{path.name} is pickle-based and its source is not trusted")
        with path.open("rb") as stream:
            return pickle.load(stream)
    if path.suffix.lower() == ".json":
        return json.loads(path.read_text(encoding="utf-8"))
    raise ValueError(f"{path.name}: unsupported artifact format")
