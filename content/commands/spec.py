"""What a command is: its typed arguments, its handler, and what handlers are given.

The registry lists commands in these terms; the text parser, the dispatcher,
/help and every platform's menu read them, so a command is described once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from content.chats.access import NoPlace, Place
from content.chats.follows import Follows
from content.chats.lifecycle import Chats
from content.chats.ref import ChatRef
from content.chats.settings import ChatSettings
from content.commands.caller import Caller
from content.messages import Reply
from content.stories.catalog import Catalog
from content.stories.search import Search


class ArgKind(StrEnum):
    """What an argument holds, which says how it is typed, parsed and completed."""

    WORDS = "words"  # free text, e.g. what to search for
    COUNT = "count"  # a whole number between the argument's minimum and maximum
    TAG = "tag"
    TAGS = "tags"  # one or more tags, separated by commas
    TERM = "term"
    STORY = "story"  # a slug, or a pasted link to the story
    PLACE = "place"  # another chat than the one asking: a channel, a group
    SWITCH = "switch"  # yes or no: a boolean option, or in text its name (`all`, `crosspost:true`)

    @property
    def is_text(self) -> bool:
        return self in _TEXT_KINDS


_TEXT_KINDS = frozenset({ArgKind.WORDS, ArgKind.TAG, ArgKind.TAGS, ArgKind.TERM, ArgKind.STORY})


class Completion(StrEnum):
    """What a partly typed value is completed from."""

    TAG = "tag"
    TERM = "term"
    STORY = "story"


_COMPLETED_FROM = {
    ArgKind.TAG: Completion.TAG,
    ArgKind.TAGS: Completion.TAG,
    ArgKind.TERM: Completion.TERM,
    ArgKind.STORY: Completion.STORY,
}


@dataclass(frozen=True, slots=True)
class Argument:
    """One argument of a command.

    `name` is the option's name on platforms with typed options and the key of
    its value in `Arguments`; `usage` is how /help writes it ("N", "TAG");
    `description` is the option's. `minimum` and `maximum` bound a COUNT.
    """

    name: str
    kind: ArgKind
    usage: str
    description: str
    required: bool = False
    minimum: int | None = None
    maximum: int | None = None

    @property
    def completion(self) -> Completion | None:
        return _COMPLETED_FROM.get(self.kind)


class Effect(StrEnum):
    """What running a command does to the chat it acts on."""

    READS = "reads"  # nothing: anyone may run it
    CHANGES = "changes"  # what the chat gets: only its admins may
    STARTS_PUSHES = "starts pushes"  # the same, and the bot will post there, so it must be able to


class Arguments(Mapping[str, object]):
    """A command's argument values by name, typed: int for COUNT, str for the text
    kinds, a Place or NoPlace for PLACE.

    Typed options and parsed text give the same shape; an absent or empty
    option is simply not in it.
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, object] | None = None) -> None:
        self._values = MappingProxyType({k: v for k, v in (values or {}).items() if v is not None})

    def __getitem__(self, name: str) -> object:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Arguments({dict(self._values)!r})"

    def text(self, name: str) -> str:
        value = self._values.get(name, "")
        return value if isinstance(value, str) else ""

    def count(self, name: str) -> int | None:
        value = self._values.get(name)
        return value if isinstance(value, int) else None

    def switch(self, name: str) -> bool | None:
        """True or False as given, None when not given."""
        value = self._values.get(name)
        return value if isinstance(value, bool) else None

    def place(self, name: str) -> Place | NoPlace | None:
        value = self._values.get(name)
        return value if isinstance(value, (Place, NoPlace)) else None


@dataclass(frozen=True, slots=True)
class Request:
    """One run of a command: who asks, with what, and the chat it acts on."""

    caller: Caller
    arguments: Arguments
    chat: ChatRef


@dataclass(frozen=True, slots=True)
class Newsroom:
    """Who publishes the stories, as the bot introduces it."""

    name: str = "Explainers"
    about: str = "The latest AI and tech stories, simplified for humans: each one reads in about 30 seconds."
    site_url: str = "https://explainers.example.com"


@dataclass(frozen=True, slots=True)
class Services:
    """What handlers read and change, built once by `Commands`.

    `menu` is the listed commands in menu order, for /help to list.
    """

    catalog: Catalog
    search: Search
    chats: Chats
    follows: Follows
    settings: ChatSettings
    menu: tuple[CommandSpec, ...] = ()
    newsroom: Newsroom = Newsroom()


Handler = Callable[[Services, Request], Awaitable[Reply]]
# A button's handler answers None when the button leads nowhere any more.
ButtonHandler = Callable[[Services, Caller, str], Awaitable[Reply | None]]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A command as every menu lists it and as the dispatcher runs it.

    `usage` replaces the arguments' usage in /help where they do not say it
    all ("TAG[, TAG...] | all"). `listed` is False for /start, which platforms
    send by themselves and nobody picks from a menu.
    """

    name: str
    description: str
    handler: Handler
    arguments: tuple[Argument, ...] = ()
    usage: str | None = None
    effect: Effect = Effect.READS
    listed: bool = True

    def __post_init__(self) -> None:
        # The text parser gives one argument all the words left: two could not share them.
        texts = [a.name for a in self.arguments if a.kind.is_text]
        if len(texts) > 1:
            raise ValueError(f"/{self.name} has more than one text argument: {texts}")
        for kind in (ArgKind.COUNT, ArgKind.PLACE):
            if sum(a.kind is kind for a in self.arguments) > 1:
                raise ValueError(f"/{self.name} has more than one {kind} argument")
        names = [a.name for a in self.arguments]
        if len(set(names)) != len(names):
            raise ValueError(f"/{self.name} names two arguments alike: {names}")

    @property
    def changes_chat(self) -> bool:
        return self.effect is not Effect.READS

    @property
    def usage_line(self) -> str:
        """The command as /help writes it: `/latest [N] [TAG]`."""
        usage = self.usage
        if usage is None:
            usage = " ".join(a.usage if a.required else f"[{a.usage}]" for a in self.arguments if a.usage)
        return f"/{self.name} {usage}" if usage else f"/{self.name}"

    def argument_of(self, kind: ArgKind) -> Argument | None:
        return next((a for a in self.arguments if a.kind is kind), None)

    @property
    def text_argument(self) -> Argument | None:
        return next((a for a in self.arguments if a.kind.is_text), None)
