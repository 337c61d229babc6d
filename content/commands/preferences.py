"""A chat's controls: /digest, /quiet and /settings, whose buttons change
the common ones. What the settings mean is `content.chats.preferences`;
they are kept by `content.chats.settings`."""

from __future__ import annotations

from content.chats.preferences import (
    Digest,
    DigestEvery,
    PreferenceError,
    Preferences,
    Quiet,
    parse_clock,
    parse_digest,
    parse_quiet,
)
from content.chats.ref import ChatRef
from content.commands.caller import Caller
from content.commands.places import refusal_for
from content.commands.spec import Request, Services
from content.messages import Action, Button, Message, Reply, Span
from content.replies.text import answer, paragraph_lines, refusal, tag_names

# What the settings' buttons set: (label, argument), the argument as the press handler reads it.
_DIGEST_BUTTONS = (("Digest off", "digest:off"), ("Daily digest 08:00", "digest:daily:08:00"))
_QUIET_BUTTONS = (("Quiet off", "quiet:off"), ("Quiet 22:00-07:00", "quiet:22:00-07:00"))


async def digest(services: Services, request: Request) -> Reply:
    try:
        wanted, zone = parse_digest(request.arguments.text("schedule").split())
    except PreferenceError as error:
        return refusal(str(error))
    prefs = await services.settings.set_digest(request.chat, wanted, zone)
    if prefs.digest is None:
        return answer(
            _said("Digests are off: each new story arrives on its own. Anything gathered for the digest comes now.")
        )
    return answer(
        _said(
            f"Digest {prefs.digest.describe()} ({prefs.time_zone}): one message with every new story "
            "instead of a push per story."
        )
    )


async def quiet(services: Services, request: Request) -> Reply:
    try:
        wanted, zone = parse_quiet(request.arguments.text("window").split())
    except PreferenceError as error:
        return refusal(str(error))
    prefs = await services.settings.set_quiet(request.chat, wanted, zone)
    if prefs.quiet is None:
        return answer(_said("Quiet hours are off: pushes arrive with a notification at any hour."))
    return answer(_said(f"Quiet hours {prefs.quiet.describe()} ({prefs.time_zone}): pushes then arrive silently."))


async def settings(services: Services, request: Request) -> Reply:
    return answer(await _settings_message(services, request.chat))


async def change(services: Services, caller: Caller, argument: str) -> Reply | None:
    """A /settings button: the change it names, if the presser may make it,
    then the settings as they are now, in place of the pressed message."""
    from content.commands.registry import BY_NAME  # the registry imports this module

    what, _, value = argument.partition(":")
    if what not in ("digest", "quiet"):
        return None
    denied = await refusal_for(BY_NAME[what], caller, None)
    if denied is not None:
        return denied
    try:
        if what == "digest":
            schedule = None if value == "off" else _daily(value)
            await services.settings.set_digest(caller.chat, schedule)
        else:
            window = None if value == "off" else _window(value)
            await services.settings.set_quiet(caller.chat, window)
    except (PreferenceError, ValueError):
        return None
    message = await _settings_message(services, caller.chat)
    return answer(Message(message.blocks, message.buttons, replaces_pressed=True))


def _daily(value: str) -> Digest:
    every, _, at = value.partition(":")
    if every != DigestEvery.DAILY:
        raise PreferenceError(value)
    return Digest(DigestEvery.DAILY, parse_clock(at))


def _window(value: str) -> Quiet:
    start, _, end = value.partition("-")
    return Quiet(parse_clock(start), parse_clock(end))


async def _settings_message(services: Services, chat: ChatRef) -> Message:
    prefs = await services.settings.read(chat)
    tags = await services.catalog.followed(chat)
    terms = await services.catalog.followed_terms(chat)
    lines = [
        (Span("Settings", bold=True),),
        (Span("Digest: ", bold=True), Span(_digest_line(prefs))),
        (Span("Quiet hours: ", bold=True), Span(prefs.quiet.describe() if prefs.quiet else "off")),
        (Span("Time zone: ", bold=True), Span(prefs.time_zone)),
        (Span("Tags: ", bold=True), Span(tag_names(tags) if tags else "none")),
        (Span("Terms: ", bold=True), Span(", ".join(terms) if terms else "none")),
    ]
    buttons = (
        tuple(Button(label, Action.SETTING, arg) for label, arg in _DIGEST_BUTTONS),
        tuple(Button(label, Action.SETTING, arg) for label, arg in _QUIET_BUTTONS),
    )
    return Message(paragraph_lines(*lines), buttons)


def _digest_line(prefs: Preferences) -> str:
    return prefs.digest.describe() if prefs.digest else "off (a push per story)"


def _said(text: str) -> Message:
    return Message(paragraph_lines((Span(text),)))
