"""Telegram's numbers and names that the fake enforces: the text, button, command and
inline-result limits, chat types and member statuses, forum topics' names, ids and
refusals, the update types a bot gets by default, the webhook's secret header, the
answer to an expired query, and how long a superseded long poll lingers. They sit
apart from the code that checks them so that every part of the fake, and a test that
exercises a limit, reads the same value."""

MAX_TEXT = 4096  # UTF-16 code units of a message's text after parsing
MAX_CALLBACK_DATA = 64  # bytes
MAX_CALLBACK_ANSWER = 200  # characters
MAX_INLINE_RESULTS = 50
MAX_COMMANDS = 100
MAX_DELETE_AGE = 48 * 3600  # seconds: older messages a bot can no longer delete
CHAT_TYPES = ("private", "group", "supergroup", "channel")
MEMBER_STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")
# A forum's General topic has thread id 1, yet sends to it must omit message_thread_id:
# Telegram answers "message thread not found" to 1.
GENERAL_TOPIC = 1
MAX_TOPIC_NAME = 128  # characters
TOPIC_ICON_COLOR = 0x6FB9F0  # the blue Telegram gives a topic created without a color
# The user Telegram names as the sender of an anonymous group administrator's messages.
GROUP_ANONYMOUS_BOT = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
THREAD_NOT_FOUND = "message thread not found"
TOPIC_CLOSED = "TOPIC_CLOSED"
# Update types a bot gets when it never said which it wants (or sent []).
DEFAULT_UPDATE_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
# A getUpdates replaced by a newer one lingers this long before it answers 409:
# a client that gave up on it (cancelled polling) has closed it by then.
SUPERSEDED_GRACE = 0.05

# What Telegram's front end serves while the Bot API behind it is down.
NGINX_BAD_GATEWAY = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n"
)
