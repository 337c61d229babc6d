"""Permissions: the bit values as Discord defines them, what @everyone may do in a new
guild and anyone in a DM, and the mixin that computes a user's permissions in a
channel the way Discord does (owner, @everyone, roles, administrator, then the
channel's overwrites; a thread takes its parent's, talks by SEND_MESSAGES_IN_THREADS
and, when private, shows itself only to its members and to moderators). Every "may
the bot (or user) do this here" answer comes from here, so a rule Discord adds has
one place to go."""

from __future__ import annotations

from .constants import PRIVATE_THREAD
from .state import _Channel, _Overwrite

# ----- permissions (bit values as Discord defines them) --------------------------------------
CREATE_INSTANT_INVITE = 1 << 0
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
ADD_REACTIONS = 1 << 6
STREAM = 1 << 9
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
SEND_TTS_MESSAGES = 1 << 12
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
CONNECT = 1 << 20
SPEAK = 1 << 21
USE_VOICE_ACTIVATION = 1 << 25
CHANGE_NICKNAME = 1 << 26
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
USE_EXTERNAL_STICKERS = 1 << 37
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 53) - 1
# What @everyone may do in a new guild (Discord's classic default plus the newer chat rights).
DEFAULT_EVERYONE_PERMISSIONS = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | STREAM
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | SEND_TTS_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | MENTION_EVERYONE
    | USE_EXTERNAL_EMOJIS
    | CONNECT
    | SPEAK
    | USE_VOICE_ACTIVATION
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | CREATE_PRIVATE_THREADS
    | USE_EXTERNAL_STICKERS
    | SEND_MESSAGES_IN_THREADS
)
# What anyone may do in a DM with the bot.
DM_PERMISSIONS = (
    ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | SEND_TTS_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | MENTION_EVERYONE
    | USE_EXTERNAL_EMOJIS
    | USE_APPLICATION_COMMANDS
)
# Discord takes these away from whoever may not send messages in the channel.
NEEDS_SEND_MESSAGES = MENTION_EVERYONE | SEND_TTS_MESSAGES | ATTACH_FILES | EMBED_LINKS


class PermissionsMixin:
    """FakeDiscord's permission computation."""

    def _permissions(self, channel: _Channel, user_id: int) -> int:
        """A user's permissions in a channel: Discord's algorithm (owner, @everyone, roles, administrator,
        then the channel's overwrites for @everyone, the roles and the member)."""
        if channel.guild_id is None:
            return DM_PERMISSIONS if user_id in (self.bot_user_id, channel.recipient_id) else 0
        if channel.is_thread:
            return self._thread_permissions(channel, user_id)
        permissions = self._overwritten(channel, user_id)
        if not permissions & VIEW_CHANNEL:
            return 0
        if not permissions & SEND_MESSAGES:
            permissions &= ~NEEDS_SEND_MESSAGES
        return permissions

    def _thread_permissions(self, thread: _Channel, user_id: int) -> int:
        """A thread's are its parent's, except that SEND_MESSAGES_IN_THREADS, not SEND_MESSAGES, lets one
        talk there, and a private thread is seen only by those in it and those who manage threads."""
        parent = self._channels.get(thread.parent_id)  # type: ignore[arg-type]
        if parent is None:
            return 0
        permissions = self._overwritten(parent, user_id)
        if not permissions & VIEW_CHANNEL:
            return 0
        if thread.type == PRIVATE_THREAD and user_id not in thread.members and not permissions & MANAGE_THREADS:
            return 0
        if not permissions & SEND_MESSAGES_IN_THREADS:
            permissions &= ~NEEDS_SEND_MESSAGES
        return permissions

    def _overwritten(self, channel: _Channel, user_id: int) -> int:
        """The guild's permissions of the user with the channel's overwrites applied, before the implicit denials."""
        guild = self._guilds[channel.guild_id]  # type: ignore[index]
        member = guild.members.get(user_id)
        if member is None:
            return 0
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        permissions = guild.roles[guild.id].permissions
        for role_id in member.roles:
            permissions |= guild.roles[role_id].permissions if role_id in guild.roles else 0
        if permissions & ADMINISTRATOR:
            return ALL_PERMISSIONS
        permissions = self._apply(permissions, channel.overwrites.get((0, guild.id)))
        role_overwrites = [channel.overwrites[(0, r)] for r in member.roles if (0, r) in channel.overwrites]
        allow = deny = 0
        for overwrite in role_overwrites:
            allow |= overwrite.allow
            deny |= overwrite.deny
        permissions = (permissions & ~deny) | allow
        return self._apply(permissions, channel.overwrites.get((1, user_id)))

    def _talk_permission(self, channel: _Channel) -> int:
        """The permission that lets one post in the channel (a forum's "Create Posts" is SEND_MESSAGES)."""
        return SEND_MESSAGES_IN_THREADS if channel.is_thread else SEND_MESSAGES

    @staticmethod
    def _apply(permissions: int, overwrite: _Overwrite | None) -> int:
        return permissions if overwrite is None else (permissions & ~overwrite.deny) | overwrite.allow
