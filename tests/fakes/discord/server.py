"""FakeDiscord itself: its state, starting and stopping the aiohttp server, pointing
discord.py at it, setting up the world (guilds, channels, roles, members, overwrites,
DMs, rate limits, disconnects), what users do (slash commands, autocomplete, buttons,
selects, modals, a moderator deleting a message), and what a test observes. The
gateway, the interactions and the REST routes are mixins from their own modules, so
this class stays the place for the world and its lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import time
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web

from .constants import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    CHAT_INPUT,
    DM_CHANNEL,
    EPHEMERAL,
    GUILD_CHANNEL_TYPES,
    GUILD_MEMBERS_INTENT,
    GUILDS_INTENT,
    HEARTBEAT_INTERVAL_MS,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    TEXT_CHANNEL,
)
from .gateway import GatewayMixin, _Connection, _Session
from .helpers import _short, _Snowflakes
from .interactions import UserInteractionsMixin
from .observed import Call, GatewayFrame
from .payloads import PayloadsMixin
from .permissions import DEFAULT_EVERYONE_PERMISSIONS, PermissionsMixin
from .rest import (
    CommandRoutesMixin,
    GuildRoutesMixin,
    InteractionRoutesMixin,
    MessageRoutesMixin,
    RestPlumbingMixin,
    UserRoutesMixin,
)
from .state import (
    _Channel,
    _Guild,
    _Interaction,
    _Member,
    _Overwrite,
    _Role,
    _StoredMessage,
    _User,
)


class FakeDiscord(
    GatewayMixin,
    UserInteractionsMixin,
    RestPlumbingMixin,
    UserRoutesMixin,
    CommandRoutesMixin,
    GuildRoutesMixin,
    MessageRoutesMixin,
    InteractionRoutesMixin,
    PayloadsMixin,
    PermissionsMixin,
):
    """Discord for one bot (one application), with a world of guilds the test sets up.

    Attributes a test may change before the bot connects: `privileged_intents`
    (which privileged intents the application may use; others close the
    gateway with 4014), `recommended_shards` (what GET /gateway/bot says),
    `callback_deadline` and `token_lifetime` (the 3 s and 15 min interaction
    windows), `heartbeat_interval_ms`.
    """

    def __init__(
        self,
        token: str = "FAKE.TOKEN.x",
        application_id: int = 900000000000000001,
        bot_user_id: int = 900000000000000001,
        bot_name: str = "ExplainerBot",
    ) -> None:
        self.token = token
        self.application_id = application_id
        self.bot_user_id = bot_user_id
        self.bot_name = bot_name
        self.app_owner_id = 900000000000000999
        self.privileged_intents = 0
        self.recommended_shards = 1
        self.callback_deadline = 3.0
        self.token_lifetime = 15 * 60.0
        self.heartbeat_interval_ms = HEARTBEAT_INTERVAL_MS
        self.url = ""
        self.ws_url = ""
        # what tests observe
        self.calls: list[Call] = []
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.gateway_frames: list[GatewayFrame] = []
        self.identified_shards: list[tuple[int, int]] = []
        self.intents: int | None = None
        # the world
        self._ids = _Snowflakes()
        self._users: dict[int, _User] = {bot_user_id: _User(bot_user_id, bot_name, bot=True)}
        self._guilds: dict[int, _Guild] = {}
        self._channels: dict[int, _Channel] = {}
        self._dms: dict[int, int] = {}  # user id -> DM channel id
        self._messages: dict[int, _StoredMessage] = {}
        self._interactions: dict[str, _Interaction] = {}
        self._by_token: dict[str, _Interaction] = {}
        self._command_ids: dict[tuple[int | None, int, str], int] = {}  # (guild, type, name) -> stable id
        self._rate_limits: list[tuple[str, float, bool]] = []
        self._outage: int | None = None  # the status every REST request gets while Discord is down
        # gateway
        self._sessions: dict[str, _Session] = {}
        self._shards: dict[int, _Session] = {}  # shard id -> the newest session for it
        self._shard_count = 0
        self._connections: set[_Connection] = set()
        self._session_starts = 1000
        # bookkeeping
        self._changed = asyncio.Event()
        self._started_at = time.monotonic()
        self._runner: web.AppRunner | None = None
        self._patched: tuple[Any, Any] | None = None
        self._routes = self._route_table()

    # ----- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/api/v{version}/{tail:.*}", self._handle_rest)
        app.router.add_get("/gateway", self._handle_gateway)
        app.router.add_get("/gateway/", self._handle_gateway)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}/gateway"
        self._started_at = time.monotonic()

    async def stop(self) -> None:
        for connection in list(self._connections):
            connection.close(1001, "The fake is shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.unpatch_discord_py()

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def patch_discord_py(self) -> None:
        """Points discord.py at the fake (undone by stop() or unpatch_discord_py())."""
        import discord.gateway
        import discord.http
        import yarl

        if self._patched is None:
            self._patched = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        discord.http.Route.BASE = f"{self.url}/api/v10"
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(f"{self.ws_url}/")

    def unpatch_discord_py(self) -> None:
        if self._patched is None:
            return
        import discord.gateway
        import discord.http

        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._patched
        self._patched = None

    # ----- world setup ---------------------------------------------------------------------------------
    def add_guild(self, guild_id: int, name: str, owner_id: int) -> None:
        """A guild with its @everyone role (id == guild id), the bot and the owner as members."""
        guild = _Guild(guild_id, name, owner_id)
        guild.roles[guild_id] = _Role(guild_id, "@everyone", DEFAULT_EVERYONE_PERMISSIONS, 0)
        self._guilds[guild_id] = guild
        self._users.setdefault(owner_id, _User(owner_id, f"owner{owner_id}"))
        guild.members[self.bot_user_id] = _Member(self.bot_user_id, [])
        guild.members.setdefault(owner_id, _Member(owner_id, []))
        session = self._session_for(guild_id)
        if session is not None and session.ready and session.intents & GUILDS_INTENT:
            # the bot joins it: without `unavailable` (that marks an outage ending), discord.py fires on_guild_join
            joined = self._guild_create(guild, session)
            del joined["unavailable"]
            session.dispatch("GUILD_CREATE", joined)

    def add_channel(self, guild_id: int | None, channel_id: int, name: str, type: int = TEXT_CHANNEL) -> None:
        if guild_id is None:
            raise ValueError("DM channels come from open_dm(user_id, channel_id)")
        if type not in GUILD_CHANNEL_TYPES:
            raise ValueError(f"channel type {type} is not one the fake supports: {sorted(GUILD_CHANNEL_TYPES)}")
        guild = self._guild(guild_id)
        channel = _Channel(channel_id, guild_id, name, type, position=len(guild.channel_ids))
        self._channels[channel_id] = channel
        guild.channel_ids.append(channel_id)
        self._dispatch_to_guild(guild_id, "CHANNEL_CREATE", self._channel_json(channel), GUILDS_INTENT)

    def add_role(self, guild_id: int, role_id: int, name: str, permissions: int) -> None:
        """A role (or, with role_id == guild_id, @everyone's permissions)."""
        guild = self._guild(guild_id)
        event = "GUILD_ROLE_UPDATE" if role_id in guild.roles else "GUILD_ROLE_CREATE"
        position = guild.roles[role_id].position if role_id in guild.roles else len(guild.roles)
        guild.roles[role_id] = role = _Role(role_id, name, permissions, position)
        self._dispatch_to_guild(guild_id, event, {"guild_id": str(guild_id), "role": role.json()}, GUILDS_INTENT)

    def add_member(
        self, guild_id: int, user_id: int, name: str, roles: list[int] | tuple[int, ...] = (), *, bot: bool = False
    ) -> None:
        """Adds a member, or replaces one's roles (use bot_user_id to give the bot roles)."""
        guild = self._guild(guild_id)
        unknown_roles = [r for r in roles if r not in guild.roles]
        if unknown_roles:
            raise ValueError(f"roles {unknown_roles} are not in guild {guild_id}: add_role() them first")
        if user_id == self.bot_user_id:
            bot = True
            name = self.bot_name
        previous = self._users.get(user_id)
        self._users[user_id] = _User(user_id, name, bot=bot, accepts_dms=previous.accepts_dms if previous else True)
        existed = user_id in guild.members
        guild.members[user_id] = member = _Member(user_id, [r for r in roles if r != guild_id])
        data = self._member_json(guild, member) | {"guild_id": str(guild_id)}
        if existed:
            needed = 0 if user_id == self.bot_user_id else GUILD_MEMBERS_INTENT  # the bot hears about itself
            self._dispatch_to_guild(guild_id, "GUILD_MEMBER_UPDATE", data, needed)
        else:
            self._dispatch_to_guild(guild_id, "GUILD_MEMBER_ADD", data, GUILD_MEMBERS_INTENT)

    def set_overwrite(self, channel_id: int, target_id: int, allow: int, deny: int, type: int = 0) -> None:
        """A channel's permission overwrite for a role (type 0) or a member (type 1)."""
        channel = self._channel(channel_id)
        if channel.guild_id is None:
            raise ValueError("DM channels have no permission overwrites")
        if type not in (0, 1):
            raise ValueError("type is 0 (role) or 1 (member)")
        channel.overwrites[(type, target_id)] = _Overwrite(target_id, type, allow, deny)
        self._dispatch_to_guild(channel.guild_id, "CHANNEL_UPDATE", self._channel_json(channel), GUILDS_INTENT)

    def open_dm(self, user_id: int, channel_id: int) -> None:
        """The DM channel between the bot and a user."""
        self._users.setdefault(user_id, _User(user_id, f"user{user_id}"))
        self._channels[channel_id] = _Channel(channel_id, None, "", DM_CHANNEL, recipient_id=user_id)
        self._dms[user_id] = channel_id

    def block_dms(self, user_id: int) -> None:
        """The user does not accept DMs from the bot: sending there answers 403 (50007)."""
        self._users.setdefault(user_id, _User(user_id, f"user{user_id}")).accepts_dms = False

    def outage(self, status: int | None = 503) -> None:
        """Discord's REST API down: every request is answered `status` (502: Cloudflare's HTML
        page; 503: Envoy's plain text), until `outage(None)`. The gateway stays up."""
        if status is not None and not 500 <= status <= 599:
            raise ValueError("an outage answers 5xx")
        self._outage = status

    def rate_limit_next(self, route_substring: str, retry_after: float, *, is_global: bool = False) -> None:
        """The next request whose "METHOD /path" contains the substring is answered 429."""
        self._rate_limits.append((route_substring, retry_after, is_global))

    def disconnect(self, shard_id: int | None = None, *, code: int = 4000, resumable: bool = True) -> None:
        """Closes the gateway connection(s) (of one shard); without `resumable` RESUME is refused (op 9)."""
        for session in list(self._sessions.values()):
            if shard_id is not None and session.shard_id != shard_id:
                continue
            if session.connection is not None:
                session.connection.close(code, "Closed by the test")
            if not resumable:
                del self._sessions[session.id]

    # ----- user actions ---------------------------------------------------------------------------------
    def slash(self, channel_id: int, user_id: int, name: str, options: dict[str, Any] | None = None) -> str:
        """A user runs a slash command ("cmd", "cmd sub" or "cmd group sub"); returns the interaction id."""
        channel = self._channel(channel_id)
        command, path = self._command_for(channel, user_id, name)
        leaf_options, nest = self._descend(command, path)
        built, resolved = self._build_options(channel, user_id, leaf_options, options or {})
        data = {"id": command["id"], "name": command["name"], "type": CHAT_INPUT, "options": nest(built)}
        if resolved:
            data["resolved"] = resolved
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        return self._interact(
            APPLICATION_COMMAND, channel, user_id, data, name=command["name"], command_type=CHAT_INPUT
        )

    def autocomplete(
        self, channel_id: int, user_id: int, name: str, focused: str, value: str, options: dict[str, Any] | None = None
    ) -> str:
        """A user types `value` into option `focused` of a command; returns the interaction id."""
        channel = self._channel(channel_id)
        command, path = self._command_for(channel, user_id, name)
        leaf_options, nest = self._descend(command, path)
        definition = next((o for o in leaf_options if o["name"] == focused), None)
        if definition is None or not definition.get("autocomplete"):
            raise ValueError(f"/{name} has no option {focused!r} with autocomplete")
        # Discord sends what has been typed so far, unvalidated and without resolved objects.
        built = [
            {"name": key, "type": (kind := self._option_type(leaf_options, key)), "value": self._raw(kind, val)}
            for key, val in (options or {}).items()
            if key != focused
        ]
        built.append({"name": focused, "type": definition["type"], "value": value, "focused": True})
        data = {"id": command["id"], "name": command["name"], "type": CHAT_INPUT, "options": nest(built)}
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        return self._interact(
            AUTOCOMPLETE,
            channel,
            user_id,
            data,
            name=command["name"],
            command_type=CHAT_INPUT,
            focused_type=definition["type"],
        )

    def press(self, channel_id: int, user_id: int, message_id: int, custom_id: str, *, stale: bool = False) -> str:
        """A user presses a button on a message the bot sent; `stale` allows a button no longer on it."""
        stored = self._visible_message(channel_id, user_id, message_id)
        component = self._find_component(stored.payload.get("components", []), custom_id)
        if not stale:
            if component is None or component.get("type") != 2:
                raise ValueError(f"message {message_id} has no button {custom_id!r}: {self._custom_ids(stored)}")
            if component.get("disabled"):
                raise ValueError(f"button {custom_id!r} is disabled")
        data = {"custom_id": custom_id, "component_type": 2}
        return self._interact(MESSAGE_COMPONENT, self._channel(channel_id), user_id, data, message=stored)

    def select(self, channel_id: int, user_id: int, message_id: int, custom_id: str, values: list[str]) -> str:
        """A user picks `values` in a string select menu on a message the bot sent."""
        stored = self._visible_message(channel_id, user_id, message_id)
        component = self._find_component(stored.payload.get("components", []), custom_id)
        if component is None or component.get("type") != 3:
            raise ValueError(f"message {message_id} has no string select {custom_id!r}")
        offered = [o["value"] for o in component.get("options", [])]
        if any(v not in offered for v in values):
            raise ValueError(f"{values} are not all among the options {offered}")
        if not component.get("min_values", 1) <= len(values) <= component.get("max_values", 1):
            raise ValueError(f"{len(values)} values is outside min_values..max_values")
        data = {"custom_id": custom_id, "component_type": 3, "values": list(values)}
        return self._interact(MESSAGE_COMPONENT, self._channel(channel_id), user_id, data, message=stored)

    def delete_by_member(self, message_id: int) -> None:
        """A member with Manage Messages (a moderator) deletes the bot's message in a guild channel.
        The bot gets MESSAGE_DELETE; its later PATCH or DELETE of the message, through the channel or
        an interaction's webhook, answers 404 Unknown Message (10008)."""
        stored = self._messages.get(int(message_id))
        if stored is None or stored.deleted:
            raise ValueError(f"the bot has no message {message_id}")
        if self._channels[stored.channel_id].guild_id is None:
            raise ValueError(f"message {message_id} is in a DM: only the bot may delete its messages there")
        if stored.flags & EPHEMERAL:
            raise ValueError(f"message {message_id} is ephemeral: members cannot delete it")
        self._delete(stored)

    def submit_modal(self, interaction_id: str, values: dict[str, Any]) -> str:
        """The user submits the modal the bot answered `interaction_id` with: custom_id -> text (list for selects)."""
        opened = self._interactions[str(interaction_id)]
        if opened.modal is None:
            raise ValueError(f"interaction {interaction_id} was not answered with a modal")
        components = [self._submitted(c, values) for c in opened.modal["components"]]
        data = {"custom_id": opened.modal["custom_id"], "components": components}
        source = self._messages.get(opened.source_message_id) if opened.source_message_id else None
        return self._interact(MODAL_SUBMIT, self._channel(opened.channel_id), opened.user_id, data, message=source)

    # ----- observation ---------------------------------------------------------------------------------
    @property
    def errors(self) -> list[Call]:
        return [call for call in self.calls if not call.ok]

    def responses(self, interaction_id: str) -> list[dict[str, Any]]:
        """What the bot sent for the interaction, in order: the callback ({"kind": "callback", "type", "data"}),
        then {"kind": "edit" | "followup" | "delete", "message_id", "data"} entries."""
        interaction = self._interactions.get(str(interaction_id))
        return copy.deepcopy(interaction.responses) if interaction else []

    def messages(self, channel_id: int) -> list[dict[str, Any]]:
        """The bot's messages in the channel, as they are now (ephemeral ones included, flag 64), each with
        the `allowed_mentions` it was sent with (None when it sent none: Discord then pings everyone named)."""
        return [
            copy.deepcopy(m.payload) | {"allowed_mentions": copy.deepcopy(m.allowed_mentions)}
            for m in self._messages.values()
            if m.channel_id == channel_id and not m.deleted
        ]

    def message(self, message_id: int) -> dict[str, Any]:
        stored = self._messages[int(message_id)]
        return copy.deepcopy(stored.payload) | {"allowed_mentions": copy.deepcopy(stored.allowed_mentions)}

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                raise AssertionError(self.dump(f"condition not met within {timeout}s"))
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), min(0.05, max(deadline - time.monotonic(), 0)))

    async def wait_ready(self, timeout: float = 15.0, *, shard_ids: Iterable[int] | None = None) -> None:
        """Until every shard (of the latest IDENTIFYs' shard count, or just `shard_ids` for a bot running
        some of them) is connected and got READY and its GUILD_CREATEs."""
        wanted = None if shard_ids is None else list(shard_ids)
        await self.wait_for(lambda: self._shards_ready(wanted), timeout)

    def dump(self, headline: str, last: int = 30) -> str:
        """Recent requests and gateway sessions, for assertion messages."""
        shown = f", the last {last}:" if len(self.calls) > last else ":"
        lines = [f"{headline}; {len(self.calls)} requests so far{shown}"]
        for call in self.calls[-last:]:
            outcome = "" if call.ok else f" -> {_short(call.response, 300)}"
            lines.append(f"  +{call.at - self._started_at:.3f}s {call.route} {call.status}{outcome}")
        for session in self._sessions.values():
            state = ("connected" if session.connection else "disconnected") + (", ready" if session.ready else "")
            lines.append(
                f"  session {session.id[:8]} shard [{session.shard_id}, {session.shard_count}]"
                f" seq {session.seq} {state}"
            )
        return "\n".join(lines)

    # ----- the world, inside ---------------------------------------------------------------------------
    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _guild(self, guild_id: int) -> _Guild:
        if guild_id not in self._guilds:
            raise KeyError(f"guild {guild_id} is unknown: add_guild() it first")
        return self._guilds[guild_id]

    def _channel(self, channel_id: int) -> _Channel:
        if channel_id not in self._channels:
            raise KeyError(f"channel {channel_id} is unknown: add_channel() or open_dm() it first")
        return self._channels[channel_id]
