"""Discord interactions turned into core calls, and the core's replies sent back.

Only Discord's own facts live here: which channel a command is about, what
Discord's permissions say of the user and the bot there (the core decides
from them), answering within 3 seconds, and ephemeral answers for one user.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping
from typing import Any

import discord

from adapters.discord.render import Outgoing, render
from content.chats.access import Lack, Missing, NoPlace, Place, Problem
from content.chats.ref import ChatKind, ChatRef, PlaceForm
from content.commands.caller import Caller
from content.commands.dispatcher import Commands
from content.messages import Reply

log = logging.getLogger(__name__)

PLATFORM = "discord"
NO_PINGS = discord.AllowedMentions.none()
# Discord fails an interaction not answered within 3 s; past this the bot defers.
ANSWER_WITHIN = 2.0


def chat_of(channel: object, channel_id: int | None, in_guild: bool) -> ChatRef:
    # Whether a server holds it, not the channel's class, makes a chat shared:
    # a thread is no GuildChannel in discord.py, yet its members are not one user.
    if in_guild or isinstance(channel, discord.abc.GuildChannel):
        name = getattr(channel, "name", None)
        title = f"#{name}" if name else None
        parent = getattr(channel, "parent_id", None)
        if isinstance(channel, (discord.Thread, discord.app_commands.AppCommandThread)) and parent:
            # A thread is a place within its channel: pushes go into it, and it can go alone.
            return ChatRef(PLATFORM, str(parent), ChatKind.GROUP, title, str(channel.id))
        return ChatRef(
            PLATFORM, str(getattr(channel, "id", None) or channel_id), ChatKind.GROUP, title, form=form_of(channel)
        )
    return ChatRef(PLATFORM, str(channel_id or getattr(channel, "id", 0)), ChatKind.PRIVATE)


def form_of(channel: object) -> PlaceForm:
    """How pushes land in a channel: as forum posts, as announcements that can
    be crossposted, or as plain messages."""
    kind = getattr(channel, "type", None)
    if kind is discord.ChannelType.forum:
        return PlaceForm.POSTS
    if kind is discord.ChannelType.news:
        return PlaceForm.ANNOUNCEMENTS
    return PlaceForm.MESSAGES


# The channels a subscription may name: where the bot can post a push. A
# thread may come partial (not in the gateway's cache: an archived one).
PLACE_CHANNELS = (discord.TextChannel, discord.ForumChannel, discord.Thread, discord.app_commands.AppCommandThread)


def rights_in(channel: Any, member: discord.Member) -> discord.Permissions:
    """What `member` may do in `channel`; a partial thread's are its parent's,
    with Send Messages in Threads in place of Send Messages, as Discord counts them."""
    if hasattr(channel, "permissions_for"):
        return channel.permissions_for(member)
    parent = member.guild.get_channel(getattr(channel, "parent_id", None) or 0)
    return parent.permissions_for(member) if parent is not None else discord.Permissions.none()


def place_of(interaction: discord.Interaction, channel: Any) -> Place | NoPlace:
    """A channel given as an option, and what Discord says of it, for the core to decide on."""
    named = f"#{channel.name}"
    guild = interaction.guild
    home = getattr(channel, "guild_id", None) or getattr(getattr(channel, "guild", None), "id", None)
    if guild is None or home != guild.id:
        return NoPlace(Problem.OTHER_SERVER, named)
    if not isinstance(channel, PLACE_CHANNELS):
        return NoPlace(Problem.WRONG_KIND, named)
    user = interaction.user

    async def caller_is_admin() -> bool:
        return isinstance(user, discord.Member) and rights_in(channel, user).manage_channels

    async def bot_lacks() -> Missing | None:
        return missing_bot_rights(channel, rights_in(channel, guild.me))

    ref = chat_of(channel, channel.id, in_guild=True)
    return Place(ref, named, caller_is_admin, bot_lacks, admin_right="Manage Channels")


def missing_bot_rights(channel: object, rights: discord.Permissions) -> Missing | None:
    """The first permission the bot lacks to push into `channel`, by Discord's
    name of it: a thread takes Send Messages in Threads, a forum takes posts
    (Send Messages, which Discord shows as Create Posts there)."""
    if isinstance(channel, (discord.Thread, discord.app_commands.AppCommandThread)):
        needed = (("view_channel", "View Channel"), ("send_messages_in_threads", "Send Messages in Threads"))
    elif getattr(channel, "type", None) is discord.ChannelType.forum:
        needed = (("view_channel", "View Channel"), ("send_messages", "Send Messages and Create Posts"))
    else:
        needed = (("view_channel", "View Channel"), ("send_messages", "Send Messages"))
    for right, name in (*needed, ("embed_links", "Embed Links")):
        if not getattr(rights, right):
            return Missing(Lack.PERMISSION, name)
    return None


class DiscordBridge:
    def __init__(self, commands: Commands) -> None:
        self.commands = commands

    def _caller(self, interaction: discord.Interaction) -> Caller:
        ref = chat_of(interaction.channel, interaction.channel_id, in_guild=interaction.guild_id is not None)
        user = interaction.user
        if ref.kind is ChatKind.PRIVATE:
            return Caller(ref, str(user.id))
        channel, rights = interaction.channel, interaction.app_permissions

        async def bot_lacks() -> Missing | None:
            # Discord says with each interaction what the bot may do where it was used.
            return missing_bot_rights(channel, rights)

        return Caller(ref, str(user.id), is_admin=bool(interaction.permissions.manage_channels), bot_lacks=bot_lacks)

    async def run(self, interaction: discord.Interaction, name: str, options: Mapping[str, object]) -> None:
        """A slash command: its typed options go to the core, a channel as the place it names."""
        args = {key: place_of(interaction, value) if _is_channel(value) else value for key, value in options.items()}
        await self._answer(interaction, self.commands.command(self._caller(interaction), name, args))

    async def press(self, interaction: discord.Interaction, action: str, argument: str) -> None:
        caller = self._caller(interaction)
        reply = await self.commands.press(caller, action, argument)
        if len(reply.messages) == 1 and reply.messages[0].replaces_pressed:
            outs = render(reply.messages[0])
            if len(outs) == 1:
                out = outs[0]
                await interaction.response.edit_message(
                    content=out.content, embeds=out.embeds, view=view_of(out), allowed_mentions=NO_PINGS
                )
                return
        # In a shared channel, a story opened from a button is for the one who pressed it.
        await self._send(interaction, reply, ephemeral=caller.chat.kind is not ChatKind.PRIVATE)

    async def choices(self, kind: str, current: str) -> list[discord.app_commands.Choice[str]]:
        return [
            discord.app_commands.Choice(name=label, value=value)
            for label, value in await self.commands.complete(kind, current)
        ]

    async def _answer(self, interaction: discord.Interaction, work: Awaitable[Reply]) -> None:
        task = asyncio.ensure_future(work)
        done, _ = await asyncio.wait({task}, timeout=ANSWER_WITHIN)
        if not done:
            await interaction.response.defer(thinking=True)
        await self._send(interaction, await task)

    async def _send(self, interaction: discord.Interaction, reply: Reply, ephemeral: bool | None = None) -> None:
        messages = list(reply.messages)
        if not messages:
            # A flood the core chose to ignore; Discord still wants an answer.
            if not interaction.response.is_done():
                await interaction.response.send_message("Slow down.", ephemeral=True, allowed_mentions=NO_PINGS)
            return
        for message in messages:
            private = message.private if ephemeral is None else ephemeral or message.private
            for out in render(message):
                await self._send_one(interaction, out, private)

    async def _send_one(self, interaction: discord.Interaction, out: Outgoing, private: bool) -> None:
        view = view_of(out)
        kwargs: dict[str, Any] = {
            "content": out.content,
            "embeds": out.embeds,
            "allowed_mentions": NO_PINGS,
            "ephemeral": private,
        }
        if view is not None:
            kwargs["view"] = view
        if not interaction.response.is_done():
            await interaction.response.send_message(**kwargs)
        else:
            await interaction.followup.send(**kwargs)


def _is_channel(value: object) -> bool:
    return isinstance(
        value,
        (
            discord.abc.GuildChannel,
            discord.Thread,
            discord.app_commands.AppCommandChannel,
            discord.app_commands.AppCommandThread,
        ),
    )


def _resolved(value: Any) -> Any:
    """The cached channel behind an option's partial one, where the cache has it
    (a thread the gateway has not announced may not be)."""
    if isinstance(value, (discord.app_commands.AppCommandChannel, discord.app_commands.AppCommandThread)):
        return value.resolve() or value
    return value


def view_of(out: Outgoing) -> discord.ui.View | None:
    from adapters.discord.buttons import ActionButton

    if not out.buttons:
        return None
    view = discord.ui.View(timeout=None)
    for label, cid in out.buttons:
        view.add_item(ActionButton.make(label, cid))
    return view
