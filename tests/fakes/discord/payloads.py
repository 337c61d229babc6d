"""The world as Discord's JSON: the bot user, members, channels (by type: forums with
their tags, threads with their metadata), guilds and the GUILD_CREATE payload a
session gets (the active threads the bot can see among it). Shared by the gateway,
the interactions and the REST routes, so every place describes an object the same
way."""

from __future__ import annotations

from typing import Any

from .constants import (
    DM_CHANNEL,
    FORUM_CHANNEL,
    GUILD_PRESENCES_INTENT,
    NEWS_CHANNEL,
    PRIVATE_THREAD,
    STAGE_CHANNEL,
    TEXT_CHANNEL,
    VOICE_CHANNEL,
)
from .gateway import _Session
from .permissions import VIEW_CHANNEL
from .state import _Channel, _Guild, _Member


class PayloadsMixin:
    """FakeDiscord's JSON of users, members, channels and guilds."""

    # ----- JSON of the world ---------------------------------------------------------------------------
    def _bot_json(self) -> dict[str, Any]:
        return self._users[self.bot_user_id].json()

    def _member_json(self, guild: _Guild, member: _Member, *, with_user: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in member.roles],
            "nick": None,
            "avatar": None,
            "banner": None,
            "joined_at": member.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
            "avatar_decoration_data": None,
        }
        if with_user:
            data["user"] = self._users[member.user_id].json()
        return data

    def _channel_json(self, channel: _Channel, *, with_guild_id: bool = True) -> dict[str, Any]:
        if channel.guild_id is None:
            recipient = self._users[channel.recipient_id].json() if channel.recipient_id in self._users else None
            return {
                "id": str(channel.id),
                "type": DM_CHANNEL,
                "last_message_id": None,
                "flags": 0,
                "recipients": [recipient] if recipient else [],
            }
        if channel.is_thread:
            return self._thread_json(channel)
        data: dict[str, Any] = {
            "id": str(channel.id),
            "type": channel.type,
            "name": channel.name,
            "position": channel.position,
            "permission_overwrites": [o.json() for o in channel.overwrites.values()],
            "parent_id": None,
            "nsfw": False,
            "flags": channel.flags,
        }
        if with_guild_id:
            data["guild_id"] = str(channel.guild_id)
        last_message_id = None if channel.last_message_id is None else str(channel.last_message_id)
        if channel.type in (TEXT_CHANNEL, NEWS_CHANNEL, VOICE_CHANNEL, STAGE_CHANNEL):
            data |= {"topic": None, "last_message_id": last_message_id, "rate_limit_per_user": 0}
        if channel.type in (VOICE_CHANNEL, STAGE_CHANNEL):
            data |= {"bitrate": 64000, "user_limit": 0, "rtc_region": None}
        if channel.type == FORUM_CHANNEL:
            data |= {
                "available_tags": [
                    {"id": str(tag_id), "name": name, "moderated": False, "emoji_id": None, "emoji_name": None}
                    for tag_id, name in channel.tags.items()
                ],
                "default_reaction_emoji": None,
                "default_sort_order": None,
                "default_forum_layout": 0,
                "default_thread_rate_limit_per_user": 0,
                "topic": None,
                "last_message_id": last_message_id,
                "rate_limit_per_user": 0,
            }
        return data

    def _thread_json(self, thread: _Channel, *, in_guild_create: bool = False) -> dict[str, Any]:
        """A thread as Discord sends it: a channel with a parent, an owner, counts and thread_metadata, the
        applied tags of a forum post, and the bot's own thread member when it has joined."""
        metadata: dict[str, Any] = {
            "archived": thread.archived,
            "auto_archive_duration": thread.auto_archive_duration,
            "archive_timestamp": thread.archive_timestamp,
            "locked": thread.locked,
            "create_timestamp": thread.created_at,
        }
        if thread.type == PRIVATE_THREAD:
            metadata["invitable"] = True
        data: dict[str, Any] = {
            "id": str(thread.id),
            "type": thread.type,
            "guild_id": str(thread.guild_id),
            "parent_id": str(thread.parent_id),
            "owner_id": str(thread.owner_id),
            "name": thread.name,
            "last_message_id": None if thread.last_message_id is None else str(thread.last_message_id),
            "rate_limit_per_user": 0,
            "message_count": thread.message_count,
            "total_message_sent": thread.total_message_sent,
            "member_count": min(len(thread.members), 50),  # Discord stops counting at 50
            "flags": thread.flags,
            "thread_metadata": metadata,
        }
        parent = self._channels.get(thread.parent_id)  # type: ignore[arg-type]
        if parent is not None and parent.type == FORUM_CHANNEL:
            data["applied_tags"] = [str(t) for t in thread.applied_tags]
        if self.bot_user_id in thread.members:
            member = {"join_timestamp": thread.members[self.bot_user_id], "flags": 0}
            if not in_guild_create:  # GUILD_CREATE leaves out what the thread already says
                member |= {"id": str(thread.id), "user_id": str(self.bot_user_id)}
            data["member"] = member
        return data

    def _visible_threads(self, guild: _Guild) -> list[_Channel]:
        """The guild's active threads the bot can see: what GUILD_CREATE lists and thread events go to."""
        threads = [self._channels[t] for t in guild.thread_ids]
        return [t for t in threads if not t.archived and self._permissions(t, self.bot_user_id) & VIEW_CHANNEL]

    def _guild_json(self, guild: _Guild) -> dict[str, Any]:
        """A guild as GET /guilds/{id} returns it (GUILD_CREATE adds channels, members...)."""
        return {
            "id": str(guild.id),
            "name": guild.name,
            "owner_id": str(guild.owner_id),
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "features": [],
            "emojis": [],
            "stickers": [],
            "roles": [r.json() for r in guild.roles.values()],
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "application_id": None,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "incidents_data": None,
        }

    def _guild_create(self, guild: _Guild, session: _Session) -> dict[str, Any]:
        # Without the presences intent Discord lists only the bot itself among the members.
        everyone_listed = bool(session.intents & GUILD_PRESENCES_INTENT)
        members = [m for m in guild.members.values() if everyone_listed or m.user_id == self.bot_user_id]
        return self._guild_json(guild) | {
            "joined_at": guild.joined_at,
            "large": False,
            "unavailable": False,
            "member_count": len(guild.members),
            "channels": [self._channel_json(self._channels[c], with_guild_id=False) for c in guild.channel_ids],
            "members": [self._member_json(guild, m) for m in members],
            "threads": [self._thread_json(t, in_guild_create=True) for t in self._visible_threads(guild)],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "embedded_activities": [],
            "lazy": True,
        }
