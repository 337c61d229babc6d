"""Discord's numbers the fake speaks and enforces, by the part of the protocol they
belong to: API versions and the snowflake epoch, gateway intents, message flags,
limits and types, channel types and flags, threads and forum posts with their limits,
the announcement channels' publishing limit, interaction and callback types,
application command and option types with their limits, and the gateway's opcodes
and close codes. One
catalogue, so that validation, the REST routes, the gateway and the tests all read
the same values (the permission bits live in permissions.py)."""

import re

API_VERSIONS = ("9", "10")
DISCORD_EPOCH_MS = 1_420_070_400_000


# ----- gateway intents ---------------------------------------------------------------------------
GUILDS_INTENT = 1 << 0
GUILD_MEMBERS_INTENT = 1 << 1
GUILD_PRESENCES_INTENT = 1 << 8
GUILD_MESSAGES_INTENT = 1 << 9
DIRECT_MESSAGES_INTENT = 1 << 12
MESSAGE_CONTENT_INTENT = 1 << 15
PRIVILEGED_INTENTS = GUILD_MEMBERS_INTENT | GUILD_PRESENCES_INTENT | MESSAGE_CONTENT_INTENT
ALL_INTENTS = (1 << 26) - 1
# The application flags by which discord.py (AppInfo.flags) learns which privileged intents are on.
_APP_FLAG_OF_INTENT = {GUILD_PRESENCES_INTENT: 1 << 13, GUILD_MEMBERS_INTENT: 1 << 15, MESSAGE_CONTENT_INTENT: 1 << 19}

# ----- messages ------------------------------------------------------------------------------------
CROSSPOSTED = 1 << 0  # published from an announcement channel to the channels following it
SUPPRESS_EMBEDS = 1 << 2
EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_NOTIFICATIONS = 1 << 12
IS_COMPONENTS_V2 = 1 << 15
MESSAGE_FLAGS_ON_CREATE = SUPPRESS_EMBEDS | EPHEMERAL | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2
MESSAGE_FLAGS_ON_EDIT = SUPPRESS_EMBEDS | IS_COMPONENTS_V2

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
MAX_EMBED_TITLE = 256
MAX_EMBED_DESCRIPTION = 4096
MAX_EMBED_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER_TEXT = 2048
MAX_AUTHOR_NAME = 256
MAX_ACTION_ROWS = 5
MAX_ROW_WIDTH = 5
MAX_CUSTOM_ID = 100
MAX_BUTTON_LABEL = 80
MAX_SELECT_OPTIONS = 25
MAX_V2_COMPONENTS = 40
MAX_V2_TEXT = 4000
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024

# message types
DEFAULT_MESSAGE = 0
REPLY_MESSAGE = 19
CHAT_INPUT_COMMAND_MESSAGE = 20

# ----- channels ------------------------------------------------------------------------------------
TEXT_CHANNEL, DM_CHANNEL, VOICE_CHANNEL, CATEGORY_CHANNEL = 0, 1, 2, 4
NEWS_CHANNEL, STAGE_CHANNEL, FORUM_CHANNEL = 5, 13, 15  # NEWS_CHANNEL: Discord's "announcement" channel
ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD = 10, 11, 12
THREAD_TYPES = {ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD}
GUILD_CHANNEL_TYPES = {TEXT_CHANNEL, VOICE_CHANNEL, CATEGORY_CHANNEL, NEWS_CHANNEL, STAGE_CHANNEL, FORUM_CHANNEL}
MESSAGEABLE_CHANNEL_TYPES = {TEXT_CHANNEL, DM_CHANNEL, VOICE_CHANNEL, NEWS_CHANNEL, STAGE_CHANNEL} | THREAD_TYPES
# channel flags
PINNED = 1 << 1  # a forum post pinned to the top of its forum
REQUIRE_TAG = 1 << 4  # a forum whose posts need at least one tag

# ----- threads and forum posts ---------------------------------------------------------------------
MAX_THREAD_NAME = 100
AUTO_ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)  # minutes
MAX_SLOWMODE = 21600  # seconds
MAX_FORUM_TAGS = 20  # tags a forum offers
MAX_FORUM_TAG_NAME = 20
MAX_APPLIED_TAGS = 5  # tags one post carries

# ----- announcement channels --------------------------------------------------------------------------
CROSSPOSTS_PER_WINDOW = 10  # publishes per channel...
CROSSPOST_WINDOW = 3600.0  # ...within this rolling window, in seconds

# ----- interactions ----------------------------------------------------------------------------------
APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
PONG, CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE = 1, 4, 5, 6, 7
AUTOCOMPLETE_RESULT, MODAL = 8, 9
# Which callback types answer which interaction type (PONG is for HTTP interactions only).
CALLBACKS_FOR = {
    APPLICATION_COMMAND: (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL),
    MESSAGE_COMPONENT: (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE, MODAL),
    AUTOCOMPLETE: (AUTOCOMPLETE_RESULT,),
    MODAL_SUBMIT: (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE),
}
MAX_CHOICES = 25
MAX_CHOICE_NAME = 100
MAX_CHOICE_VALUE = 100

# ----- application commands --------------------------------------------------------------------------
CHAT_INPUT, USER_COMMAND, MESSAGE_COMMAND = 1, 2, 3
MAX_COMMANDS = {CHAT_INPUT: 100, USER_COMMAND: 15, MESSAGE_COMMAND: 15}
MAX_OPTIONS = 25
MAX_COMMAND_SIZE = 4000  # characters of names, descriptions and choices together
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 3, 4, 5, 6, 7, 8, 9, 10, 11
_CHAT_INPUT_NAME = re.compile(r"[-_\w]{1,32}")
MAX_SAFE_INTEGER = 2**53

# ----- gateway --------------------------------------------------------------------------------------
HEARTBEAT_INTERVAL_MS = 41_250
OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_PRESENCE, OP_VOICE_STATE = 0, 1, 2, 3, 4
OP_RESUME, OP_RECONNECT, OP_REQUEST_MEMBERS, OP_INVALID_SESSION, OP_HELLO, OP_HEARTBEAT_ACK = 6, 7, 8, 9, 10, 11
CLOSE_SESSION_TAKEN_OVER = 4000  # Discord's "unknown error, reconnect": the bot resumes or identifies again
CLOSE_UNKNOWN_OPCODE, CLOSE_DECODE_ERROR, CLOSE_NOT_AUTHENTICATED = 4001, 4002, 4003
CLOSE_AUTHENTICATION_FAILED, CLOSE_ALREADY_AUTHENTICATED, CLOSE_INVALID_SHARD = 4004, 4005, 4010
CLOSE_INVALID_INTENTS, CLOSE_DISALLOWED_INTENTS = 4013, 4014
