"""FakeTelegram, the aiohttp server itself: its state, starting and stopping, setting
up the world (chats, forum topics, members, rate limits, failures), what users do
(write, in a topic too, press a button, query inline, delete a message, add or remove
the bot), what a test observes, the world's internals the methods share, and the
request bookkeeping that answers each call. The Bot API methods come from the mixins
in methods/, one per group, so this class stays the place for the world and the wire."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import logging
import re
import time
from collections import deque
from collections.abc import Callable
from types import EllipsisType
from typing import Any

from aiohttp import web

from .constants import (
    CHAT_TYPES,
    DEFAULT_UPDATE_EXCLUDED,
    GENERAL_TOPIC,
    GROUP_ANONYMOUS_BOT,
    MAX_TOPIC_NAME,
    MEMBER_STATUSES,
    NGINX_BAD_GATEWAY,
    QUERY_TOO_OLD,
    TOPIC_ICON_COLOR,
)
from .errors import ApiError, bad_request
from .keyboards import callback_data_of
from .limits import RateLimits
from .methods import (
    ChatMethodsMixin,
    CommandMethodsMixin,
    MessageMethodsMixin,
    QueryMethodsMixin,
    UpdateMethodsMixin,
)
from .methods.commands import _COMMAND, _command_entities
from .observed import Call, SentMessage, WebhookDelivery
from .plumbing import _wait, read_params
from .state import _CHANNEL_ADMIN_RIGHTS, _GROUP_ADMIN_RIGHTS, _MEMBER_FIELDS, FakeChat, FakeTopic

log = logging.getLogger(__name__)


_TOKEN_FORMAT = re.compile(r"\d+:[A-Za-z0-9_-]+")


def _update_kind(update: dict[str, Any]) -> str:
    return next(key for key in update if key != "update_id")


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class FakeTelegram(UpdateMethodsMixin, CommandMethodsMixin, MessageMethodsMixin, QueryMethodsMixin, ChatMethodsMixin):
    """The Bot API for one bot, with a world of chats the test sets up.

    add_chat puts the bot in the chat: a member of a private chat or group, an
    administrator allowed to post in a channel. set_member changes that (for
    the bot, user id `bot_id`) or anyone else's place in a chat.

    With privacy_mode=True the bot gets only what Telegram gives a bot in
    privacy mode in groups: commands, messages naming it, and everything when
    it is an administrator there.

    A supergroup added with is_forum=True has topics: add_topic makes one,
    send_text(..., thread_id=...) writes in it, and the bot's sends name it by
    message_thread_id. Its General topic (thread id 1) is there from the start.
    """

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_username: str = "ExplainerTestBot",
        bot_id: int = 123456,
        *,
        privacy_mode: bool = False,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_id = bot_id
        self.privacy_mode = privacy_mode
        self.url = ""
        # what tests observe
        self.calls: list[Call] = []
        self.commands: list[dict[str, Any]] | None = None
        self.commands_by_scope: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.webhook: dict[str, Any] | None = None
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.answered_callbacks: dict[str, dict[str, Any]] = {}
        self.inline_answers: dict[str, dict[str, Any]] = {}
        self.deleted: list[tuple[int, int]] = []
        # Telegram forgets an unanswered query after about this long.
        self.query_timeout = 15.0
        # the world
        self._chats: dict[int, FakeChat] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._pending: list[dict[str, Any]] = []  # updates not yet confirmed or delivered
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(4_200_000_001)
        self._open_queries: dict[str, float] = {}  # callback/inline query id -> when it was made
        self._allowed: set[str] | None = None  # None: Telegram's default update types
        self._limits = RateLimits(None, None, None)
        self._failures: dict[str, deque[ApiError]] = {}
        self._chat_failures: dict[tuple[str, str], deque[ApiError]] = {}
        self._stalls: dict[str, deque[float]] = {}
        self._sent: list[SentMessage] = []
        self._webhook_error: tuple[int, str] | None = None
        # request bookkeeping
        self._changed = asyncio.Event()
        self._poll_ticket = 0
        self._poll_conflict = ""
        self._requests_in_flight = 0
        self._polls_in_flight = 0
        self._deliveries_in_flight = 0
        self._last_activity = time.monotonic()
        self._started_at = time.monotonic()
        self._stopping = False
        self._runner: web.AppRunner | None = None
        self._outage = False
        self._webhook_task: asyncio.Task[None] | None = None
        self._methods = self._method_table()

    # ----- lifecycle --------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        # handler_cancellation: a long poll whose client hung up ends with it, unrecorded.
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self._started_at = time.monotonic()
        self._stopping = False
        self._webhook_task = asyncio.create_task(self._webhook_loop())

    async def stop(self) -> None:
        self._stopping = True
        self._notify()  # open long polls answer now instead of holding the shutdown
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ----- world setup ----------------------------------------------------------------
    def add_chat(
        self,
        chat_id: int,
        type: str,
        title: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
        *,
        is_forum: bool = False,
    ) -> None:
        if type not in CHAT_TYPES:
            raise ValueError(f"chat type must be one of {CHAT_TYPES}, not {type!r}")
        if (type == "private") != (chat_id > 0):
            raise ValueError(
                f"Telegram's private chat ids are positive and other chat ids negative: {chat_id} ({type})"
            )
        if is_forum and type != "supergroup":
            raise ValueError(f"only a supergroup can be a forum, not a {type}")
        chat = FakeChat(chat_id, type, title, username, first_name, is_forum=is_forum)
        if is_forum:
            # The General topic's thread id is the forum's first message: topics and
            # messages are numbered after it.
            chat.last_message_id = GENERAL_TOPIC
        if type == "private":
            chat.first_name = first_name or self._users.get(chat_id, {}).get("first_name", "Ada")
            self._remember_user(chat_id, chat.first_name, username)
            chat.members[chat_id] = {"status": "member"}
            chat.members[self.bot_id] = {"status": "member"}
        elif type == "channel":
            chat.title = title or f"Channel {chat_id}"
            chat.members[self.bot_id] = {
                "status": "administrator",
                "can_post_messages": True,
                "can_edit_messages": True,
            }
        else:
            chat.title = title or f"Group {chat_id}"
            chat.members[self.bot_id] = {"status": "member"}
        self._chats[chat_id] = chat

    def add_topic(self, chat_id: int, name: str, *, by_user_id: int | None = None) -> int:
        """A topic in a forum, there already as add_chat's chats are (the bot gets no
        update for it); returns its message_thread_id. As on Telegram, that is the id of
        the forum_topic_created service message that opens the topic, which the topic's
        messages reply to unless they reply to another. An anonymous admin creates it
        unless `by_user_id` names someone."""
        chat = self._forum(chat_id)
        if not 1 <= len(name) <= MAX_TOPIC_NAME:
            raise ValueError(f"a topic's name has 1 to {MAX_TOPIC_NAME} characters, not {len(name)}")
        sender = dict(GROUP_ANONYMOUS_BOT) if by_user_id is None else self._remember_user(by_user_id)
        message = self._store(chat, None, [], sender=sender)
        if by_user_id is None:
            message["sender_chat"] = chat.json()
        thread_id = message["message_id"]
        message |= {
            "message_thread_id": thread_id,
            "forum_topic_created": {"name": name, "icon_color": TOPIC_ICON_COLOR},
            "is_topic_message": True,
        }
        chat.topics[thread_id] = FakeTopic(name, TOPIC_ICON_COLOR)
        return thread_id

    def close_topic(self, chat_id: int, thread_id: int) -> None:
        """Only topic managers write in a closed topic; everyone's messages there stay editable."""
        self._topic(chat_id, thread_id).closed = True

    def reopen_topic(self, chat_id: int, thread_id: int) -> None:
        self._topic(chat_id, thread_id).closed = False

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """The topic goes with every message in it, its service message too: the bot's
        sends to it answer "message thread not found", edits of its old messages
        "message to edit not found". Telegram tells the bot nothing."""
        self._topic(chat_id, thread_id)
        chat = self._chats[chat_id]
        del chat.topics[thread_id]
        for message_id in [i for i, m in chat.messages.items() if m.get("message_thread_id") == thread_id]:
            del chat.messages[message_id]
            chat.by_bot.discard(message_id)

    def set_member(self, chat_id: int, user_id: int, status: str, **rights: Any) -> None:
        if status not in MEMBER_STATUSES:
            raise ValueError(f"member status must be one of {MEMBER_STATUSES}, not {status!r}")
        self._known_chat(chat_id).members[user_id] = {"status": status, **rights}

    def block(self, chat_id: int) -> None:
        self._known_chat(chat_id).blocked = True

    def unblock(self, chat_id: int) -> None:
        self._known_chat(chat_id).blocked = False

    def migrate(self, chat_id: int, new_chat_id: int) -> None:
        """The group becomes a supergroup (created like the group unless it exists)."""
        old = self._known_chat(chat_id)
        if new_chat_id not in self._chats:
            self.add_chat(new_chat_id, "supergroup", title=old.title)
            self._chats[new_chat_id].members = copy.deepcopy(old.members)
        old.migrated_to = new_chat_id

    def age(self, chat_id: int, message_id: int, hours: float) -> None:
        """Make a message `hours` old, as if sent that long ago (Telegram's 48-hour rules)."""
        message = self._known_chat(chat_id).messages[message_id]
        message["date"] = int(time.time() - hours * 3600)

    def outage(self, down: bool = True) -> None:
        """Telegram's front end without the Bot API behind it: every request is
        answered 502 with nginx's HTML page (not JSON), until `outage(False)`."""
        self._outage = down

    def rate_limit(
        self,
        per_second_global: float | None = None,
        per_second_per_chat: float | None = None,
        per_minute_per_group: int | None = None,
    ) -> None:
        """Replaces the limits (none by default); calling it with none lifts them. Sends,
        edits and deletes of the bot's messages count against the same limits."""
        self._limits = RateLimits(per_second_global, per_second_per_chat, per_minute_per_group)

    def fail_next(
        self, method: str, error_code: int, description: str, retry_after: int | None = None, times: int = 1
    ) -> None:
        error = ApiError(error_code, description, retry_after=retry_after)
        self._failures.setdefault(method.lower(), deque()).extend([error] * times)

    def fail_chat(self, chat_id: int, method: str, error_code: int, description: str, times: int = 1) -> None:
        """The next calls of `method` for this chat fail; other chats' go through."""
        key = (method.lower(), str(chat_id))
        self._chat_failures.setdefault(key, deque()).extend([ApiError(error_code, description)] * times)

    def stall_next(self, method: str, seconds: float, times: int = 1) -> None:
        """The next calls of `method` are answered only after `seconds` (then as usual): a
        client with a shorter timeout sees a timeout, as with an overloaded Bot API."""
        self._stalls.setdefault(method.lower(), deque()).extend([seconds] * times)

    # ----- user actions ----------------------------------------------------------------
    def send_text(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        first_name: str = "Ada",
        username: str | None = None,
        thread_id: int | None = None,
    ) -> int:
        """A user writes in a chat (a channel post in a channel), in a forum in the topic
        `thread_id` (None: the General topic). Returns the update id, or 0 when the bot
        doesn't get the message (privacy mode, not in the group, allowed_updates)."""
        chat = self._known_chat(chat_id)
        if thread_id is not None:
            self._topic(chat_id, thread_id)
        entities = _command_entities(text)
        if chat.type == "channel":
            return self._enqueue("channel_post", self._store(chat, text, entities, sender=None))
        if chat.type == "private" and user_id != chat_id:
            raise ValueError(f"in a private chat the user is the chat: user {user_id} can't write in chat {chat_id}")
        user = self._remember_user(user_id, first_name, username)
        chat.members.setdefault(user_id, {"status": "member"})
        if thread_id is not None and chat.topics[thread_id].closed and not self._may_manage_topics(chat, user_id):
            raise ValueError(f"topic {thread_id} is closed: only topic managers write in it")
        message = self._store(chat, text, entities, sender=user)
        self._in_thread(chat, message, thread_id)
        if not self._reaches_bot(chat, text):
            return 0
        return self._enqueue("message", message)

    def press_button(self, chat_id: int, user_id: int, message_id: int, data: str, *, stale: bool = False) -> str:
        chat = self._known_chat(chat_id)
        message = chat.messages.get(message_id)
        if message is None or message_id not in chat.by_bot:
            raise ValueError(f"chat {chat_id} has no message {message_id} from the bot")
        offered = callback_data_of(message.get("reply_markup"))
        # `stale` stands for a keyboard an older version of the bot sent, or a
        # client that forges data: the bot must cope with data it never offered.
        if data not in offered and not stale:
            raise ValueError(f"message {message_id} has no button with callback_data {data!r}; it has {offered}")
        query_id = self._open_query()
        self._enqueue(
            "callback_query",
            {
                "id": query_id,
                "from": self._remember_user(user_id),
                "chat_instance": f"instance{chat_id}",
                "message": copy.deepcopy(message),
                "data": data,
            },
        )
        return query_id

    def inline_query(self, user_id: int, query: str, offset: str = "", *, chat_type: str | None = None) -> str:
        query_id = self._open_query()
        update: dict[str, Any] = {
            "id": query_id,
            "from": self._remember_user(user_id),
            "query": query,
            "offset": offset,
        }
        if chat_type:
            update["chat_type"] = chat_type
        self._enqueue("inline_query", update)
        return query_id

    def bot_added(self, chat_id: int, by_user_id: int) -> int:
        """Someone adds the bot to a chat: a member, or a posting administrator of a channel."""
        chat = self._known_chat(chat_id)
        if chat.type == "channel":
            chat.members[self.bot_id] = {
                "status": "administrator",
                "can_post_messages": True,
                "can_edit_messages": True,
            }
        else:
            chat.members[self.bot_id] = {"status": "member"}
        return self._enqueue(
            "my_chat_member",
            {
                "chat": chat.json(),
                "from": self._remember_user(by_user_id),
                "date": int(time.time()),
                "old_chat_member": {"status": "left", "user": self._bot_user()},
                "new_chat_member": self._member_json(chat, self.bot_id),
            },
        )

    def delete_by_reader(self, chat_id: int, message_id: int) -> None:
        """A reader deletes a message for everyone (in a group or channel: an admin may delete
        the bot's). Telegram tells the bot nothing; its later editMessageText of the message
        answers 400 "message to edit not found" and deleteMessage "message to delete not found"."""
        chat = self._known_chat(chat_id)
        if message_id not in chat.messages:
            raise ValueError(f"chat {chat_id} has no message {message_id}")
        if message_id in chat.topics:
            raise ValueError(f"message {message_id} opens a topic: delete_topic() deletes it with the topic")
        del chat.messages[message_id]
        chat.by_bot.discard(message_id)

    def bot_removed(self, chat_id: int, by_user_id: int, status: str = "kicked") -> int:
        """The bot is blocked (a private chat), kicked or removed: later sends are refused."""
        chat = self._known_chat(chat_id)
        old = self._member_json(chat, self.bot_id)
        if chat.type == "private":
            chat.blocked = True
        chat.members[self.bot_id] = {"status": status}
        new = {"status": status, "user": self._bot_user()}
        if status == "kicked":
            new["until_date"] = 0
        return self._enqueue(
            "my_chat_member",
            {
                "chat": chat.json(),
                "from": self._remember_user(by_user_id),
                "date": int(time.time()),
                "old_chat_member": old,
                "new_chat_member": new,
            },
        )

    # ----- observation -------------------------------------------------------------------
    @property
    def errors(self) -> list[Call]:
        return [call for call in self.calls if not call.ok]

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        return list(self._pending)

    def sent(self, chat_id: int | None = None, *, thread_id: int | EllipsisType | None = ...) -> list[SentMessage]:
        """The bot's accepted sends and edits, of one chat if named, of one of its threads
        if `thread_id` is given (None: a forum's General topic, or no thread)."""
        return [
            m
            for m in self._sent
            if (chat_id is None or m.chat_id == chat_id) and (thread_id is ... or m.thread_id == thread_id)
        ]

    async def wait_for(self, predicate: Callable[[Call], bool], timeout: float = 10.0) -> Call:
        """The first call, past or future, that matches."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            changed = self._changed
            for call in self.calls[seen:]:
                if predicate(call):
                    return call
            seen = len(self.calls)
            if time.monotonic() >= deadline:
                raise AssertionError(self.dump(f"no call matched within {timeout}s"))
            await _wait(changed, deadline - time.monotonic())

    async def wait_idle(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Until nothing reached the fake for `quiet` seconds (at least `quiet` from now)."""
        start = time.monotonic()
        while True:
            now = time.monotonic()
            if not self._busy() and now - max(self._last_activity, start) >= quiet:
                return
            if now - start >= timeout:
                raise AssertionError(self.dump(f"still busy after {timeout}s"))
            await asyncio.sleep(min(0.02, quiet / 4))

    def dump(self, headline: str, last: int = 40) -> str:
        """The recent calls and the update queue, for an assertion message."""
        lines = [
            f"{headline}; {len(self.calls)} calls so far" + (f", the last {last}:" if len(self.calls) > last else ":")
        ]
        for call in self.calls[-last:]:
            params = " ".join(f"{k}={_short(v)}" for k, v in call.params.items())
            outcome = "" if call.ok else f" -> {call.description}"
            if call.ok and isinstance(call.result, dict) and "message_thread_id" in call.result:
                # a reply lands in the thread of what it answers, which its params don't show
                outcome = f" -> in thread {call.result['message_thread_id']}"
            lines.append(f"  +{call.at - self._started_at:.3f}s {call.method} {call.status} {params}{outcome}")
        hook = self.webhook["url"] if self.webhook else "none"
        lines.append(f"pending updates: {[_update_kind(u) for u in self._pending]}; webhook: {hook}")
        for chat in self._chats.values():
            if chat.is_forum:
                topics = [f"{i} {t.name!r}" + (" (closed)" if t.closed else "") for i, t in chat.topics.items()]
                lines.append(f"forum {chat.id} topics: {', '.join(topics) or 'General only'}")
        return "\n".join(lines)

    # ----- the world, inside ---------------------------------------------------------------------
    def _known_chat(self, chat_id: int) -> FakeChat:
        if chat_id not in self._chats:
            raise KeyError(f"chat {chat_id} is unknown: add_chat() it first")
        return self._chats[chat_id]

    def _forum(self, chat_id: int) -> FakeChat:
        chat = self._known_chat(chat_id)
        if not chat.is_forum:
            raise ValueError(f"chat {chat_id} is not a forum: add_chat(..., is_forum=True) makes one")
        return chat

    def _topic(self, chat_id: int, thread_id: int) -> FakeTopic:
        chat = self._forum(chat_id)
        if thread_id == GENERAL_TOPIC:
            raise ValueError("the General topic is no topic of add_topic's: thread_id=None writes in it")
        if thread_id not in chat.topics:
            raise ValueError(f"forum {chat_id} has no topic {thread_id}; it has {sorted(chat.topics)}")
        return chat.topics[thread_id]

    def _in_thread(self, chat: FakeChat, message: dict[str, Any], thread_id: int | None) -> None:
        """Files a new message in its thread. In a forum topic it is a topic message and,
        unless it replies to something else, a reply to the topic's forum_topic_created
        message, as Telegram shows every message of a topic."""
        if thread_id is None:
            return
        message["message_thread_id"] = thread_id
        if chat.is_forum:
            message["is_topic_message"] = True
            message.setdefault("reply_to_message", copy.deepcopy(chat.messages[thread_id]))

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_username, "username": self.bot_username}

    def _remember_user(
        self, user_id: int, first_name: str | None = None, username: str | None = None
    ) -> dict[str, Any]:
        user = self._users.setdefault(user_id, {"id": user_id, "is_bot": False, "first_name": first_name or "Ada"})
        if first_name:
            user["first_name"] = first_name
        if username:
            user["username"] = username
        return dict(user)

    def _user_json(self, user_id: int) -> dict[str, Any]:
        if user_id == self.bot_id:
            return self._bot_user()
        return dict(self._users.get(user_id, {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}))

    def _member_json(self, chat: FakeChat, user_id: int) -> dict[str, Any]:
        """A ChatMember with every field python-telegram-bot needs for its status."""
        entry = chat.members.get(user_id, {"status": "left"})
        status = entry["status"]
        fields = dict(_MEMBER_FIELDS[status])
        if status == "administrator":
            fields |= _CHANNEL_ADMIN_RIGHTS if chat.type == "channel" else _GROUP_ADMIN_RIGHTS
        rights = {k: v for k, v in entry.items() if k != "status"}
        return {"status": status, "user": self._user_json(user_id), **fields, **rights}

    def _reaches_bot(self, chat: FakeChat, text: str) -> bool:
        """Whether the bot gets the message. In privacy mode, in groups: commands,
        mentions of it, and everything when it is an admin."""
        if chat.members.get(self.bot_id, {}).get("status") in ("left", "kicked"):
            return False  # a bot out of the group gets nothing from it
        if not self.privacy_mode or chat.type not in ("group", "supergroup"):
            return True
        if self._bot_is_admin(chat):
            return True
        command = _COMMAND.match(text)
        if command:
            _, _, addressee = command.group().partition("@")
            return not addressee or addressee.lower() == self.bot_username.lower()
        return f"@{self.bot_username}".lower() in text.lower()

    def _store(
        self,
        chat: FakeChat,
        text: str | None,
        entities: list[dict[str, Any]],
        *,
        sender: dict[str, Any] | None,
        by_bot: bool = False,
    ) -> dict[str, Any]:
        """A new message in the chat, numbered after the chat's last (without text: a service message)."""
        chat.last_message_id += 1
        message: dict[str, Any] = {"message_id": chat.last_message_id, "date": int(time.time()), "chat": chat.json()}
        if chat.type == "channel":
            message["sender_chat"] = chat.json()  # channel posts have no `from`
        elif sender is not None:
            message["from"] = sender
        if text is not None:
            message["text"] = text
        if entities:
            message["entities"] = entities
        chat.messages[chat.last_message_id] = message
        if by_bot:
            chat.by_bot.add(chat.last_message_id)
        return message

    def _enqueue(self, kind: str, payload: dict[str, Any]) -> int:
        """An update for the bot (its id), or 0 when the bot's allowed_updates leave its kind out."""
        allowed = self._allowed
        if (kind in DEFAULT_UPDATE_EXCLUDED) if allowed is None else (kind not in allowed):
            return 0
        update_id = next(self._update_ids)
        self._pending.append({"update_id": update_id, kind: copy.deepcopy(payload)})
        self._touch()
        self._notify()
        return update_id

    def _open_query(self) -> str:
        query_id = str(next(self._query_ids))
        self._open_queries[query_id] = time.monotonic()
        return query_id

    def _close_query(self, query_id: Any) -> None:
        """A callback or inline query gets one answer, in time."""
        made = self._open_queries.pop(str(query_id), None)
        if made is None or time.monotonic() - made > self.query_timeout:
            raise bad_request(QUERY_TOO_OLD)

    # ----- request bookkeeping -----------------------------------------------------------------
    def _notify(self) -> None:
        """Wakes every waiter (long polls, wait_for, the webhook loop) to look again."""
        self._changed.set()
        self._changed = asyncio.Event()

    def _touch(self) -> None:
        self._last_activity = time.monotonic()

    def _busy(self) -> bool:
        consumer = self._polls_in_flight > 0 or self.webhook is not None
        return bool(self._requests_in_flight or self._deliveries_in_flight or (self._pending and consumer))

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        if not (call.method == "getUpdates" and call.ok and not call.result):
            self._touch()  # an empty long poll is no activity
        if not call.ok:
            log.info("fake Telegram: %s answered %s %s", call.method, call.status, call.description)
        self._notify()

    async def _handle(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        method, handler = self._methods.get(name.lower(), (name, None))
        if self._outage:
            self._record(Call(method, {}, {"description": "502 Bad Gateway (nginx)"}, 502, time.monotonic()))
            return web.Response(status=502, text=NGINX_BAD_GATEWAY, content_type="text/html")
        polling = method == "getUpdates"
        if polling:
            self._polls_in_flight += 1
        else:
            self._requests_in_flight += 1
            self._touch()
        params: dict[str, Any] = {}
        try:
            params = await read_params(request)
            status, body = await self._answer(request.match_info["token"], method, handler, params)
        except ValueError:  # a body that is not JSON, or not a form
            status, body = 400, bad_request("can't parse request body").body()
        finally:
            if polling:
                self._polls_in_flight -= 1
            else:
                self._requests_in_flight -= 1
        self._record(Call(method, params, body, status, time.monotonic()))
        return web.json_response(body, status=status)

    async def _answer(
        self, token: str, method: str, handler: Callable[..., Any] | None, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        try:
            if token != self.token:
                # Telegram: 401 for a well-formed token it doesn't know, 404 for a malformed one
                raise ApiError(401, "Unauthorized") if _TOKEN_FORMAT.fullmatch(token) else ApiError(404, "Not Found")
            if handler is None:
                raise ApiError(404, "Not Found")
            stalls = self._stalls.get(method.lower())
            if stalls:
                await asyncio.sleep(stalls.popleft())
            failures = self._failures.get(method.lower())
            if failures:
                raise failures.popleft()
            for_chat = self._chat_failures.get((method.lower(), str(params.get("chat_id"))))
            if for_chat:
                raise for_chat.popleft()
            return 200, {"ok": True, "result": await handler(params)}
        except ApiError as error:
            return error.code, error.body()
        except Exception as error:  # a bug in the fake: a visible 500 in `errors`, not a hung test
            log.exception("fake Telegram failed on %s", method)
            return 500, {"ok": False, "error_code": 500, "description": f"Internal Server Error: {error!r}"}

    def _method_table(self) -> dict[str, tuple[str, Callable[[dict[str, Any]], Any]]]:
        """Method name (Telegram ignores its case) -> (canonical name, handler)."""
        handlers = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "deleteMessage": self._delete_message,
            "sendChatAction": self._send_chat_action,
            "answerCallbackQuery": self._answer_callback_query,
            "answerInlineQuery": self._answer_inline_query,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
            "getChatMemberCount": self._get_chat_member_count,
            "close": self._trivial,
            "logOut": self._trivial,
        }
        return {name.lower(): (name, handler) for name, handler in handlers.items()}
