"""Scoring tests grade tasks in the real sandbox, with grading's own fixture."""

from tests.grading.conftest import sandbox

__all__ = ["sandbox"]
