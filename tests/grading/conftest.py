"""The grading tests run candidate code in the real sandbox; without bubblewrap they are skipped."""

from __future__ import annotations

import shutil

import pytest

from exam_service.grading.sandbox import Sandbox, find_cgroups

NO_BWRAP = "bubblewrap (bwrap) is not installed; `make test` installs it where it may (root with apt)"


@pytest.fixture
def sandbox() -> Sandbox:
    if shutil.which("bwrap") is None:
        pytest.skip(NO_BWRAP)
    return Sandbox(cgroups=find_cgroups())  # a memory cap per sandbox where the host allows it
