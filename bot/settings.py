"""Settings from the environment and `.env`, validated once at start-up."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal

from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True)

    database_url: str = "sqlite+aiosqlite:///./data/explainer.db"
    seed_samples: bool = True
    site_url: str = "https://explainers.example.com"
    newsroom_name: str = Field(default="Explainers", min_length=1, max_length=100)
    newsroom_about: str = Field(
        default="The latest AI and tech stories, simplified for humans: each one reads in about 30 seconds.",
        min_length=1,
        max_length=500,
    )
    log_level: str = "INFO"

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_mode: Literal["polling", "webhook"] = "polling"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    discord_bot_token: SecretStr | None = None
    discord_api_base_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str = "wss://gateway.discord.gg"
    discord_guild_ids: Annotated[tuple[int, ...], NoDecode] = ()
    discord_shard_count: int | None = Field(default=None, ge=1)
    discord_shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = None

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8080, ge=0, le=65535)
    api_token: SecretStr | None = None

    delivery_lease_seconds: float = Field(default=30.0, gt=0)
    delivery_max_attempts: int = Field(default=5, ge=1)
    delivery_poll_seconds: float = Field(default=2.0, gt=0)
    delivery_outage_probe_max: float = Field(default=60.0, gt=0)
    # A tag a correction adds is pushed to its followers while the story is this young.
    delivery_correction_push_hours: float = Field(default=24.0, ge=0)
    telegram_rate_limit: float = Field(default=25.0, gt=0)
    telegram_chat_interval: float = Field(default=1.0, ge=0)
    telegram_group_per_minute: int = Field(default=20, ge=1)
    discord_rate_limit: float = Field(default=40.0, gt=0)
    discord_channel_interval: float = Field(default=1.0, ge=0)

    command_rate_limit: int = Field(default=20, ge=1)
    command_rate_window: float = Field(default=60.0, gt=0)

    feed_poll_seconds: float = Field(default=600.0, ge=1)
    feed_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    feed_allow_private: bool = False

    # The newsroom page: how long a sign-in lasts.
    newsroom_session_hours: float = Field(default=12.0, gt=0)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("site_url", "telegram_api_base_url", "discord_api_base_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if not value.endswith("/bot") else value

    @field_validator("discord_gateway_url")
    @classmethod
    def _ws(cls, value: str) -> str:
        if not value.startswith(("ws://", "wss://")):
            raise ValueError("must start with ws:// or wss://")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @field_validator("discord_guild_ids", "discord_shard_ids", mode="before")
    @classmethod
    def _id_list(cls, value: object) -> object:
        # Comma-separated in the environment: DISCORD_GUILD_IDS=123,456
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            if not all(p.isdigit() for p in parts):
                raise ValueError("must be numbers separated by commas")
            return tuple(int(p) for p in parts) or None
        return value

    @field_validator("telegram_webhook_url")
    @classmethod
    def _https_hook(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be the public https:// address Telegram posts updates to")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret_alphabet(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram accepts 1-256 characters of A-Z, a-z, 0-9, _ and - only.
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("must be 1-256 characters of letters, digits, _ and -")
        return value

    @model_validator(mode="after")
    def _webhook_complete(self) -> Settings:
        if self.telegram_mode == "webhook" and self.telegram_bot_token is not None:
            if not self.telegram_webhook_url:
                raise ValueError("TELEGRAM_WEBHOOK_URL is required when TELEGRAM_MODE=webhook")
            if self.telegram_webhook_secret is None:
                raise ValueError("TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_MODE=webhook")
        if self.discord_shard_ids is not None:
            if self.discord_shard_count is None:
                raise ValueError("DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT")
            if any(i >= self.discord_shard_count for i in self.discord_shard_ids):
                raise ValueError("DISCORD_SHARD_IDS must be below DISCORD_SHARD_COUNT")
        return self

    @field_validator(
        "telegram_bot_token",
        "discord_bot_token",
        "api_token",
        "telegram_webhook_secret",
        "telegram_webhook_url",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


class SettingsError(Exception):
    """One line naming the setting that is wrong."""


# Settings that did something once and now do nothing: said, then ignored.
RETIRED = {
    "DELIVERY_WORKERS": "the live delivery workers divide the chats between them by themselves",
    "DELIVERY_WORKER_INDEX": "the live delivery workers divide the chats between them by themselves",
}


def retired_settings(env_file: Path | None = Path(".env")) -> dict[str, str]:
    """Retired settings found in the environment or `.env`, with why they are ignored."""
    names = set(os.environ)
    if env_file is not None and env_file.is_file():
        names |= {k for k in dotenv_values(env_file) if k}
    return {name: why for name, why in RETIRED.items() if name in {n.upper() for n in names}}


def load_settings(env_file: Path | None = Path(".env")) -> Settings:
    try:
        return Settings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as exc:
        error = exc.errors()[0]
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        if not error.get("loc"):  # a rule across settings names them in its message
            raise SettingsError(f"invalid settings: {message}") from None
        name = str(error["loc"][0]).upper()
        raise SettingsError(f"invalid setting {name}: {message}") from None
