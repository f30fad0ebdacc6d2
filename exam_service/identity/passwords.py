"""Argon2 password hashing (pwdlib)."""

from __future__ import annotations

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

_hasher = PasswordHash((Argon2Hasher(),))
# verified against when the account does not exist, so timing does not reveal which emails exist
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    result: str = _hasher.hash(password)
    return result


def verify_password(password: str, password_hash: str | None) -> bool:
    ok: bool = _hasher.verify(password, password_hash or _DUMMY_HASH)
    return ok and password_hash is not None
