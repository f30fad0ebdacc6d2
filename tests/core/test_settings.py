from __future__ import annotations

import pytest
from pydantic import ValidationError

from exam_service.core.settings import DEFAULT_SECRET, Settings


def test_development_runs_with_the_default_secret() -> None:
    assert Settings(environment="development").token_secret.get_secret_value() == DEFAULT_SECRET


@pytest.mark.parametrize("environment", ["production", "test"])
def test_outside_development_the_default_secret_is_refused(environment: str) -> None:
    with pytest.raises(ValidationError, match="EXAM_TOKEN_SECRET must be set"):
        Settings(environment=environment)  # type: ignore[arg-type]


def test_short_secret_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(environment="production", token_secret="short")  # type: ignore[arg-type]


def test_asymmetric_algorithm_needs_keys() -> None:
    with pytest.raises(ValidationError, match="EXAM_TOKEN_PRIVATE_KEY"):
        Settings(token_algorithm="RS256")


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAM_DATABASE_URL", "postgresql+asyncpg://u@h/db")
    monkeypatch.setenv("EXAM_REDIS_URL", "redis://h:6379/0")
    monkeypatch.setenv("EXAM_ALLOWED_ORIGINS", '["https://exams.example.org"]')
    settings = Settings()
    assert settings.database_url == "postgresql+asyncpg://u@h/db"
    assert settings.redis_url == "redis://h:6379/0"
    assert settings.allowed_origins == ["https://exams.example.org"]
    assert not settings.is_sqlite
