from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from exam_service.core.settings import DEFAULT_SECRET, Settings
from tests.factories import TEST_SECRET


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


def _refusal(**values: object) -> str:
    with pytest.raises(ValidationError) as refused:
        Settings(**values)  # type: ignore[arg-type]
    return str(refused.value)


def test_a_refusal_never_shows_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = secrets.token_urlsafe(32)
    monkeypatch.setenv("EXAM_TOKEN_SECRET", secret)
    message = _refusal(environment="production")  # a good secret, but no credential signing key
    assert "EXAM_CREDENTIAL_SIGNING_KEY must be set in production" in message
    for part in (secret, secret[:6], secret[-6:]):
        assert part not in message


def test_a_refusal_of_the_secret_itself_never_shows_it() -> None:
    secret = "Sh0rt-but-Secret-" + secrets.token_hex(4)
    message = _refusal(environment="production", token_secret=secret)
    assert "EXAM_TOKEN_SECRET must be at least 32 characters" in message
    assert secret[-6:] not in message
    assert secret[:6] not in message


@pytest.mark.parametrize("environment", ["production", "test"])
def test_a_predictable_secret_is_refused_and_a_generated_one_accepted(environment: str) -> None:
    for secret in ["a" * 32, "ab" * 24, "abcdefg" * 6, "0101" * 10]:
        message = _refusal(environment=environment, token_secret=secret, credential_signing_key="pem")
        assert "EXAM_TOKEN_SECRET is too predictable" in message
        assert secret[:6] not in message
    for secret in [secrets.token_urlsafe(32), secrets.token_urlsafe(48), secrets.token_hex(32), TEST_SECRET]:
        settings = Settings(environment=environment, token_secret=secret, credential_signing_key="pem")
        assert settings.token_secret.get_secret_value() == secret


def test_a_refused_start_prints_no_part_of_the_secret(tmp_path: Path) -> None:
    secret = secrets.token_urlsafe(32)
    env = {**os.environ, "EXAM_ENVIRONMENT": "production", "EXAM_TOKEN_SECRET": secret}
    env.pop("EXAM_CREDENTIAL_SIGNING_KEY", None)
    command = [sys.executable, "-m", "exam_service.cli", "serve", "--port", "1"]
    result = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "EXAM_CREDENTIAL_SIGNING_KEY must be set in production" in " ".join(output.split())
    for part in (secret, secret[:6], secret[-6:]):
        assert part not in output


def test_trusted_proxies_read_as_a_list_or_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAM_TRUSTED_PROXIES", "10.0.0.5, 10.1.0.0/16")
    assert Settings().trusted_proxies == ["10.0.0.5", "10.1.0.0/16"]
    monkeypatch.setenv("EXAM_TRUSTED_PROXIES", '["2001:db8::1"]')
    assert Settings().trusted_proxies == ["2001:db8::1"]
    monkeypatch.setenv("EXAM_TRUSTED_PROXIES", "10.0.0.5,proxy.internal")
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert "trusted_proxies" in str(refused.value)
    assert "'proxy.internal' is not an IP address" in str(refused.value)
