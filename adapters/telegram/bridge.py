"""Telegram updates turned into core calls, and the core's replies sent back.

Only Telegram's own rules live here: how a chat is named, how commands are
addressed to one bot in a group, how admins are found out, and how a channel
is named from a private chat and what Telegram says of it (the core decides
what a user may do there). What the commands mean is the core's.
"""

from __future__ import annotations

import asyncio
import logging
import re
from functools import partial

from telegram import (
    Bot,
    Chat,
    ChatFullInfo,
    ChatMember,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Update,
    User,
)
from telegram import (
    Message as TelegramMessage,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    RetryAfter,
    TelegramError,
)
from telegram.ext import ContextTypes

from adapters.telegram.render import outgoing, parse_callback, render_html
from content.chats.access import Lack, Missing, NoPlace, Place, Problem
from content.chats.lifecycle import Chats
from content.chats.ref import ChatKind, ChatRef
from content.commands.caller import Caller
from content.commands.dispatcher import Commands
from content.messages import Message, Reply

log = logging.getLogger(__name__)

PLATFORM = "telegram"
ADMINS = {ChatMember.OWNER, ChatMember.ADMINISTRATOR}
# A channel named from a private chat: its @username or its numeric id.
_CHANNEL = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}|-100\d{1,16}")
# Replies answer one person and are few, so they go out at once; a 429 waits
# its retry_after, but never longer than this.
MAX_REPLY_WAIT = 30.0


def chat_ref(chat: Chat | ChatFullInfo, message: TelegramMessage | None = None) -> ChatRef:
    """The chat, or the forum topic `message` was written in: a place of its own."""
    kinds: dict[str, ChatKind] = {ChatType.PRIVATE: ChatKind.PRIVATE, ChatType.CHANNEL: ChatKind.CHANNEL}
    kind = kinds.get(chat.type, ChatKind.GROUP)
    title = chat.title or " ".join(p for p in (chat.first_name, chat.last_name) if p) or chat.username
    thread = topic_of(chat, message)
    if thread is None:
        return ChatRef(PLATFORM, str(chat.id), kind, title)
    return ChatRef(PLATFORM, str(chat.id), kind, topic_name(message), thread)


def topic_of(chat: Chat | ChatFullInfo, message: TelegramMessage | None) -> str | None:
    """The forum topic a message is in. The General topic is the chat itself:
    Telegram refuses its thread id for sending, and its messages carry none.
    A supergroup's reply threads outside forums are no topics either."""
    if message is None or not getattr(chat, "is_forum", False) or not message.is_topic_message:
        return None
    return str(message.message_thread_id) if message.message_thread_id else None


def topic_name(message: TelegramMessage | None) -> str | None:
    """A topic's name, where the message shows it: a message in a topic answers
    the topic's first (service) message, unless it answers another one."""
    opened = getattr(getattr(message, "reply_to_message", None), "forum_topic_created", None)
    return opened.name if opened is not None else None


async def is_admin(bot: Bot, chat_id: int | str, user_id: int) -> bool:
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except TelegramError as exc:
        log.info("getChatMember %s/%s failed: %s", chat_id, user_id, exc)
        return False
    return member.status in ADMINS


class ChannelFinder:
    """Channels and groups named from a private chat, and what Telegram says about them.

    Admin rights are asked with getChatMember only when the core needs them.
    """

    def __init__(self, bot: Bot, user_id: int) -> None:
        self._bot = bot
        self._user_id = user_id

    def could_name(self, word: str) -> bool:
        return _CHANNEL.fullmatch(word) is not None

    async def find(self, word: str) -> Place | NoPlace:
        try:
            chat = await self._bot.get_chat(word)
        except TelegramError:
            return NoPlace(Problem.NOT_FOUND, word)
        if chat.type == ChatType.PRIVATE:
            return NoPlace(Problem.PERSON, word)
        shown = f"@{chat.username}" if chat.username else (chat.title or word)
        return Place(
            chat_ref(chat),
            shown,
            caller_is_admin=partial(_admin_status, self._bot, chat.id, self._user_id),
            bot_lacks=partial(_bot_lacks, self._bot, chat),
        )


async def _admin_status(bot: Bot, chat_id: int, user_id: int) -> bool | None:
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except TelegramError:
        return None  # Telegram shows who is in a chat only to a bot that is in it
    return member.status in ADMINS


async def _bot_lacks(bot: Bot, chat: Chat | ChatFullInfo) -> Missing | None:
    try:
        me = await bot.get_chat_member(chat.id, bot.id)
    except TelegramError:
        return Missing(Lack.MEMBERSHIP)
    if chat.type == ChatType.CHANNEL:
        if me.status != ChatMember.ADMINISTRATOR:
            return Missing(Lack.ADMIN)
        if not getattr(me, "can_post_messages", False):
            return Missing(Lack.POST_RIGHT)
        return None
    if me.status in (ChatMember.LEFT, ChatMember.BANNED):
        return Missing(Lack.MEMBERSHIP)
    if me.status == ChatMember.RESTRICTED and not getattr(me, "can_send_messages", True):
        return Missing(Lack.SEND_RIGHT)
    return None


def plain(message: Message) -> str:
    return " ".join("".join(s.text for s in getattr(b, "spans", ())) for b in message.blocks).strip()


class TelegramBridge:
    def __init__(self, commands: Commands, chats: Chats) -> None:
        self._commands = commands
        self._chats = chats

    # ----- who is asking --------------------------------------------------
    def caller(
        self,
        bot: Bot,
        chat: Chat,
        user: User | None,
        sender_chat: Chat | None = None,
        message: TelegramMessage | None = None,
    ) -> Caller:
        ref = chat_ref(chat, message)
        if chat.type == ChatType.CHANNEL or (sender_chat is not None and sender_chat.id == chat.id):
            # Only admins post in a channel, and a group's anonymous admins post as the group.
            return Caller(ref, f"chat{chat.id}", is_admin=True)
        if user is None:
            return Caller(ref, f"chat{chat.id}")
        if chat.type == ChatType.PRIVATE:
            return Caller(ref, str(user.id), places=ChannelFinder(bot, user.id))
        return Caller(ref, str(user.id), admin_check=lambda: is_admin(bot, chat.id, user.id))

    def presser(self, bot: Bot, chat: Chat, user: User | None, message: TelegramMessage | None) -> Caller:
        """Who pressed a button. Under a channel post that is any reader, not
        the channel's admins who post there: each reader is metered alone, and
        is an admin only if Telegram says so."""
        if chat.type == ChatType.CHANNEL and user is not None:
            return Caller(chat_ref(chat, message), str(user.id), admin_check=lambda: is_admin(bot, chat.id, user.id))
        return self.caller(bot, chat, user, message=message)

    # ----- handlers -------------------------------------------------------
    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        chat = update.effective_chat
        if message is None or chat is None or not message.text:
            return
        head = message.text.partition(" ")[0]
        _name, _, addressee = head[1:].partition("@")
        if addressee and addressee.lower() != (context.bot.username or "").lower():
            return  # meant for another bot in this group
        caller = self.caller(context.bot, chat, update.effective_user, message.sender_chat, message)
        reply = await self._commands.handle_text(caller, message.text)
        await self.send(context.bot, chat, reply, topic_of(chat, message))

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Plain words in a private chat: looked up as a term."""
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None or not message.text:
            return
        caller = self.caller(context.bot, chat, update.effective_user, message=message)
        reply = await self._commands.handle_text(caller, message.text)
        await self.send(context.bot, chat, reply, topic_of(chat, message))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        message = query.message
        if message is None or not hasattr(message, "chat"):
            await query.answer("Open the chat with the bot to use this button.")
            return
        action, argument = parse_callback(query.data)
        pressed_in = message if isinstance(message, TelegramMessage) else None
        caller = self.presser(context.bot, message.chat, query.from_user, pressed_in)
        reply = await self._commands.press(caller, action, argument)
        if not reply.messages:
            await query.answer()
            return
        first = reply.messages[0]
        if first.popup is not None:
            # Answered where the reader is: a pop-up over the chat, which posts
            # nothing into a group or channel; a private chat is the reader's
            # own, so the full answer goes there too.
            await query.answer(first.popup, show_alert=True)
            if message.chat.type == ChatType.PRIVATE:
                await self.send(context.bot, message.chat, reply, topic_of(message.chat, pressed_in))
            return
        if first.private and len(reply.messages) == 1:
            # A refusal is shown to the presser alone, not posted to the chat.
            await query.answer(plain(first)[:200], show_alert=False)
            return
        await query.answer()
        if first.replaces_pressed and len(reply.messages) == 1:
            out = outgoing(first)
            if len(out.texts) == 1:
                try:
                    await query.edit_message_text(
                        out.texts[0],
                        parse_mode=ParseMode.HTML,
                        reply_markup=out.markup,
                        link_preview_options=LinkPreviewOptions(is_disabled=not out.preview),
                    )
                    return
                except BadRequest as exc:
                    log.info("could not edit the list in place (%s); sending it instead", exc)
        await self.send(context.bot, message.chat, reply, topic_of(message.chat, pressed_in))

    async def on_inline(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.inline_query
        if query is None:
            return
        results = []
        for result in await self._commands.inline(query.query):
            text = render_html(result.message)[0]
            content = InputTextMessageContent(
                text,
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=not result.message.link_preview),
            )
            results.append(InlineQueryResultArticle(result.id, result.title, content, description=result.description))
        await query.answer(results, cache_time=30)

    async def on_membership(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The bot was blocked, kicked or removed (or let back in)."""
        change = update.my_chat_member
        if change is None:
            return
        ref = chat_ref(change.chat)
        if change.new_chat_member.status in (ChatMember.BANNED, ChatMember.LEFT):
            await self._chats.deactivate(ref)
        else:
            await self._chats.reactivate(ref)

    # ----- sending --------------------------------------------------------
    async def send(self, bot: Bot, chat: Chat, reply: Reply, topic: str | None = None) -> None:
        """The reply, in the chat and, asked in a forum topic, in that topic."""
        chat_id: int = chat.id
        thread = int(topic) if topic is not None else None
        for message in reply.messages:
            out = outgoing(message)
            for i, text in enumerate(out.texts):
                last = i == len(out.texts) - 1
                try:
                    await _send_once(bot, chat_id, thread, text, out.markup if last else None, out.preview)
                except ChatMigrated as exc:
                    # The group became a supergroup: what it follows moves with it.
                    chat_id = exc.new_chat_id
                    await self._chats.move(chat_ref(chat), str(chat_id))
                    await _send_once(bot, chat_id, thread, text, out.markup if last else None, out.preview)
                except Forbidden as exc:
                    log.info("chat %s refuses messages (%s); deactivating it", chat_id, exc)
                    await self._chats.deactivate(chat_ref(chat))
                    return


async def _send_once(bot: Bot, chat_id: int, thread: int | None, text: str, markup, preview: bool) -> None:
    fields = {
        "parse_mode": ParseMode.HTML,
        "reply_markup": markup,
        "link_preview_options": LinkPreviewOptions(is_disabled=not preview),
        "message_thread_id": thread,
    }
    try:
        await bot.send_message(chat_id, text, **fields)
    except RetryAfter as exc:
        wait = exc.retry_after if isinstance(exc.retry_after, (int, float)) else exc.retry_after.total_seconds()
        await asyncio.sleep(min(float(wait), MAX_REPLY_WAIT))
        await bot.send_message(chat_id, text, **fields)
