"""All configuration, read once from ``EXAM_*`` environment variables (or ``.env``)."""

from __future__ import annotations

import ipaddress
import json
import math
from collections import Counter
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SECRET = "development-only-secret-change-me-0123456789"

TokenAlgorithm = Literal["HS256", "HS384", "HS512", "RS256", "ES256"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EXAM_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///./var/exam.db"
    database_echo: bool = False
    redis_url: str | None = None  # unset: the in-process broker

    token_algorithm: TokenAlgorithm = "HS256"
    token_secret: SecretStr = SecretStr(DEFAULT_SECRET)
    token_private_key: SecretStr | None = None  # PEM, for RS256 / ES256
    token_public_key: str | None = None  # PEM, for RS256 / ES256
    token_issuer: str = "exam-service"
    token_audience: str = "exam-service-api"
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # a signed-in session is refreshed token by token, for at most this long after the password
    session_hours: float = Field(default=12, gt=0, le=72)

    allowed_origins: list[str] = []
    # addresses (or CIDR ranges) of reverse proxies whose X-Forwarded-For is believed; none by default
    # given as a JSON list or comma-separated: EXAM_TRUSTED_PROXIES=10.0.0.5,10.1.0.0/16
    trusted_proxies: Annotated[list[str], NoDecode] = []
    # Strict-Transport-Security max-age for deployments served over HTTPS; 0 sends no HSTS header
    hsts_seconds: int = Field(default=0, ge=0, le=2 * 365 * 24 * 3600)
    # /metrics answers only a bearer of this token; unset, /metrics is not served
    metrics_token: SecretStr | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    max_body_bytes: int = Field(default=2_000_000, ge=1024)

    # login limits (identity/throttle.py): after `login_slow_after` failures of one account from one
    # address each further try waits 2**n seconds, at most 30; an address that fails on
    # `login_lock_after` different accounts within the window is refused for `login_lock_minutes`.
    # An account is never locked. A record is forgotten after `login_window_minutes` without failures.
    login_slow_after: int = Field(default=5, ge=1)
    login_lock_after: int = Field(default=10, ge=2)
    login_lock_minutes: int = Field(default=15, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)

    sweep_interval_seconds: float = Field(default=10.0, ge=0)  # 0 turns the background sweeper off

    # live proctoring channels (docs/PROCTORING.md)
    channel_ticket_seconds: int = Field(default=30, ge=5, le=300)
    ws_max_message_bytes: int = Field(default=8192, ge=256, le=1_000_000)
    ws_rate_per_second: float = Field(default=20, gt=0)  # sustained frames per second per socket
    ws_rate_burst: int = Field(default=60, ge=1)
    ws_queue_size: int = Field(default=2000, ge=10)  # frames waiting for a slow client before it is cut off
    heartbeat_seconds: int = Field(default=10, ge=1, le=120)
    heartbeat_timeout_seconds: float = Field(default=30, gt=0)  # no heartbeat this long: connection_lost
    presence_interval_seconds: float = Field(default=5, gt=0)  # how often workers share who is connected
    snapshot_dir: str = "var/snapshots"
    snapshot_max_bytes: int = Field(default=512 * 1024, ge=1024)
    snapshot_retention_days: int = Field(default=30, ge=1)

    # grading performance tasks (docs/GRADING.md)
    grading_allow_unsandboxed: bool = False  # development only: run candidate code without bubblewrap
    grading_concurrency: int = Field(default=0, ge=0, le=64)  # sandboxes at once per worker; 0: one per CPU
    # who grades: "local" (a pool in each web process), "arq" (workers through Redis), "off" (web
    # processes leave jobs in the outbox for `exam-service worker`); "auto": arq with Redis, else local
    grading_dispatch: Literal["auto", "local", "arq", "off"] = "auto"
    grading_job_timeout_seconds: int = Field(default=300, ge=10, le=3600)
    grading_max_tries: int = Field(default=3, ge=1, le=10)
    grading_lease_seconds: int = Field(default=60, ge=5, le=3600)  # a running job not renewed this long is taken over
    grading_queue: str = "exam-service:grading"  # the arq queue
    # a delegated cgroup v2 folder for per-sandbox memory caps; unset: the grader's own cgroup v1, if writable
    grading_cgroup: str | None = None
    grading_requeue_seconds: int = Field(default=600, ge=30)  # a queued job not finished by then is handed over again

    # scoring (docs/SCORING.md): how often each process looks for sittings to score; 0 turns it off
    scoring_interval_seconds: float = Field(default=5.0, ge=0)

    # credentials (docs/SCORING.md): an EC P-256 private key (PEM) signs every issued credential;
    # in development a key is generated into `credential_key_file` when none is given
    credential_signing_key: SecretStr | None = None
    credential_key_file: str = "var/credential-key.pem"

    log_level: str = "INFO"
    log_json: bool = True
    bank_path: str = "question_bank"

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies", mode="after")
    @classmethod
    def _proxies_are_addresses(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or CIDR range") from None
        return value

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        """Refuses a configuration unsafe to run, naming the setting at fault and never its value.

        A plain ``ValueError`` here would make pydantic print the whole input (the token secret and
        keys among it), so the refusal is raised with a placeholder in place of the input.
        """
        problems: list[str] = []
        if self.environment != "development" and self.token_algorithm.startswith("HS"):
            secret = self.token_secret.get_secret_value()
            # Shannon entropy per character: a repeated short pattern ("aaaa...", "abcabc...") stays
            # under 3 bits, random text from any generator (hex, base64, token_urlsafe) is well above it
            counts = Counter(secret).values()
            bits = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts) if secret else 0.0
            if secret == DEFAULT_SECRET:
                problems.append("EXAM_TOKEN_SECRET must be set outside development")
            elif len(secret) < 32:
                problems.append("EXAM_TOKEN_SECRET must be at least 32 characters")
            elif bits < 3.0:
                problems.append(
                    "EXAM_TOKEN_SECRET is too predictable (too few different characters); generate one with "
                    "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
                )
        if not self.token_algorithm.startswith("HS") and not (self.token_private_key and self.token_public_key):
            problems.append(f"{self.token_algorithm} needs EXAM_TOKEN_PRIVATE_KEY and EXAM_TOKEN_PUBLIC_KEY")
        if self.grading_allow_unsandboxed and self.environment == "production":
            problems.append("EXAM_GRADING_ALLOW_UNSANDBOXED cannot be set in production")
        if self.environment == "production" and self.credential_signing_key is None:
            problems.append("EXAM_CREDENTIAL_SIGNING_KEY must be set in production")
        if self.login_lock_after <= self.login_slow_after:
            problems.append("EXAM_LOGIN_LOCK_AFTER must be greater than EXAM_LOGIN_SLOW_AFTER")
        if problems:
            errors = [
                InitErrorDetails(type=PydanticCustomError("value_error", problem), loc=(), input="(not shown)")
                for problem in problems
            ]
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
