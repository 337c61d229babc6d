"""The REST API routes FakeDiscord answers, one mixin per group: the plumbing (route
table, authentication, rate limits, recording each call), users, application and
gateway, application commands, channels and guilds, channel messages, threads and
forum posts, publishing in announcement channels, and interaction callbacks with
their webhooks (followups and @original). A new route goes into the mixin of its
group and into the plumbing's route table."""

from .announcements import AnnouncementRoutesMixin
from .commands import CommandRoutesMixin
from .guilds import GuildRoutesMixin
from .interactions import InteractionRoutesMixin
from .messages import MessageRoutesMixin
from .plumbing import RestPlumbingMixin
from .threads import ThreadRoutesMixin
from .users import UserRoutesMixin

__all__ = [
    "AnnouncementRoutesMixin",
    "CommandRoutesMixin",
    "GuildRoutesMixin",
    "InteractionRoutesMixin",
    "MessageRoutesMixin",
    "RestPlumbingMixin",
    "ThreadRoutesMixin",
    "UserRoutesMixin",
]
