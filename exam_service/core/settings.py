"""All configuration, read once from ``EXAM_*`` environment variables (or ``.env``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    public_base_url: str = "http://127.0.0.1:8000"
    max_body_bytes: int = Field(default=2_000_000, ge=1024)

    # login throttling: after `login_slow_after` failures each further try must wait
    # 2**n seconds; after `login_lock_after` the key is refused for `login_lock_minutes`.
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

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment != "development":
            uses_secret = self.token_algorithm.startswith("HS")
            if uses_secret and self.token_secret.get_secret_value() == DEFAULT_SECRET:
                raise ValueError("EXAM_TOKEN_SECRET must be set outside development")
            if uses_secret and len(self.token_secret.get_secret_value()) < 32:
                raise ValueError("EXAM_TOKEN_SECRET must be at least 32 characters")
        if not self.token_algorithm.startswith("HS") and not (self.token_private_key and self.token_public_key):
            raise ValueError(f"{self.token_algorithm} needs EXAM_TOKEN_PRIVATE_KEY and EXAM_TOKEN_PUBLIC_KEY")
        if self.grading_allow_unsandboxed and self.environment == "production":
            raise ValueError("EXAM_GRADING_ALLOW_UNSANDBOXED cannot be set in production")
        if self.environment == "production" and self.credential_signing_key is None:
            raise ValueError("EXAM_CREDENTIAL_SIGNING_KEY must be set in production")
        if self.login_lock_after <= self.login_slow_after:
            raise ValueError("EXAM_LOGIN_LOCK_AFTER must be greater than EXAM_LOGIN_SLOW_AFTER")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
