"""A push as each platform will show it, from the adapters' own renderers.

The Telegram side is the HTML the sender sends (render_html), cleaned to
the tags Telegram itself allows before it is put in the page; the Discord
side is the embeds the sender sends, laid out as Discord lays them out.
Both come with the raw payloads, so a test can hold them against what the
platforms' fakes receive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import nh3
from markupsafe import Markup

from adapters.discord.markdown_html import discord_markdown_html
from adapters.discord.render import render as render_discord
from adapters.telegram.render import callback_data, render_html
from content.messages import Message

# What Telegram's HTML parse mode allows; anything else would be refused by Telegram.
_TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "a", "blockquote"}


@dataclass(frozen=True, slots=True)
class TelegramPreview:
    texts: tuple[str, ...]  # the HTML of each message, as sent with parse_mode HTML
    buttons: tuple[tuple[str, ...], ...]  # button labels, row by row
    link_preview: bool

    def bubbles(self) -> list[Markup]:
        return [
            Markup(nh3.clean(text, tags=_TELEGRAM_TAGS, attributes={"a": {"href"}}, link_rel="noopener noreferrer"))
            for text in self.texts
        ]

    def json(self) -> dict[str, Any]:
        return {
            "texts": list(self.texts),
            "buttons": [list(r) for r in self.buttons],
            "link_preview": self.link_preview,
        }


@dataclass(frozen=True, slots=True)
class DiscordEmbed:
    data: dict[str, Any]  # discord.Embed.to_dict(): what the API receives

    @property
    def colour(self) -> str:
        return f"#{int(self.data.get('color', 0x99AAB5)):06x}"

    @property
    def description(self) -> Markup:
        return Markup(discord_markdown_html(self.data.get("description") or ""))


@dataclass(frozen=True, slots=True)
class DiscordMessage:
    content: str | None
    embeds: tuple[DiscordEmbed, ...]
    buttons: tuple[str, ...]

    @property
    def content_html(self) -> Markup:
        return Markup(discord_markdown_html(self.content or ""))


@dataclass(frozen=True, slots=True)
class DiscordPreview:
    messages: tuple[DiscordMessage, ...]

    def json(self) -> dict[str, Any]:
        return {
            "messages": [
                {"content": m.content, "embeds": [e.data for e in m.embeds], "buttons": list(m.buttons)}
                for m in self.messages
            ]
        }


def telegram_preview(message: Message) -> TelegramPreview:
    rows = tuple(
        labels
        for row in message.buttons
        if (labels := tuple(b.label for b in row if callback_data(b.action, b.argument) is not None))
    )
    return TelegramPreview(tuple(render_html(message)), rows, message.link_preview)


def discord_preview(message: Message) -> DiscordPreview:
    return DiscordPreview(
        tuple(
            DiscordMessage(
                out.content,
                tuple(DiscordEmbed(embed.to_dict()) for embed in out.embeds),  # type: ignore[arg-type]
                tuple(label for label, _custom_id in out.buttons),
            )
            for out in render_discord(message)
        )
    )
