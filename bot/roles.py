"""The parts one process can run. Several processes share one PostgreSQL database
by running different roles: `api` serves HTTP, `telegram` and `discord` take
updates from those platforms, `worker` pushes deliveries."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    API = "api"
    TELEGRAM = "telegram"
    DISCORD = "discord"
    WORKER = "worker"


ALL_ROLES = tuple(Role)
