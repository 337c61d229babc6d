"""FakeDiscord itself: its state, starting and stopping the aiohttp server, pointing
discord.py at it, setting up the world (guilds, channels, forums with their tags,
threads, roles, members, overwrites, DMs, archiving and deleting, rate limits,
disconnects), what users do (slash commands, autocomplete, buttons, selects, modals,
a member posting, a moderator deleting a message), and what a test observes (the
bot's messages and interaction answers, its forum posts, what it published). The
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
    ANNOUNCEMENT_THREAD,
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    CHAT_INPUT,
    DEFAULT_MESSAGE,
    DM_CHANNEL,
    EPHEMERAL,
    FORUM_CHANNEL,
    GUILD_CHANNEL_TYPES,
    GUILD_MEMBERS_INTENT,
    GUILDS_INTENT,
    HEARTBEAT_INTERVAL_MS,
    MAX_FORUM_TAG_NAME,
    MAX_FORUM_TAGS,
    MAX_THREAD_NAME,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    NEWS_CHANNEL,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    REQUIRE_TAG,
    TEXT_CHANNEL,
)
from .errors import ApiError
from .gateway import GatewayMixin, _Connection, _Session
from .helpers import _now_iso, _short, _Snowflakes
from .interactions import UserInteractionsMixin
from .observed import Call, GatewayFrame
from .payloads import PayloadsMixin
from .permissions import DEFAULT_EVERYONE_PERMISSIONS, VIEW_CHANNEL, PermissionsMixin
from .rest import (
    AnnouncementRoutesMixin,
    CommandRoutesMixin,
    GuildRoutesMixin,
    InteractionRoutesMixin,
    MessageRoutesMixin,
    RestPlumbingMixin,
    ThreadRoutesMixin,
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
    ThreadRoutesMixin,
    AnnouncementRoutesMixin,
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
        self._posts: dict[int, list[int]] = {}  # forum id -> the thread ids of the bot's posts
        self._crossposts: dict[int, list[tuple[float, int]]] = {}  # channel id -> (monotonic time, message id)
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

    def add_channel(
        self,
        guild_id: int | None,
        channel_id: int,
        name: str,
        type: int = TEXT_CHANNEL,
        *,
        tags: Iterable[tuple[int, str]] = (),
        require_tag: bool = False,
    ) -> None:
        """A guild channel: text (0), announcement (5: discord.py's TextChannel.is_news()), forum (15)...
        A forum offers `tags`, (tag id, name) pairs, and with `require_tag` refuses a post without one."""
        if guild_id is None:
            raise ValueError("DM channels come from open_dm(user_id, channel_id)")
        if type not in GUILD_CHANNEL_TYPES:
            raise ValueError(f"channel type {type} is not one the fake supports: {sorted(GUILD_CHANNEL_TYPES)}")
        tags = list(tags)
        if (tags or require_tag) and type != FORUM_CHANNEL:
            raise ValueError("only forum channels (type 15) have tags")
        if len(tags) > MAX_FORUM_TAGS or len({tag_id for tag_id, _ in tags}) != len(tags):
            raise ValueError(f"a forum has at most {MAX_FORUM_TAGS} tags, each with its own id")
        if any(not 1 <= len(tag_name) <= MAX_FORUM_TAG_NAME for _, tag_name in tags):
            raise ValueError(f"a tag's name is 1 to {MAX_FORUM_TAG_NAME} characters")
        guild = self._guild(guild_id)
        channel = _Channel(channel_id, guild_id, name, type, position=len(guild.channel_ids))
        channel.tags = dict(tags)
        channel.flags = REQUIRE_TAG if require_tag else 0
        self._channels[channel_id] = channel
        guild.channel_ids.append(channel_id)
        self._dispatch_to_guild(guild_id, "CHANNEL_CREATE", self._channel_json(channel), GUILDS_INTENT)

    def add_thread(
        self,
        parent_id: int,
        thread_id: int,
        name: str,
        *,
        private: bool = False,
        archived: bool = False,
        locked: bool = False,
        owner_id: int | None = None,
        members: Iterable[int] = (),
    ) -> None:
        """A thread started in a text or announcement channel: public (type 11, or 10 in an announcement
        channel) or private (type 12, seen only by its members and by whoever may manage threads). Its
        owner (the bot unless `owner_id`) and `members` have joined it. Permissions are the parent's. An
        active thread the bot can see reaches a connected bot as THREAD_CREATE and is in GUILD_CREATE's
        threads; an archived one the bot finds only with GET /channels/{id} (client.fetch_channel)."""
        parent = self._channel(parent_id)
        if parent.type not in (TEXT_CHANNEL, NEWS_CHANNEL):
            raise ValueError(
                f"threads start in text or announcement channels, not type {parent.type}"
                " (a forum's posts come from the bot's ForumChannel.create_thread)"
            )
        if private and parent.type != TEXT_CHANNEL:
            raise ValueError("private threads exist in text channels only")
        if not 1 <= len(name) <= MAX_THREAD_NAME:
            raise ValueError(f"a thread's name is 1 to {MAX_THREAD_NAME} characters")
        guild = self._guild(parent.guild_id)  # type: ignore[arg-type]
        owner = self.bot_user_id if owner_id is None else owner_id
        joined = [owner, *members]
        strangers = [u for u in joined if u not in guild.members]
        if strangers:
            raise ValueError(f"users {strangers} are not members of guild {guild.id}: add_member() them first")
        kind = PRIVATE_THREAD if private else ANNOUNCEMENT_THREAD if parent.type == NEWS_CHANNEL else PUBLIC_THREAD
        now = _now_iso()
        thread = _Channel(
            thread_id,
            guild.id,
            name,
            kind,
            parent_id=parent_id,
            owner_id=owner,
            archived=archived,
            locked=locked,
            members=dict.fromkeys(joined, now),
        )
        self._open_thread(thread)

    def archive_thread(self, thread_id: int, locked: bool = False) -> None:
        """Someone archives the thread (and, with `locked`, locks it): the bot gets THREAD_UPDATE. Posting
        unarchives it again, unless it is locked and the bot may not manage threads."""
        thread = self._channel(thread_id)
        if not thread.is_thread:
            raise ValueError(f"channel {thread_id} is not a thread")
        thread.archived, thread.locked = True, locked
        thread.archive_timestamp = _now_iso()
        self._thread_event("THREAD_UPDATE", thread)

    def delete_channel(self, channel_id: int) -> None:
        """Someone deletes a guild channel (its threads go with it) or a thread: the bot gets CHANNEL_DELETE or
        THREAD_DELETE, and every later request on it answers 404 Unknown Channel (10003)."""
        channel = self._channel(channel_id)
        if channel.guild_id is None:
            raise ValueError("a DM channel cannot be deleted")
        self._remove_channel(channel)

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
        if channel.is_thread:
            raise ValueError("a thread has its parent's permissions: set_overwrite() the parent")
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

    def post_by_member(self, channel_id: int, user_id: int, content: str) -> int:
        """A member (or, in a DM, the recipient) posts a message; returns its id. The bot gets MESSAGE_CREATE,
        with the content only if it has the message content intent or is mentioned, as on Discord. Posting
        needs the permissions it needs for the bot (in a thread Send Messages in Threads) and unarchives a
        thread."""
        channel = self._channel(channel_id)
        if channel.guild_id is None and user_id != channel.recipient_id:
            raise ValueError(f"user {user_id} is not the recipient of DM {channel_id}")
        if channel.guild_id is not None and not self._permissions(channel, user_id) & VIEW_CHANNEL:
            raise ValueError(f"user {user_id} cannot see channel {channel_id}")
        try:
            self._check_can_post(channel, {"content": content}, [], user_id)
        except ApiError as refused:
            raise ValueError(f"user {user_id} cannot post in channel {channel_id}: {refused}") from None
        stored = self._store(channel, {"content": content}, [], flags=0, kind=DEFAULT_MESSAGE, author_id=user_id)
        self._after_post(channel, user_id)
        self._notify()
        return stored.id

    def delete_by_member(self, message_id: int) -> None:
        """A member with Manage Messages (a moderator) deletes the bot's message in a guild channel.
        The bot gets MESSAGE_DELETE; its later PATCH or DELETE of the message, through the channel or
        an interaction's webhook, answers 404 Unknown Message (10008)."""
        stored = self._messages.get(int(message_id))
        if stored is None or stored.deleted:
            raise ValueError(f"there is no message {message_id}")
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
            if m.channel_id == channel_id and not m.deleted and m.author_id == self.bot_user_id
        ]

    def posts(self, forum_id: int) -> list[dict[str, Any]]:
        """The bot's posts in the forum that still exist, in order: {"thread_id", "name", "applied_tags": [tag
        ids], "message": the starter message as it is now (None once deleted)}."""
        records = []
        for thread_id in self._posts.get(forum_id, []):
            thread = self._channels.get(thread_id)
            if thread is None:
                continue
            starter = self._messages.get(thread_id)
            alive = starter is not None and not starter.deleted
            records.append(
                {
                    "thread_id": thread_id,
                    "name": thread.name,
                    "applied_tags": list(thread.applied_tags),
                    "message": copy.deepcopy(starter.payload) if alive else None,  # type: ignore[union-attr]
                }
            )
        return records

    def crossposted(self, channel_id: int) -> list[int]:
        """The ids of the messages published from the announcement channel, in order."""
        return [message_id for _, message_id in self._crossposts.get(channel_id, [])]

    def age_crossposts(self, channel_id: int, seconds: float) -> None:
        """Moves the channel's publishes `seconds` into the past: Discord's hourly limit (10 a channel) lets go
        once they are an hour old."""
        self._crossposts[channel_id] = [(at - seconds, m) for at, m in self._crossposts.get(channel_id, [])]

    def channel(self, channel_id: int) -> dict[str, Any]:
        """The channel (a thread, a forum...) as GET /channels/{id} answers it now."""
        return self._channel_json(self._channel(channel_id))

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
