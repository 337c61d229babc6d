"""The REST API routes FakeDiscord answers, one mixin per group: the plumbing (route
table, authentication, rate limits, recording each call), users, application and
gateway, application commands, channels and guilds, channel messages, and
interaction callbacks with their webhooks (followups and @original). A new route goes
into the mixin of its group and into the plumbing's route table."""

from .commands import CommandRoutesMixin
from .guilds import GuildRoutesMixin
from .interactions import InteractionRoutesMixin
from .messages import MessageRoutesMixin
from .plumbing import RestPlumbingMixin
from .users import UserRoutesMixin

__all__ = [
    "CommandRoutesMixin",
    "GuildRoutesMixin",
    "InteractionRoutesMixin",
    "MessageRoutesMixin",
    "RestPlumbingMixin",
    "UserRoutesMixin",
]
