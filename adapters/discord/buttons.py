"""Buttons whose custom id carries the action, so they work after a restart.

A DynamicItem is rebuilt from the custom id of whatever button is pressed,
with no view kept in memory: a /latest answer from last week still pages on.
"""

from __future__ import annotations

import re
from typing import Any

import discord

TEMPLATE = re.compile(r"xb:(?P<action>[a-z]{1,16}):(?P<argument>[^\s]{0,90})")


class ActionButton(discord.ui.DynamicItem[discord.ui.Button], template=TEMPLATE):
    def __init__(self, action: str, argument: str, label: str = "Open") -> None:
        super().__init__(
            discord.ui.Button(label=label, style=discord.ButtonStyle.secondary, custom_id=f"xb:{action}:{argument}")
        )
        self.action = action
        self.argument = argument

    @classmethod
    def make(cls, label: str, custom_id: str) -> ActionButton:
        match = TEMPLATE.fullmatch(custom_id)
        assert match is not None, custom_id
        return cls(match["action"], match["argument"], label)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ActionButton:
        return cls(match["action"], match["argument"], getattr(item, "label", None) or "Open")

    async def callback(self, interaction: discord.Interaction) -> None:
        bridge = getattr(interaction.client, "bridge", None)
        if bridge is not None:
            await bridge.press(interaction, self.action, self.argument)
