"""The one list of commands, in menu order, and the buttons their answers carry.

Every menu is built from here: /help, Telegram's command menu, Discord's
slash commands with their typed options. A new command is a handler module
and an entry below.
"""

from __future__ import annotations

from collections.abc import Mapping

from content.commands import about, browse, follows, glossary, help, preferences
from content.commands.browse import LATEST_MAX
from content.commands.spec import ArgKind, Argument, ButtonHandler, CommandSpec, Effect
from content.messages import Action

# Help leaves the place out of the usage line: each platform names one its own way
# (`@channel` from a Telegram private chat, a channel option on Discord).
_CHANNEL = Argument("channel", ArgKind.PLACE, "", "The channel (default: this one)")

SPECS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "latest",
        "The newest stories, optionally on one tag",
        browse.latest,
        (
            Argument("count", ArgKind.COUNT, "N", f"How many stories (1-{LATEST_MAX})", minimum=1, maximum=LATEST_MAX),
            Argument("tag", ArgKind.TAG, "TAG", "Only stories with this tag"),
        ),
    ),
    CommandSpec(
        "story",
        "One story's full explainer",
        browse.story,
        (Argument("slug", ArgKind.STORY, "SLUG", "The story (type to search)", required=True),),
    ),
    CommandSpec(
        "explain",
        "A term explained, with the stories about it",
        glossary.explain,
        (Argument("term", ArgKind.TERM, "TERM", "A term, e.g. distillation", required=True),),
    ),
    CommandSpec(
        "search",
        "Search the stories",
        browse.search,
        (Argument("query", ArgKind.WORDS, "WORDS", "Words to look for", required=True),),
    ),
    CommandSpec("tags", "The tags, and which ones this chat follows", browse.tags),
    CommandSpec(
        "subscribe",
        "Get new stories on these tags here",
        follows.subscribe,
        (
            Argument("tag", ArgKind.TAGS, "TAG[, TAG...]", "A tag, or several separated by commas", required=True),
            _CHANNEL,
            # Only announcement channels have followers to republish to; help leaves it out.
            Argument("crosspost", ArgKind.SWITCH, "", "Also publish each push to the servers following this channel"),
        ),
        effect=Effect.STARTS_PUSHES,
    ),
    CommandSpec(
        "unsubscribe",
        "Stop getting stories on these tags",
        follows.unsubscribe,
        (
            Argument("tag", ArgKind.TAGS, "TAG[, TAG...]", "A tag, several separated by commas, or all", required=True),
            _CHANNEL,
        ),
        usage="TAG[, TAG...] | all",
        effect=Effect.CHANGES,
    ),
    CommandSpec(
        "subscriptions",
        "The tags this chat follows",
        follows.subscriptions,
        (_CHANNEL, Argument("all", ArgKind.SWITCH, "all", "Every topic's and thread's in this chat too")),
    ),
    CommandSpec("help", "What the bot does and its commands", help.help),
    CommandSpec("about", "Who publishes these stories, and their site", about.about),
    CommandSpec(
        "follow",
        "Get new stories that explain this term here",
        follows.follow,
        (Argument("term", ArgKind.TERM, "TERM", "A glossary term, e.g. distillation", required=True),),
        effect=Effect.STARTS_PUSHES,
    ),
    CommandSpec(
        "unfollow",
        "Stop getting stories on this term",
        follows.unfollow,
        (Argument("term", ArgKind.TERM, "TERM", "A term this chat follows", required=True),),
        effect=Effect.CHANGES,
    ),
    CommandSpec(
        "digest",
        "One message a day or a week instead of a push per story",
        preferences.digest,
        (
            Argument(
                "schedule",
                ArgKind.WORDS,
                "daily HH:MM [TIMEZONE] | weekly DAY HH:MM [TIMEZONE] | off",
                "daily 08:00 Europe/Berlin, weekly mon 09:00, or off",
                required=True,
            ),
        ),
        effect=Effect.CHANGES,
    ),
    CommandSpec(
        "quiet",
        "Pushes in these hours arrive silently",
        preferences.quiet,
        (
            Argument(
                "window",
                ArgKind.WORDS,
                "HH:MM-HH:MM [TIMEZONE] | off",
                "22:00-07:00 Europe/Berlin, or off",
                required=True,
            ),
        ),
        effect=Effect.CHANGES,
    ),
    CommandSpec("settings", "This chat's digest, quiet hours, time zone, tags and terms", preferences.settings),
    CommandSpec("start", "What the bot does, to begin with", help.start, listed=False),
)

# What menus list, in their order.
COMMANDS: tuple[CommandSpec, ...] = tuple(spec for spec in SPECS if spec.listed)
BY_NAME: Mapping[str, CommandSpec] = {spec.name: spec for spec in SPECS}
if len(BY_NAME) != len(SPECS):
    raise ValueError("two commands share a name")
# Words sent without a command are a term to explain.
PLAIN_WORDS = BY_NAME["explain"]

BUTTONS: Mapping[str, ButtonHandler] = {
    Action.STORY: browse.open_story,
    Action.MORE: browse.more,
    Action.SETTING: preferences.change,
    Action.DEFINE: glossary.define,
}
