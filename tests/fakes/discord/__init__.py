"""A fake Discord (REST API v10 and gateway) for end-to-end tests through discord.py.

discord.py runs against it unmodified once it is pointed at it:

    fake = FakeDiscord()
    await fake.start()
    fake.patch_discord_py()      # Route.BASE and DiscordWebSocket.DEFAULT_GATEWAY
    fake.add_guild(GUILD, "Newsroom", owner_id=OWNER)
    fake.add_channel(GUILD, CHANNEL, "general")
    fake.add_member(GUILD, USER, "ada")
    ... client.login(fake.token); client.connect() ...
    await fake.wait_ready()
    interaction_id = fake.slash(CHANNEL, USER, "latest", {"topic": "ai"})
    await fake.wait_for(lambda: fake.responses(interaction_id))

It enforces the rules Discord enforces (message and embed limits, components,
channel permissions, the 3-second interaction deadline, one acknowledgement
per interaction, command definitions...) and answers a broken request the way
Discord does (status, JSON error code, `errors` naming the offending field),
so a bot that sends a wrong message fails its test instead of failing in
production. Where Discord's exact error wording is unknown the fake uses a
plausible one; the status and JSON error code are what discord.py reacts to.

Pointing an app at it by hand: discord.http.Route.BASE = f"{fake.url}/api/v10"
and discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.ws_url)
(with or without a trailing slash). Both are class attributes: restore them
afterwards. Interaction callbacks and webhook routes need no Authorization
header (discord.py sends none there); every other route needs "Bot <token>".
Only zlib-stream (or no) transport compression is spoken: discord.py asks for
zstd-stream only when zstandard or compression.zstd can be imported.

The package, one module per part of the fake: constants (Discord's numbers:
intents, message flags and limits, channel, interaction and command types, gateway
opcodes), permissions (the permission bits and Discord's permission algorithm),
errors (error answers and form errors), observed (what a test reads back: REST
calls, gateway frames), helpers, validation (messages, embeds, components and
command definitions), state (the world's users, roles, members, channels, guilds,
messages, interactions), payloads (the world as Discord's JSON), gateway
(connections, sessions, IDENTIFY/RESUME and dispatches), interactions (what a user's
slash command, button or modal sends), rest/ (the REST routes, one mixin per group)
and server (FakeDiscord, composed from those mixins: lifecycle, world setup, user
actions, observation). Everything a test imports is re-exported here.
"""
from .constants import (
    ALL_INTENTS,
    API_VERSIONS,
    APPLICATION_COMMAND,
    ATTACHMENT,
    ATTACHMENT_SIZE_LIMIT,
    AUTOCOMPLETE,
    AUTOCOMPLETE_RESULT,
    BOOLEAN,
    CALLBACKS_FOR,
    CATEGORY_CHANNEL,
    CHANNEL,
    CHANNEL_MESSAGE,
    CHAT_INPUT,
    CHAT_INPUT_COMMAND_MESSAGE,
    CLOSE_ALREADY_AUTHENTICATED,
    CLOSE_AUTHENTICATION_FAILED,
    CLOSE_DECODE_ERROR,
    CLOSE_DISALLOWED_INTENTS,
    CLOSE_INVALID_INTENTS,
    CLOSE_INVALID_SHARD,
    CLOSE_NOT_AUTHENTICATED,
    CLOSE_SESSION_TAKEN_OVER,
    CLOSE_UNKNOWN_OPCODE,
    DEFAULT_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    DIRECT_MESSAGES_INTENT,
    DISCORD_EPOCH_MS,
    DM_CHANNEL,
    EPHEMERAL,
    FORUM_CHANNEL,
    GUILD_CHANNEL_TYPES,
    GUILD_MEMBERS_INTENT,
    GUILD_MESSAGES_INTENT,
    GUILD_PRESENCES_INTENT,
    GUILDS_INTENT,
    HEARTBEAT_INTERVAL_MS,
    INTEGER,
    IS_COMPONENTS_V2,
    LOADING,
    MAX_ACTION_ROWS,
    MAX_AUTHOR_NAME,
    MAX_BUTTON_LABEL,
    MAX_CHOICE_NAME,
    MAX_CHOICE_VALUE,
    MAX_CHOICES,
    MAX_COMMAND_SIZE,
    MAX_COMMANDS,
    MAX_CONTENT,
    MAX_CUSTOM_ID,
    MAX_EMBED_DESCRIPTION,
    MAX_EMBED_FIELDS,
    MAX_EMBED_TITLE,
    MAX_EMBED_TOTAL,
    MAX_EMBEDS,
    MAX_FIELD_NAME,
    MAX_FIELD_VALUE,
    MAX_FOOTER_TEXT,
    MAX_OPTIONS,
    MAX_ROW_WIDTH,
    MAX_SAFE_INTEGER,
    MAX_SELECT_OPTIONS,
    MAX_V2_COMPONENTS,
    MAX_V2_TEXT,
    MENTIONABLE,
    MESSAGE_COMMAND,
    MESSAGE_COMPONENT,
    MESSAGE_CONTENT_INTENT,
    MESSAGE_FLAGS_ON_CREATE,
    MESSAGE_FLAGS_ON_EDIT,
    MESSAGEABLE_CHANNEL_TYPES,
    MODAL,
    MODAL_SUBMIT,
    NEWS_CHANNEL,
    NUMBER,
    OP_DISPATCH,
    OP_HEARTBEAT,
    OP_HEARTBEAT_ACK,
    OP_HELLO,
    OP_IDENTIFY,
    OP_INVALID_SESSION,
    OP_PRESENCE,
    OP_RECONNECT,
    OP_REQUEST_MEMBERS,
    OP_RESUME,
    OP_VOICE_STATE,
    PONG,
    PRIVILEGED_INTENTS,
    REPLY_MESSAGE,
    ROLE,
    STAGE_CHANNEL,
    STRING,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    SUPPRESS_EMBEDS,
    SUPPRESS_NOTIFICATIONS,
    TEXT_CHANNEL,
    UPDATE_MESSAGE,
    USER,
    USER_COMMAND,
    VOICE_CHANNEL,
)
from .errors import (
    ApiError,
    FormErrors,
    empty_message,
    invalid_webhook_token,
    missing_access,
    missing_permissions,
    not_found,
    unknown,
)
from .helpers import json_response
from .observed import Call, GatewayFrame
from .permissions import (
    ADD_REACTIONS,
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    ATTACH_FILES,
    CHANGE_NICKNAME,
    CONNECT,
    CREATE_INSTANT_INVITE,
    CREATE_PRIVATE_THREADS,
    CREATE_PUBLIC_THREADS,
    DEFAULT_EVERYONE_PERMISSIONS,
    DM_PERMISSIONS,
    EMBED_LINKS,
    MANAGE_CHANNELS,
    MANAGE_MESSAGES,
    MENTION_EVERYONE,
    NEEDS_SEND_MESSAGES,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    SEND_TTS_MESSAGES,
    SPEAK,
    STREAM,
    USE_APPLICATION_COMMANDS,
    USE_EXTERNAL_EMOJIS,
    USE_EXTERNAL_STICKERS,
    USE_VOICE_ACTIVATION,
    VIEW_CHANNEL,
)
from .server import FakeDiscord
from .validation import (
    check_allowed_mentions,
    check_commands,
    check_embeds,
    check_message,
    is_empty_message,
    pings,
)

__all__ = [
    "ADD_REACTIONS", "ADMINISTRATOR", "ALL_INTENTS", "ALL_PERMISSIONS", "API_VERSIONS", "APPLICATION_COMMAND",
    "ATTACHMENT", "ATTACHMENT_SIZE_LIMIT", "ATTACH_FILES", "AUTOCOMPLETE", "AUTOCOMPLETE_RESULT", "BOOLEAN",
    "CALLBACKS_FOR", "CATEGORY_CHANNEL", "CHANGE_NICKNAME", "CHANNEL", "CHANNEL_MESSAGE", "CHAT_INPUT",
    "CHAT_INPUT_COMMAND_MESSAGE", "CLOSE_ALREADY_AUTHENTICATED", "CLOSE_AUTHENTICATION_FAILED",
    "CLOSE_DECODE_ERROR", "CLOSE_DISALLOWED_INTENTS", "CLOSE_INVALID_INTENTS", "CLOSE_INVALID_SHARD",
    "CLOSE_NOT_AUTHENTICATED", "CLOSE_SESSION_TAKEN_OVER", "CLOSE_UNKNOWN_OPCODE", "CONNECT",
    "CREATE_INSTANT_INVITE", "CREATE_PRIVATE_THREADS", "CREATE_PUBLIC_THREADS", "DEFAULT_EVERYONE_PERMISSIONS",
    "DEFAULT_MESSAGE", "DEFERRED_CHANNEL_MESSAGE", "DEFERRED_UPDATE_MESSAGE", "DIRECT_MESSAGES_INTENT",
    "DISCORD_EPOCH_MS", "DM_CHANNEL", "DM_PERMISSIONS", "EMBED_LINKS", "EPHEMERAL", "FORUM_CHANNEL",
    "GUILDS_INTENT", "GUILD_CHANNEL_TYPES", "GUILD_MEMBERS_INTENT", "GUILD_MESSAGES_INTENT",
    "GUILD_PRESENCES_INTENT", "HEARTBEAT_INTERVAL_MS", "INTEGER", "IS_COMPONENTS_V2", "LOADING", "MANAGE_CHANNELS",
    "MANAGE_MESSAGES", "MAX_ACTION_ROWS", "MAX_AUTHOR_NAME", "MAX_BUTTON_LABEL", "MAX_CHOICES", "MAX_CHOICE_NAME",
    "MAX_CHOICE_VALUE", "MAX_COMMANDS", "MAX_COMMAND_SIZE", "MAX_CONTENT", "MAX_CUSTOM_ID", "MAX_EMBEDS",
    "MAX_EMBED_DESCRIPTION", "MAX_EMBED_FIELDS", "MAX_EMBED_TITLE", "MAX_EMBED_TOTAL", "MAX_FIELD_NAME",
    "MAX_FIELD_VALUE", "MAX_FOOTER_TEXT", "MAX_OPTIONS", "MAX_ROW_WIDTH", "MAX_SAFE_INTEGER", "MAX_SELECT_OPTIONS",
    "MAX_V2_COMPONENTS", "MAX_V2_TEXT", "MENTIONABLE", "MENTION_EVERYONE", "MESSAGEABLE_CHANNEL_TYPES",
    "MESSAGE_COMMAND", "MESSAGE_COMPONENT", "MESSAGE_CONTENT_INTENT", "MESSAGE_FLAGS_ON_CREATE",
    "MESSAGE_FLAGS_ON_EDIT", "MODAL", "MODAL_SUBMIT", "NEEDS_SEND_MESSAGES", "NEWS_CHANNEL", "NUMBER",
    "OP_DISPATCH", "OP_HEARTBEAT", "OP_HEARTBEAT_ACK", "OP_HELLO", "OP_IDENTIFY", "OP_INVALID_SESSION",
    "OP_PRESENCE", "OP_RECONNECT", "OP_REQUEST_MEMBERS", "OP_RESUME", "OP_VOICE_STATE", "PONG",
    "PRIVILEGED_INTENTS", "READ_MESSAGE_HISTORY", "REPLY_MESSAGE", "ROLE", "SEND_MESSAGES",
    "SEND_MESSAGES_IN_THREADS", "SEND_TTS_MESSAGES", "SPEAK", "STAGE_CHANNEL", "STREAM", "STRING", "SUB_COMMAND",
    "SUB_COMMAND_GROUP", "SUPPRESS_EMBEDS", "SUPPRESS_NOTIFICATIONS", "TEXT_CHANNEL", "UPDATE_MESSAGE", "USER",
    "USER_COMMAND", "USE_APPLICATION_COMMANDS", "USE_EXTERNAL_EMOJIS", "USE_EXTERNAL_STICKERS",
    "USE_VOICE_ACTIVATION", "VIEW_CHANNEL", "VOICE_CHANNEL", "ApiError", "Call", "FakeDiscord", "FormErrors",
    "GatewayFrame", "check_allowed_mentions", "check_commands", "check_embeds", "check_message", "empty_message",
    "invalid_webhook_token", "is_empty_message", "json_response", "missing_access", "missing_permissions",
    "not_found", "pings", "unknown",
]
