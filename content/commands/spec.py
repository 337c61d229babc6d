"""What a command handler is given."""
from __future__ import annotations

from dataclasses import dataclass

from content.chats.follows import Follows
from content.chats.lifecycle import Chats
from content.stories.catalog import Catalog
from content.stories.search import Search

MAX_ARGUMENT = 200


@dataclass(frozen=True, slots=True)
class Services:
    """What handlers read and change, built once by `Commands`."""

    catalog: Catalog
    search: Search
    chats: Chats
    follows: Follows
