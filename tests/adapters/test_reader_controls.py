"""Reader controls through the real client libraries, against the fakes, on
SQLite and PostgreSQL: quiet hours send without a sound on both platforms
(the fakes record disable_notification and the suppress-notifications
flag), and the /settings buttons change the settings on both."""

from __future__ import annotations

from datetime import timedelta

from adapters.discord.sender import DiscordSender
from bot.composition import build_workers
from content.chats.preferences import DigestEvery
from content.chats.ref import ChatRef
from content.commands.caller import Caller
from content.models import utcnow
from tests.adapters.telegram_rig import Rig
from tests.adapters.test_discord import ADMIN, GENERAL, MEMBER, Harness, dc, ephemeral, text_of  # noqa: F401
from tests.adapters.test_telegram import ADA, PRIVATE, tg  # noqa: F401
from tests.adapters.test_telegram import Harness as TelegramHarness
from tests.fakes import discord as fakes
from tests.helpers import short_story


def window_around_now() -> str:
    now = utcnow()
    return f"{now - timedelta(hours=1):%H:%M}-{now + timedelta(hours=1):%H:%M}"


async def test_quiet_hours_send_telegram_pushes_without_a_sound(rig: Rig) -> None:
    rig.fake.add_chat(501, "private", first_name="Quiet")
    rig.fake.add_chat(502, "private", first_name="Loud")
    await rig.follow(501, "xAI")
    await rig.follow(502, "xAI")
    quiet = Caller(ChatRef("telegram", "501", "private"), "501", is_admin=True)
    await rig.core.commands.handle_text(quiet, f"/quiet {window_around_now()} UTC")
    await rig.core.publisher.publish(short_story("at-night", "xAI", title="At night"))
    await rig.drain()
    (hushed,) = rig.fake.sent(501)
    (loud,) = rig.fake.sent(502)
    assert hushed.silent and not loud.silent
    assert "At night" in hushed.text


async def test_quiet_hours_send_discord_pushes_with_suppressed_notifications(dc: Harness) -> None:  # noqa: F811
    await dc.run(GENERAL, ADMIN, "subscribe", {"tag": "xAI"})
    (said,) = await dc.run(GENERAL, ADMIN, "quiet", {"window": f"{window_around_now()} UTC"})
    assert "pushes then arrive silently" in text_of(said)
    (worker,) = build_workers(dc.core, [DiscordSender(dc.runner.client)])  # type: ignore[attr-defined]
    await dc.core.publisher.publish(short_story("hushed", "xAI", title="Hushed"))
    while await worker.run_once():
        pass
    push = dc.fake.messages(GENERAL)[-1]
    assert push["embeds"][0]["title"] == "Hushed"
    assert push.get("flags", 0) & fakes.SUPPRESS_NOTIFICATIONS


async def test_settings_buttons_change_the_settings_on_telegram(tg: TelegramHarness) -> None:  # noqa: F811
    (followed,) = await tg.say(PRIVATE, ADA, "/follow distilation")
    assert "Following “distillation”" in followed.text
    (shown,) = await tg.say(PRIVATE, ADA, "/settings")
    assert "Digest: off" in shown.text and "Terms: distillation" in shown.text
    data = {b["text"]: b["callback_data"] for b in shown.buttons}
    tg.fake.press_button(PRIVATE, ADA, shown.message_id, data["Daily digest 08:00"])
    await tg.fake.wait_for(lambda c: c.method == "editMessageText")
    edited = tg.fake.sent(PRIVATE)[-1]
    assert edited.edited and edited.message_id == shown.message_id and "Digest: daily at 08:00" in edited.text
    prefs = await tg.core.commands._services.settings.read(ChatRef("telegram", str(PRIVATE), "private"))
    assert prefs.digest is not None and prefs.digest.every is DigestEvery.DAILY
    tg.fake.press_button(PRIVATE, ADA, shown.message_id, data["Quiet 22:00-07:00"])
    await tg.fake.wait_for(lambda c: c.method == "editMessageText" and "</b>22:00-07:00" in str(c.params))
    prefs = await tg.core.commands._services.settings.read(ChatRef("telegram", str(PRIVATE), "private"))
    assert prefs.quiet is not None and prefs.quiet.describe() == "22:00-07:00"


async def test_settings_buttons_change_the_settings_on_discord(dc: Harness) -> None:  # noqa: F811
    (followed,) = await dc.run(GENERAL, ADMIN, "follow", {"term": "distilation"})
    assert "Following “distillation”" in text_of(followed)
    (shown,) = await dc.run(GENERAL, ADMIN, "settings")
    assert "Digest:" in text_of(shown) and "distillation" in text_of(shown)
    message = dc.fake.messages(GENERAL)[-1]
    ids = {c["label"]: c["custom_id"] for row in message["components"] for c in row["components"]}
    # A member who manages nothing here may look, not change.
    denied = dc.fake.press(GENERAL, MEMBER, int(message["id"]), ids["Quiet 22:00-07:00"])
    await dc.fake.wait_for(lambda: dc.fake.responses(denied), timeout=15)
    refusal = dc.fake.responses(denied)[0]["data"]
    assert ephemeral(refusal) and "Only admins" in text_of(refusal)
    pressed = dc.fake.press(GENERAL, ADMIN, int(message["id"]), ids["Quiet 22:00-07:00"])
    await dc.fake.wait_for(lambda: dc.fake.responses(pressed), timeout=15)
    update = dc.fake.responses(pressed)[0]
    assert update["type"] == 7 and "22:00-07:00" in text_of(update["data"])
    prefs = await dc.core.commands._services.settings.read(ChatRef("discord", str(GENERAL), "group"))
    assert prefs.quiet is not None and prefs.quiet.describe() == "22:00-07:00"
