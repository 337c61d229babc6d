"""/start and /help: what the bot does, and its commands."""
from __future__ import annotations

from content.commands.caller import Caller
from content.commands.spec import Services
from content.messages import Reply
from content.replies.help import help_message
from content.replies.text import answer


async def start(services: Services, caller: Caller, args: str) -> Reply:
    return answer(help_message(intro=True))


async def help(services: Services, caller: Caller, args: str) -> Reply:  # noqa: A001 - the command's name
    return answer(help_message(intro=False))
