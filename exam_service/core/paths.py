"""Where the project's non-Python parts live: the source tree, or the working directory of an install."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parents[2]


@lru_cache
def project_root() -> Path:
    """The folder holding ``alembic.ini``, ``migrations/`` and ``frontend/``."""
    for candidate in (SOURCE_ROOT, Path.cwd()):
        if (candidate / "alembic.ini").is_file():
            return candidate
    raise FileNotFoundError("alembic.ini not found; run from the folder that holds it")
