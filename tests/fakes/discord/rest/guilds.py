"""REST routes for channels and guilds: a channel (a thread or a forum too), a guild
with its channels, roles and members, and the typing indicator, each refused the way
Discord refuses a bot that cannot see or write in the channel, or asks about one that
is gone."""

from __future__ import annotations

from typing import Any

from ..errors import missing_access, missing_permissions, unknown
from ..permissions import VIEW_CHANNEL
from ..state import _Channel, _Guild


class GuildRoutesMixin:
    """FakeDiscord's /channels/{id} and /guilds/{id} routes."""

    # ----- REST: channels, guilds ---------------------------------------------------------------------------
    def _channel_for_bot(self, params: dict[str, str]) -> _Channel:
        """The channel, if the bot can see it (404 Unknown Channel, 403 Missing Access)."""
        channel = self._live_channel(self._snowflake(params, "channel_id"))
        if channel.guild_id is not None and not self._permissions(channel, self.bot_user_id) & VIEW_CHANNEL:
            raise missing_access()
        return channel

    def _live_channel(self, channel_id: int) -> _Channel:
        """The channel, unless it never existed or has been deleted (404 Unknown Channel)."""
        channel = self._channels.get(channel_id)
        if channel is None:
            raise unknown("Channel", 10003)
        return channel

    def _guild_for_bot(self, params: dict[str, str]) -> _Guild:
        guild = self._guilds.get(self._snowflake(params, "guild_id"))
        if guild is None:
            raise unknown("Guild", 10004)
        return guild

    async def _get_channel(self, params: dict[str, str], **_: Any) -> dict[str, Any]:
        return self._channel_json(self._channel_for_bot(params))

    async def _get_guild(self, params: dict[str, str], query: dict[str, str], **_: Any) -> dict[str, Any]:
        guild = self._guild_for_bot(params)
        data = self._guild_json(guild)
        if query.get("with_counts", "").lower() in ("1", "true"):
            data |= {"approximate_member_count": len(guild.members), "approximate_presence_count": 0}
        return data

    async def _get_guild_channels(self, params: dict[str, str], **_: Any) -> list[dict[str, Any]]:
        guild = self._guild_for_bot(params)
        return [self._channel_json(self._channels[c]) for c in guild.channel_ids]

    async def _get_active_threads(self, params: dict[str, str], **_: Any) -> dict[str, Any]:
        """Guild.active_threads(): the active threads the bot can see, with its thread member for those it joined."""
        threads = [self._channel_json(t) for t in self._visible_threads(self._guild_for_bot(params))]
        return {"threads": threads, "members": [t.pop("member") for t in threads if "member" in t]}

    async def _get_guild_roles(self, params: dict[str, str], **_: Any) -> list[dict[str, Any]]:
        return [r.json() for r in self._guild_for_bot(params).roles.values()]

    async def _get_member(self, params: dict[str, str], **_: Any) -> dict[str, Any]:
        guild = self._guild_for_bot(params)
        member = guild.members.get(self._snowflake(params, "user_id"))
        if member is None:
            raise unknown("Member", 10007)
        return self._member_json(guild, member)

    async def _typing(self, params: dict[str, str], **_: Any) -> None:
        channel = self._channel_for_bot(params)
        if not self._permissions(channel, self.bot_user_id) & self._talk_permission(channel):
            raise missing_permissions()
