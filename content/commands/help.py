"""/start and /help: what the bot does, and its commands as the registry lists them."""

from __future__ import annotations

from content.commands.spec import Request, Services
from content.messages import Reply
from content.replies.help import help_message
from content.replies.text import answer


async def start(services: Services, request: Request) -> Reply:
    return answer(help_message(_listed(services), intro=True))


async def help(services: Services, request: Request) -> Reply:
    return answer(help_message(_listed(services), intro=False))


def _listed(services: Services) -> list[tuple[str, str]]:
    return [(spec.usage_line, spec.description) for spec in services.menu]
