"""A command's words as typed, parsed once into the `Arguments` typed options give.

The first word names another chat (PLACE) when the command takes one and the
caller's adapter says the word could name one (`/subscribe @newsroomchan
xAI`); a leading or trailing whole number is the COUNT (`/latest 3 xai`,
`/latest xai 3`); a SWITCH is its name as a word, alone (`/subscriptions
all`) or with a value (`crosspost:false`); the words left are the one text
argument. Range checks are
the handlers': they clamp with a note rather than refuse.
"""

from __future__ import annotations

import re

from content.chats.access import PlaceFinder
from content.commands.spec import ArgKind, Arguments, CommandSpec

MAX_ARGUMENT = 200  # characters, after clean_input
# At most nine digits: a longer number is no count anyone means, and stays text.
_INTEGER = re.compile(r"[+-]?\d{1,9}")
_SWITCH_VALUES = {"": True, "true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


def _switch(word: str, name: str) -> bool | None:
    said, _, value = word.lower().partition(":")
    return _SWITCH_VALUES.get(value) if said == name else None


async def parse(spec: CommandSpec, text: str, places: PlaceFinder | None = None) -> Arguments:
    words = text.split()
    values: dict[str, object] = {}
    place = spec.argument_of(ArgKind.PLACE)
    if place is not None and places is not None and words and places.could_name(words[0]):
        values[place.name] = await places.find(words.pop(0))
    count = spec.argument_of(ArgKind.COUNT)
    if count is not None and words:
        if _INTEGER.fullmatch(words[0]):
            values[count.name] = int(words.pop(0))
        elif _INTEGER.fullmatch(words[-1]):
            values[count.name] = int(words.pop())
    for switch in (a for a in spec.arguments if a.kind is ArgKind.SWITCH):
        for i, word in enumerate(words):
            on = _switch(word, switch.name)
            if on is not None:
                values[switch.name] = on
                del words[i]
                break
    rest = spec.text_argument
    if rest is not None and words:
        values[rest.name] = " ".join(words)
    return Arguments(values)
