"""The commands, with what they take and what they do, as every menu lists them."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CommandInfo:
    name: str
    arguments: str
    description: str


COMMANDS = (
    CommandInfo("latest", "[N] [TAG]", "The newest stories, optionally on one tag"),
    CommandInfo("story", "SLUG", "One story's full explainer"),
    CommandInfo("explain", "TERM", "A term explained, with the stories about it"),
    CommandInfo("search", "WORDS", "Search the stories"),
    CommandInfo("tags", "", "The tags, and which ones this chat follows"),
    CommandInfo("subscribe", "TAG[, TAG...]", "Get new stories on these tags here"),
    CommandInfo("unsubscribe", "TAG[, TAG...] | all", "Stop getting stories on these tags"),
    CommandInfo("subscriptions", "", "The tags this chat follows"),
    CommandInfo("help", "", "What the bot does and its commands"),
)
