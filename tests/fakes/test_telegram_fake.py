"""The fake Telegram server, driven by python-telegram-bot's own Bot.

What matters is that PTB understands every answer (so a real bot runs
against the fake unmodified) and that a message Telegram would refuse is
refused here too, with the exception PTB raises for it.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientSession, web
from telegram import (
    Bot,
    ChatFullInfo,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    ChatMemberRestricted,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    MessageEntity,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import ApplicationBuilder, CommandHandler

from tests.fakes.telegram import FakeTelegram, HtmlParser

USER = 42
PRIVATE = USER  # a private chat's id is its user's
GROUP = -4001
SUPERGROUP = -1001234567890
CHANNEL = -1009876543210


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        server.add_chat(PRIVATE, "private", first_name="Ada")
        server.add_chat(GROUP, "group", title="Readers")
        server.add_chat(SUPERGROUP, "supergroup", title="Big readers", username="bigreaders")
        server.add_chat(CHANNEL, "channel", title="News", username="newsroom")
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=f"{fake.url}/bot") as client:  # initialize() calls getMe
        yield client


# PTB 22 warns on every RetryAfter that retry_after will become a timedelta.
retry_after_warns = pytest.mark.filterwarnings("ignore:.*retry_after:telegram.warnings.PTBDeprecationWarning")


def retry_seconds(error: RetryAfter) -> float:
    """retry_after is an int or a timedelta, depending on PTB's settings."""
    value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def send_html(bot: Bot, text: str, **kwargs: object):
    return await bot.send_message(PRIVATE, text, parse_mode=ParseMode.HTML, **kwargs)


# ----- getMe and the token ------------------------------------------------------------------


async def test_get_me_describes_the_bot(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (fake.bot_id, fake.bot_username, True)
    assert me.supports_inline_queries and me.can_join_groups
    assert fake.calls[0].method == "getMe"


async def test_a_wrong_token_is_unauthorized(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=f"{fake.url}/bot"):
            pass
    assert fake.errors[-1].status == 401


async def test_an_unknown_method_is_not_found(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(Exception):  # PTB turns a 404 into EndPointNotFound
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": PRIVATE})
    assert (fake.errors[-1].status, fake.errors[-1].description) == (404, "Not Found")


async def test_json_bodies_are_read_too(fake: FakeTelegram) -> None:
    async with ClientSession() as session:
        body = {"chat_id": PRIVATE, "text": "<b>hi</b>", "parse_mode": "HTML"}
        async with session.post(f"{fake.url}/bot{fake.token}/sendMessage", json=body) as response:
            answer = await response.json()
    assert answer["ok"] and answer["result"]["entities"] == [{"type": "bold", "offset": 0, "length": 2}]


# ----- HTML -------------------------------------------------------------------------------


async def test_good_html_is_sent_with_its_entities(fake: FakeTelegram, bot: Bot) -> None:
    html = (
        '😀 <b>bold</b> <i>it</i> &lt;3 <a href="https://example.com">link</a> <code>x</code>\n'
        '<pre><code class="language-python">print(1)</code></pre><tg-spoiler>s</tg-spoiler>'
        "<blockquote expandable>q</blockquote>"
    )
    message = await send_html(bot, html, link_preview_options=LinkPreviewOptions(is_disabled=True))
    assert message.text == "😀 bold it <3 link x\nprint(1)sq"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        (MessageEntity.BOLD, 3, 4),
        (MessageEntity.ITALIC, 8, 2),
        (MessageEntity.TEXT_LINK, 14, 4),
        (MessageEntity.CODE, 19, 1),
        (MessageEntity.PRE, 21, 8),
        (MessageEntity.SPOILER, 29, 1),
        (MessageEntity.EXPANDABLE_BLOCKQUOTE, 30, 1),
    ]
    assert message.entities[2].url == "https://example.com/" and message.entities[4].language == "python"
    [sent] = fake.sent(PRIVATE)
    assert (sent.html, sent.text, sent.link_preview_disabled) == (html, message.text, True)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<x>hi</x>", 'unsupported start tag "x" at byte offset 0'),
        ("<b>hi", 'can\'t find end tag corresponding to start tag "b"'),
        ("hi</b>", "unexpected end tag at byte offset 2"),
        ("<b>hi</i>", 'unmatched end tag at byte offset 5, expected "</b>", found "</i>"'),
        ("1 < 2", 'unsupported start tag "" at byte offset 2'),
        ("Q&A", "character entity expected at byte offset 1"),
        ("é &nbsp;", "character entity expected at byte offset 3"),  # é is two bytes
        ("<span>s</span>", 'tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<a>link</a>", 'tag "a" must have attribute "href" at byte offset 0'),
        ("<b", "unclosed start tag at byte offset 0"),
    ],
)
async def test_bad_html_is_refused(bot: Bot, text: str, error: str) -> None:
    with pytest.raises(BadRequest) as refused:
        await send_html(bot, text)
    assert str(refused.value).lower() == f"can't parse entities: {error}".lower()


async def test_text_is_literal_without_parse_mode(bot: Bot) -> None:
    message = await bot.send_message(PRIVATE, "Q&A <b>")
    assert message.text == "Q&A <b>" and not message.entities


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("x" * 4097, "message is too long"),
        ("", "message text is empty"),
        ("<b> </b>", "message text is empty"),
    ],
)
async def test_length_counts_after_parsing(bot: Bot, text: str, error: str) -> None:
    with pytest.raises(BadRequest, match=f"(?i){error}"):
        await send_html(bot, text)


async def test_decoded_length_is_what_counts(bot: Bot) -> None:
    message = await send_html(bot, "&amp;" * 4096)
    assert message.text == "&" * 4096


def test_utf16_offsets_count_surrogate_pairs() -> None:
    text, entities = HtmlParser("🧠🧠<i>x</i>&#x1F600;<b>y</b>").parse()
    assert text == "🧠🧠x😀y"
    assert [(e["offset"], e["length"]) for e in entities] == [(4, 1), (7, 1)]


# ----- keyboards ----------------------------------------------------------------------------


async def test_callback_data_over_64_bytes_is_refused(bot: Bot) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="x" * 65)]])
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await bot.send_message(PRIVATE, "list", reply_markup=markup)


async def test_a_button_needs_a_usable_url(bot: Bot) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Open", url="javascript:alert(1)")]])
    with pytest.raises(BadRequest, match="(?i)button_url_invalid"):
        await bot.send_message(PRIVATE, "story", reply_markup=markup)


# ----- chats that refuse ------------------------------------------------------------------------


async def test_a_blocked_chat_is_forbidden(fake: FakeTelegram, bot: Bot) -> None:
    fake.block(PRIVATE)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(PRIVATE, "hello")


async def test_a_migrated_group_names_its_supergroup(fake: FakeTelegram, bot: Bot) -> None:
    fake.migrate(GROUP, -1005550001)
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(GROUP, "hello")
    assert migrated.value.new_chat_id == -1005550001
    assert (await bot.send_message(-1005550001, "hello")).chat.type == "supergroup"


async def test_an_unknown_chat_is_not_found(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(777, "hello")


async def test_a_channel_needs_the_right_to_post(fake: FakeTelegram, bot: Bot) -> None:
    assert (await bot.send_message("@newsroom", "posted")).chat.id == CHANNEL
    fake.set_member(CHANNEL, fake.bot_id, "administrator", can_post_messages=False)
    with pytest.raises(BadRequest, match="(?i)need administrator rights"):
        await bot.send_message(CHANNEL, "hello")
    fake.set_member(CHANNEL, fake.bot_id, "left")
    with pytest.raises(Forbidden, match="not a member of the channel"):
        await bot.send_message(CHANNEL, "hello")


@retry_after_warns
async def test_over_the_rate_limit_retry_after(fake: FakeTelegram, bot: Bot) -> None:
    fake.rate_limit(per_second_per_chat=1)
    await bot.send_message(PRIVATE, "one")
    with pytest.raises(RetryAfter) as limited:
        await bot.send_message(PRIVATE, "two")
    assert retry_seconds(limited.value) >= 1
    await bot.send_message(GROUP, "another chat has its own window")


@retry_after_warns
async def test_fail_next_injects_an_error_once(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    with pytest.raises(RetryAfter) as limited:
        await bot.send_message(PRIVATE, "one")
    assert retry_seconds(limited.value) == 3
    await bot.send_message(PRIVATE, "two")


# ----- getChat and getChatMember ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chat_id", "kind"),
    [
        (PRIVATE, "private"),
        (GROUP, "group"),
        (SUPERGROUP, "supergroup"),
        (CHANNEL, "channel"),
    ],
)
async def test_get_chat_is_a_full_info(bot: Bot, chat_id: int, kind: str) -> None:
    chat = await bot.get_chat(chat_id)
    assert isinstance(chat, ChatFullInfo) and (chat.id, chat.type) == (chat_id, kind)
    assert chat.accepted_gift_types.unique_gifts is True


async def test_get_chat_by_username(bot: Bot) -> None:
    assert (await bot.get_chat("@BigReaders")).id == SUPERGROUP
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.get_chat("@nobody")


@pytest.mark.parametrize(
    ("status", "rights", "kind"),
    [
        ("creator", {}, ChatMemberOwner),
        ("administrator", {"can_post_messages": True}, ChatMemberAdministrator),
        ("member", {}, ChatMemberMember),
        ("restricted", {"can_send_messages": False}, ChatMemberRestricted),
        ("kicked", {}, ChatMemberBanned),
    ],
)
async def test_get_chat_member_is_the_right_kind(
    fake: FakeTelegram, bot: Bot, status: str, rights: dict, kind: type
) -> None:
    chat_id = CHANNEL if status == "administrator" else SUPERGROUP
    fake.set_member(chat_id, 7, status, **rights)
    member = await bot.get_chat_member(chat_id, 7)
    assert isinstance(member, kind) and member.user.id == 7
    for right, value in rights.items():
        assert getattr(member, right) == value


async def test_someone_not_in_the_chat_has_left(bot: Bot) -> None:
    assert isinstance(await bot.get_chat_member(GROUP, 8), ChatMemberLeft)


async def test_administrators_leave_the_bot_out(fake: FakeTelegram, bot: Bot) -> None:
    fake.set_member(GROUP, 7, "creator")
    fake.set_member(GROUP, fake.bot_id, "administrator")
    assert [m.user.id for m in await bot.get_chat_administrators(GROUP)] == [7]


# ----- updates -------------------------------------------------------------------------------------


async def test_get_updates_long_polls_and_offset_confirms(fake: FakeTelegram, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    assert not poll.done()
    update_id = fake.send_text(PRIVATE, USER, "/explain rag")
    [update] = await asyncio.wait_for(poll, 2)
    assert update.update_id == update_id and update.message.text == "/explain rag"
    assert update.message.entities == (MessageEntity(MessageEntity.BOT_COMMAND, 0, 8),)
    assert await bot.get_updates(offset=update_id + 1, timeout=0) == ()
    assert fake.pending_updates == []


async def test_channel_posts_have_no_sender(fake: FakeTelegram, bot: Bot) -> None:
    fake.send_text(CHANNEL, USER, "/subscribe xai")
    [update] = await bot.get_updates(timeout=0)
    assert update.channel_post.chat.id == CHANNEL and update.channel_post.from_user is None


async def test_a_second_bot_instance_polling_conflicts(fake: FakeTelegram, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    async with Bot(fake.token, base_url=f"{fake.url}/bot") as other:  # PTB serialises one Bot's own polls
        assert await other.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates"):
        await first


async def test_webhook_receives_updates_with_its_secret(fake: FakeTelegram, bot: Bot) -> None:
    received: asyncio.Queue[tuple[str | None, dict]] = asyncio.Queue()

    async def hook(request: web.Request) -> web.Response:
        await received.put((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
        assert await bot.set_webhook(url, secret_token="s3cret")
        update_id = fake.send_text(PRIVATE, USER, "hello")
        secret, body = await asyncio.wait_for(received.get(), 5)
        assert secret == "s3cret" and Update.de_json(body, bot).message.text == "hello"
        assert body["update_id"] == update_id
        await fake.wait_idle(quiet=0.05)
        assert [d.status for d in fake.webhook_deliveries] == [200]
        assert (await bot.get_webhook_info()).url == url
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
    finally:
        await runner.cleanup()


# ----- edits, buttons, inline, commands -----------------------------------------------------------


async def test_edits_must_change_an_own_message(fake: FakeTelegram, bot: Bot) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more:2")]])
    message = await send_html(bot, "<b>page 1</b>", reply_markup=markup)
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text(
            "<b>page 1</b>", PRIVATE, message.message_id, parse_mode="HTML", reply_markup=markup
        )
    edited = await bot.edit_message_text("<b>page 2</b>", PRIVATE, message.message_id, parse_mode="HTML")
    assert edited.text == "page 2" and edited.reply_markup is None
    assert [(m.text, m.edited) for m in fake.sent(PRIVATE)] == [("page 1", False), ("page 2", True)]
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", PRIVATE, 999)


async def test_a_button_press_is_answered_once(fake: FakeTelegram, bot: Bot) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more:2")]])
    message = await bot.send_message(PRIVATE, "list", reply_markup=markup)
    query_id = fake.press_button(PRIVATE, USER, message.message_id, "more:2")
    [update] = await bot.get_updates(timeout=0)
    assert update.callback_query.data == "more:2" and update.callback_query.message.message_id == message.message_id
    assert await bot.answer_callback_query(query_id, "ok")
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(query_id)
    assert fake.answered_callbacks[query_id]["text"] == "ok"
    with pytest.raises(ValueError, match="no button"):
        fake.press_button(PRIVATE, USER, message.message_id, "forged")


async def test_inline_answers_are_checked_like_messages(fake: FakeTelegram, bot: Bot) -> None:
    query_id = fake.inline_query(USER, "rag")
    [update] = await bot.get_updates(timeout=0)
    assert update.inline_query.query == "rag"

    def article(result_id: str, text: str) -> InlineQueryResultArticle:
        return InlineQueryResultArticle(result_id, "RAG", InputTextMessageContent(text, parse_mode=ParseMode.HTML))

    with pytest.raises(BadRequest, match="(?i)unsupported start tag"):
        await bot.answer_inline_query(query_id, [article("1", "<br>")])
    with pytest.raises(BadRequest, match="(?i)result_id_duplicate"):
        await bot.answer_inline_query(query_id, [article("1", "a"), article("1", "b")])
    assert await bot.answer_inline_query(query_id, [article("1", "<b>RAG</b>")])
    assert fake.inline_answers[query_id]["results"][0]["id"] == "1"


async def test_commands_are_validated(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await bot.set_my_commands([("Latest", "newest stories")])
    assert await bot.set_my_commands([("latest", "newest stories"), ("explain", "a term")])
    assert fake.commands == [
        {"command": "latest", "description": "newest stories"},
        {"command": "explain", "description": "a term"},
    ]
    assert [c.command for c in await bot.get_my_commands()] == ["latest", "explain"]


# ----- observation ----------------------------------------------------------------------------------


async def test_wait_for_times_out_with_the_calls_so_far(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest):
        await send_html(bot, "<x>")
    with pytest.raises(AssertionError, match=r"(?s)no call matched.*sendMessage 400.*Unsupported start tag"):
        await fake.wait_for(lambda call: call.method == "deleteMessage", timeout=0.1)


async def test_a_ptb_application_polls_and_replies(fake: FakeTelegram) -> None:
    async def pong(update: Update, context: object) -> None:
        await update.effective_message.reply_html("<b>pong</b>")

    app = ApplicationBuilder().token(fake.token).base_url(f"{fake.url}/bot").build()
    app.add_handler(CommandHandler("ping", pong))
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=5)
        fake.send_text(GROUP, USER, "/ping@ExplainerTestBot")
        call = await fake.wait_for(lambda c: c.method == "sendMessage")
        await app.updater.stop()
        await app.stop()
    assert call.ok and call.result["text"] == "pong" and call.result["chat"]["id"] == GROUP
    await fake.wait_idle(quiet=0.05)
    assert fake.errors == [] and fake.pending_updates == []


async def test_wait_idle_waits_out_a_quiet_spell(fake: FakeTelegram, bot: Bot) -> None:
    sending = asyncio.create_task(bot.send_message(PRIVATE, "hello"))
    await fake.wait_idle(quiet=0.1)
    assert sending.done() and len(fake.sent(PRIVATE)) == 1


# ----- more of the world ----------------------------------------------------------------------------


async def test_privacy_mode_hides_plain_group_chatter() -> None:
    async with FakeTelegram(privacy_mode=True) as fake:
        fake.add_chat(GROUP, "group")
        assert fake.send_text(GROUP, USER, "just chatting") == 0
        assert fake.send_text(GROUP, USER, "/latest@SomeOtherBot") == 0
        assert fake.send_text(GROUP, USER, "/latest") > 0
        async with Bot(fake.token, base_url=f"{fake.url}/bot") as bot:
            assert not (await bot.get_me()).can_read_all_group_messages
            assert [u.message.text for u in await bot.get_updates(timeout=0)] == ["/latest"]


async def test_bot_added_is_a_my_chat_member_update(fake: FakeTelegram, bot: Bot) -> None:
    fake.set_member(GROUP, fake.bot_id, "left")
    fake.bot_added(GROUP, by_user_id=USER)
    [update] = await bot.get_updates(timeout=0)
    change = update.my_chat_member
    assert (change.old_chat_member.status, change.new_chat_member.status) == ("left", "member")
    assert change.from_user.id == USER and change.new_chat_member.user.id == fake.bot_id


async def test_a_bot_out_of_a_group_cannot_write_there(fake: FakeTelegram, bot: Bot) -> None:
    fake.set_member(SUPERGROUP, fake.bot_id, "kicked")
    with pytest.raises(Forbidden, match="kicked from the supergroup chat"):
        await bot.send_message(SUPERGROUP, "hello")
    assert fake.send_text(SUPERGROUP, USER, "/latest") == 0  # and hears nothing from it


@retry_after_warns
async def test_the_group_limit_is_per_minute(fake: FakeTelegram, bot: Bot) -> None:
    fake.rate_limit(per_minute_per_group=2)
    await bot.send_message(GROUP, "one")
    await bot.send_message(GROUP, "two")
    with pytest.raises(RetryAfter):
        await bot.send_message(GROUP, "three")
    await bot.send_message(PRIVATE, "private chats are not groups")


@retry_after_warns
async def test_edits_and_deletes_share_the_per_chat_limit_with_sends(fake: FakeTelegram, bot: Bot) -> None:
    fake.rate_limit(per_second_per_chat=1)
    message = await bot.send_message(PRIVATE, "one")
    with pytest.raises(RetryAfter) as edit_limited:
        await bot.edit_message_text("one, edited", PRIVATE, message.message_id)
    with pytest.raises(RetryAfter) as delete_limited:
        await bot.delete_message(PRIVATE, message.message_id)
    assert retry_seconds(edit_limited.value) >= 1 and retry_seconds(delete_limited.value) >= 1
    edit_call, delete_call = fake.errors
    assert (edit_call.method, edit_call.status) == ("editMessageText", 429)
    assert (delete_call.method, delete_call.status) == ("deleteMessage", 429)
    assert delete_call.response["parameters"]["retry_after"] >= 1
    assert delete_call.description.startswith("Too Many Requests: retry after ")
    # refused, so nothing happened: the message is as sent and still there
    assert [(m.text, m.edited) for m in fake.sent(PRIVATE)] == [("one", False)] and fake.deleted == []
    await bot.send_message(GROUP, "another chat has its own window")


@retry_after_warns
async def test_edits_count_against_a_group_s_minute(fake: FakeTelegram, bot: Bot) -> None:
    fake.rate_limit(per_minute_per_group=2)
    message = await bot.send_message(GROUP, "one")
    await bot.edit_message_text("one, edited", GROUP, message.message_id)
    with pytest.raises(RetryAfter):
        await bot.send_message(GROUP, "two")
    with pytest.raises(RetryAfter):
        await bot.delete_message(GROUP, message.message_id)


@retry_after_warns
async def test_edits_count_against_the_global_limit(fake: FakeTelegram, bot: Bot) -> None:
    fake.rate_limit(per_second_global=2)
    message = await bot.send_message(PRIVATE, "one")
    await bot.edit_message_text("one, edited", PRIVATE, message.message_id)
    with pytest.raises(RetryAfter):
        await bot.send_message(GROUP, "a third message anywhere")
    with pytest.raises(RetryAfter):
        await bot.edit_message_text("inline, edited", inline_message_id="AAQAAExample")


@retry_after_warns
async def test_a_refused_edit_uses_no_flood_budget(fake: FakeTelegram, bot: Bot) -> None:
    fake.rate_limit(per_minute_per_group=2)
    message = await bot.send_message(GROUP, "one")
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("one", GROUP, message.message_id)
    await bot.send_message(GROUP, "two")


async def test_delete_and_chat_action(fake: FakeTelegram, bot: Bot) -> None:
    message = await bot.send_message(GROUP, "oops")
    assert await bot.delete_message(GROUP, message.message_id)
    assert fake.deleted == [(GROUP, message.message_id)]
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(GROUP, message.message_id)
    assert await bot.send_chat_action(GROUP, "typing")
    with pytest.raises(BadRequest, match="(?i)wrong parameter action"):
        await bot.send_chat_action(GROUP, "dancing")


async def test_a_bot_deletes_its_messages_only_within_48_hours(fake: FakeTelegram, bot: Bot) -> None:
    young, old = await bot.send_message(GROUP, "young"), await bot.send_message(GROUP, "old")
    fake.age(GROUP, young.message_id, hours=47.9)
    fake.age(GROUP, old.message_id, hours=48.1)
    assert await bot.delete_message(GROUP, young.message_id)
    with pytest.raises(BadRequest, match="(?i)message can't be deleted for everyone"):
        await bot.delete_message(GROUP, old.message_id)
    assert await bot.edit_message_text("still editable", GROUP, old.message_id)


async def test_a_message_the_reader_deleted_is_gone_for_the_bot(fake: FakeTelegram, bot: Bot) -> None:
    message = await bot.send_message(PRIVATE, "story")
    fake.delete_by_reader(PRIVATE, message.message_id)
    assert fake.pending_updates == []  # Telegram tells the bot nothing
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("updated story", PRIVATE, message.message_id)
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(PRIVATE, message.message_id)
    assert [(e.method, e.status, e.description) for e in fake.errors] == [
        ("editMessageText", 400, "Bad Request: message to edit not found"),
        ("deleteMessage", 400, "Bad Request: message to delete not found"),
    ]
    assert fake.deleted == []  # the bot deleted nothing
    with pytest.raises(ValueError, match="no message"):
        fake.delete_by_reader(PRIVATE, message.message_id)


async def test_an_admin_reader_deletes_a_bot_message_in_a_group(fake: FakeTelegram, bot: Bot) -> None:
    message = await bot.send_message(GROUP, "story")
    fake.delete_by_reader(GROUP, message.message_id)
    with pytest.raises(BadRequest, match="(?i)message to be replied not found"):
        await bot.send_message(GROUP, "more", reply_to_message_id=message.message_id)
    with pytest.raises(ValueError, match="no message"):
        fake.press_button(GROUP, USER, message.message_id, "more:2")


async def test_a_failing_webhook_is_retried_and_reported(fake: FakeTelegram, bot: Bot) -> None:
    statuses = iter([500, 200])

    async def hook(request: web.Request) -> web.Response:
        return web.Response(status=next(statuses))

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        await bot.set_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/hook")
        fake.send_text(PRIVATE, USER, "hello")
        await fake.wait_idle(quiet=0.2)
        assert [d.status for d in fake.webhook_deliveries] == [500, 200]
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 0 and "500" in info.last_error_message
        assert await bot.delete_webhook() and fake.webhook is None
    finally:
        await runner.cleanup()


async def test_allowed_updates_filter_what_is_queued(fake: FakeTelegram, bot: Bot) -> None:
    assert await bot.get_updates(timeout=0, allowed_updates=["callback_query"]) == ()
    assert fake.send_text(PRIVATE, USER, "hello") == 0
    assert fake.pending_updates == []


# ----- forum topics ---------------------------------------------------------------------------------

FORUM = -1005550002


@pytest.fixture
def topics(fake: FakeTelegram) -> tuple[int, int]:
    """A forum supergroup with two topics, Ops and News: their thread ids."""
    fake.add_chat(FORUM, "supergroup", title="Forum", is_forum=True)
    return fake.add_topic(FORUM, "Ops"), fake.add_topic(FORUM, "News")


async def test_a_forum_is_a_supergroup_that_says_so(fake: FakeTelegram, bot: Bot, topics: tuple[int, int]) -> None:
    assert (await bot.get_chat(FORUM)).is_forum is True
    assert not (await bot.get_chat(SUPERGROUP)).is_forum
    assert (await bot.send_message(FORUM, "hello")).chat.is_forum is True
    with pytest.raises(ValueError, match="only a supergroup"):
        fake.add_chat(-4002, "group", is_forum=True)
    with pytest.raises(ValueError, match="not a forum"):
        fake.add_topic(SUPERGROUP, "Ops")


async def test_topic_ids_are_message_ids_of_the_forum(fake: FakeTelegram, bot: Bot, topics: tuple[int, int]) -> None:
    # General is thread 1, the forum's first message: topics and messages come after it.
    assert topics == (2, 3)
    assert (await bot.send_message(FORUM, "next")).message_id == 4


async def test_a_user_writes_in_a_topic(fake: FakeTelegram, bot: Bot, topics: tuple[int, int]) -> None:
    ops, _ = topics
    fake.send_text(FORUM, USER, "/latest", thread_id=ops)
    fake.send_text(FORUM, USER, "in General")
    in_topic, in_general = [update.message for update in await bot.get_updates(timeout=0)]
    assert (in_topic.is_topic_message, in_topic.message_thread_id, in_topic.text) == (True, ops, "/latest")
    opener = in_topic.reply_to_message
    assert opener.message_id == ops and opener.forum_topic_created.name == "Ops"
    assert opener.forum_topic_created.icon_color == 0x6FB9F0 and opener.is_topic_message
    assert (in_general.is_topic_message, in_general.message_thread_id, in_general.reply_to_message) == (
        None,
        None,
        None,
    )


async def test_a_user_writes_only_in_a_topic_there_is(fake: FakeTelegram, topics: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="no topic 99"):
        fake.send_text(FORUM, USER, "hello", thread_id=99)
    with pytest.raises(ValueError, match="General"):
        fake.send_text(FORUM, USER, "hello", thread_id=1)
    with pytest.raises(ValueError, match="not a forum"):
        fake.send_text(SUPERGROUP, USER, "hello", thread_id=1)
    fake.close_topic(FORUM, topics[0])
    with pytest.raises(ValueError, match="closed"):
        fake.send_text(FORUM, USER, "hello", thread_id=topics[0])
    fake.set_member(FORUM, USER, "administrator", can_manage_topics=True)
    assert fake.send_text(FORUM, USER, "a moderator still writes", thread_id=topics[0]) > 0


async def test_a_send_lands_in_its_topic_or_in_general(fake: FakeTelegram, bot: Bot, topics: tuple[int, int]) -> None:
    ops, news = topics
    in_ops = await bot.send_message(FORUM, "for ops", message_thread_id=ops)
    in_general = await bot.send_message(FORUM, "for everyone")
    assert (in_ops.is_topic_message, in_ops.message_thread_id) == (True, ops)
    assert in_ops.reply_to_message.forum_topic_created.name == "Ops"  # as Telegram answers it
    assert (in_general.is_topic_message, in_general.message_thread_id) == (None, None)
    assert [m.text for m in fake.sent(FORUM, thread_id=ops)] == ["for ops"]
    assert [m.text for m in fake.sent(FORUM, thread_id=None)] == ["for everyone"]
    assert fake.sent(FORUM, thread_id=news) == []
    assert [(m.text, m.thread_id) for m in fake.sent(FORUM)] == [("for ops", ops), ("for everyone", None)]
    assert "in thread 2" in fake.dump("where things went") and "2 'Ops'" in fake.dump("topics")


@pytest.mark.parametrize("thread_id", [1, 99])  # 1: the General topic must be left out, not named
async def test_a_thread_the_forum_has_not_is_not_found(
    fake: FakeTelegram, bot: Bot, topics: tuple[int, int], thread_id: int
) -> None:
    with pytest.raises(BadRequest, match="(?i)^message thread not found$"):
        await bot.send_message(FORUM, "hello", message_thread_id=thread_id)
    with pytest.raises(BadRequest, match="(?i)message thread not found"):
        await bot.send_chat_action(FORUM, "typing", message_thread_id=thread_id)
    assert fake.errors[0].description == "Bad Request: message thread not found"
    assert fake.sent(FORUM) == []


async def test_a_closed_topic_takes_only_topic_managers(fake: FakeTelegram, bot: Bot, topics: tuple[int, int]) -> None:
    ops, news = topics
    before = await bot.send_message(FORUM, "written while open", message_thread_id=ops)
    fake.close_topic(FORUM, ops)
    with pytest.raises(BadRequest, match="^Topic_closed$"):  # PTB capitalizes the first letter
        await bot.send_message(FORUM, "hello", message_thread_id=ops)
    assert fake.errors[-1].description == "Bad Request: TOPIC_CLOSED"
    with pytest.raises(BadRequest, match="(?i)topic_closed"):  # a reply files itself in the topic too
        await bot.send_message(FORUM, "hello", reply_to_message_id=before.message_id)
    assert (await bot.send_message(FORUM, "other topics are open", message_thread_id=news)).message_thread_id == news
    edited = await bot.edit_message_text("edited while closed", FORUM, before.message_id)
    assert edited.message_thread_id == ops and fake.sent(FORUM, thread_id=ops)[-1].edited
    fake.set_member(FORUM, fake.bot_id, "administrator")
    with pytest.raises(BadRequest, match="(?i)topic_closed"):
        await bot.send_message(FORUM, "hello", message_thread_id=ops)
    fake.set_member(FORUM, fake.bot_id, "administrator", can_manage_topics=True)
    assert (await bot.send_message(FORUM, "a manager writes", message_thread_id=ops)).message_thread_id == ops
    fake.set_member(FORUM, fake.bot_id, "member")
    fake.reopen_topic(FORUM, ops)
    assert (await bot.send_message(FORUM, "open again", message_thread_id=ops)).is_topic_message


async def test_a_deleted_topic_is_gone_with_its_messages(fake: FakeTelegram, bot: Bot, topics: tuple[int, int]) -> None:
    ops, news = topics
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more:2")]])
    old = await bot.send_message(FORUM, "in ops", message_thread_id=ops, reply_markup=markup)
    kept = await bot.send_message(FORUM, "in news", message_thread_id=news)
    fake.delete_topic(FORUM, ops)
    with pytest.raises(BadRequest, match="(?i)message thread not found"):
        await bot.send_message(FORUM, "hello", message_thread_id=ops)
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("edited", FORUM, old.message_id)
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(FORUM, old.message_id)
    with pytest.raises(BadRequest, match="(?i)message to be replied not found"):
        await bot.send_message(FORUM, "hello", reply_to_message_id=ops)  # its opener went with it
    with pytest.raises(ValueError, match="no message"):
        fake.press_button(FORUM, USER, old.message_id, "more:2")
    with pytest.raises(ValueError, match="no topic"):
        fake.send_text(FORUM, USER, "hello", thread_id=ops)
    assert (await bot.edit_message_text("still here", FORUM, kept.message_id)).message_thread_id == news
    assert fake.deleted == []  # the bot deleted nothing


async def test_a_topic_opener_goes_only_with_its_topic(fake: FakeTelegram, bot: Bot, topics: tuple[int, int]) -> None:
    fake.set_member(FORUM, fake.bot_id, "administrator", can_delete_messages=True)
    with pytest.raises(BadRequest, match="(?i)message can't be deleted"):
        await bot.delete_message(FORUM, topics[0])
    with pytest.raises(ValueError, match="delete_topic"):
        fake.delete_by_reader(FORUM, topics[0])


async def test_a_thread_outside_forums_must_be_a_message_of_the_chat(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)message thread not found"):
        await bot.send_message(SUPERGROUP, "hello", message_thread_id=2)
    root = await bot.send_message(SUPERGROUP, "a thread's first message")
    in_thread = await bot.send_message(SUPERGROUP, "in its thread", message_thread_id=root.message_id)
    # a reply thread, which is no topic
    assert (in_thread.message_thread_id, in_thread.is_topic_message) == (root.message_id, None)
    assert [m.text for m in fake.sent(SUPERGROUP, thread_id=root.message_id)] == ["in its thread"]


async def test_a_reply_goes_to_the_topic_of_what_it_answers(
    fake: FakeTelegram, bot: Bot, topics: tuple[int, int]
) -> None:
    ops, _ = topics
    fake.send_text(FORUM, USER, "question", thread_id=ops)
    [update] = await bot.get_updates(timeout=0)
    answer = await bot.send_message(FORUM, "answer", reply_to_message_id=update.message.message_id)
    assert (answer.message_thread_id, answer.is_topic_message) == (ops, True)
    assert answer.reply_to_message.text == "question"  # the reply, not the topic's opener


async def test_reply_text_on_a_topic_message_names_the_topic(
    fake: FakeTelegram, bot: Bot, topics: tuple[int, int]
) -> None:
    # PTB's Message.reply_text passes message_thread_id by itself for a topic message
    # (is_topic_message) in the same chat, and, outside private chats, quotes it.
    ops, _ = topics
    fake.send_text(FORUM, USER, "in ops", thread_id=ops)
    fake.send_text(FORUM, USER, "in General")
    in_topic, in_general = [update.message for update in await bot.get_updates(timeout=0)]
    reply = await in_topic.reply_text("pong")
    call = fake.calls[-1]
    assert call.params["message_thread_id"] == ops
    assert call.params["reply_parameters"]["message_id"] == in_topic.message_id
    assert (reply.message_thread_id, reply.reply_to_message.message_id) == (ops, in_topic.message_id)
    await in_general.reply_text("pong")
    assert "message_thread_id" not in fake.calls[-1].params  # General: left out, as Telegram wants
    assert [m.thread_id for m in fake.sent(FORUM)] == [ops, None]


async def test_a_button_pressed_in_a_topic_names_it(fake: FakeTelegram, bot: Bot, topics: tuple[int, int]) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more:2")]])
    message = await bot.send_message(FORUM, "list", message_thread_id=topics[1], reply_markup=markup)
    fake.press_button(FORUM, USER, message.message_id, "more:2")
    [update] = await bot.get_updates(timeout=0)
    pressed = update.callback_query.message
    assert (pressed.message_thread_id, pressed.is_topic_message) == (topics[1], True)


@retry_after_warns
async def test_topics_share_their_forum_s_flood_limits(fake: FakeTelegram, bot: Bot, topics: tuple[int, int]) -> None:
    fake.rate_limit(per_second_per_chat=1)
    await bot.send_message(FORUM, "one", message_thread_id=topics[0])
    with pytest.raises(RetryAfter):
        await bot.send_message(FORUM, "two", message_thread_id=topics[1])
