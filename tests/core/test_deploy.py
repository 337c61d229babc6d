"""deploy/compose.yaml, checked as far as a machine with no Docker engine can:
the services, their commands and roles, health checks, restarts, and that every
setting it names is one the bot has."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from bot.roles import Role
from bot.settings import Settings

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "compose.yaml"
BOT_SERVICES = {"api": {Role.API}, "telegram": {Role.TELEGRAM}, "discord": {Role.DISCORD}, "worker": {Role.WORKER}}
# Read by compose itself, for the PostgreSQL service; the bot gets DATABASE_URL.
COMPOSE_ONLY = {"POSTGRES_PASSWORD"}


def services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def test_postgres_keeps_its_data_and_says_when_it_is_ready() -> None:
    postgres = services()["postgres"]
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in postgres["volumes"])
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_each_role_runs_from_one_image_restarting_on_failure_with_a_health_check() -> None:
    found = services()
    assert set(found) == {"postgres", *BOT_SERVICES}
    for name, roles in BOT_SERVICES.items():
        service = found[name]
        assert service["build"]["context"] == "..", name  # one image, the repository's Dockerfile
        command = service["command"]
        assert command[:2] == ["explainer-bot", "run"], name
        given = {Role(command[i + 1]) for i, word in enumerate(command) if word == "--role"}
        assert roles <= given and Role.API in given, (name, given)  # api: its own /healthz
        assert service["restart"] == "on-failure"
        assert "/healthz" in " ".join(service["healthcheck"]["test"])
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert found["worker"]["deploy"]["replicas"] == 2
    assert [port for name in BOT_SERVICES for port in found[name].get("ports", [])] == ["8080:8080"]


def test_every_setting_it_names_is_one_the_bot_has() -> None:
    known = {name.upper() for name in Settings.model_fields}
    text = COMPOSE.read_text()
    named = set(re.findall(r"\$\{([A-Z_]+)", text))
    for name in BOT_SERVICES:  # the postgres image's own variables are the image's business
        named |= set(services()[name].get("environment", {}))
    assert named - COMPOSE_ONLY <= known, named - COMPOSE_ONLY - known
    example = (COMPOSE.parents[1] / ".env.example").read_text()
    for name in COMPOSE_ONLY:
        assert f"# {name}=" in example, name  # documented beside the bot's settings
    for service in services().values():
        if "command" in service:
            assert shlex.join(service["command"]).startswith("explainer-bot run")
