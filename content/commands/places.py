"""Who may run a command where it acts, for every platform: the one rule set.

In the caller's own chat, a command that changes what the chat gets needs
`Caller.may_manage` (a private chat's user, or an admin). In another chat the
caller named, every command needs the caller to be its admin, even only to
list what it follows; one that starts pushes also needs the bot to be able to
post there. The facts come from the adapters (`content.chats.access`); the
words are said here, once.
"""

from __future__ import annotations

from dataclasses import replace

from content.chats.access import Lack, Missing, NoPlace, Place, Problem
from content.chats.ref import ChatKind
from content.commands.caller import Caller
from content.commands.spec import CommandSpec, Effect
from content.messages import Paragraph, Reply, Span
from content.replies.text import refusal

_NO_PLACE = {
    Problem.NOT_FOUND: "I can't find {named}. Check the name; for a private channel, add me as an admin first and use its numeric id.",
    Problem.PERSON: "{named} is a person, not a channel or group.",
    Problem.OTHER_SERVER: "Pick a text channel of this server.",
    Problem.WRONG_KIND: "{named} takes no pushes; pick a text, announcement or forum channel, or a thread.",
}
# What to do about each lack, as "I can't post in X: ..., then try again." says it.
_FIX = {
    Lack.ADMIN: "make me an admin of the channel with the right to post messages",
    Lack.POST_RIGHT: "give me the admin right to post messages",
    Lack.SEND_RIGHT: "allow me to send messages there",
}


async def refusal_for(spec: CommandSpec, caller: Caller, place: Place | NoPlace | None) -> Reply | None:
    """None when the caller may run `spec` in `place` (None: the caller's own chat); else why not."""
    if place is None:
        if spec.changes_chat and not await caller.may_manage():
            where = "channel" if caller.chat.kind is ChatKind.CHANNEL else "group"
            return refusal(f"Only admins of this {where} can change what it follows.")
        if spec.effect is Effect.STARTS_PUSHES and caller.bot_lacks is not None:
            missing = await caller.bot_lacks()
            if missing is not None:
                return refusal(_cannot_post_here(missing))
        return None
    if isinstance(place, NoPlace):
        return refusal(_NO_PLACE[place.problem].format(named=place.named))
    admin = await place.caller_is_admin()
    if admin is None:
        return refusal(f"I can't see who the admins of {place.shown} are. Add me to it as an admin, then try again.")
    if not admin:
        if place.admin_right:
            return refusal(f"You need the {place.admin_right} permission in {place.shown} to change what it follows.")
        return refusal(f"Only admins of {place.shown} can change what it follows, and you are not one.")
    if spec.effect is Effect.STARTS_PUSHES:
        missing = await place.bot_lacks()
        if missing is not None:
            return refusal(_cannot_post(place, missing))
    return None


def _cannot_post(place: Place, missing: Missing) -> str:
    if missing.lack is Lack.PERMISSION:
        return f"I can't post in {place.shown}: I need the {missing.permission} permission there."
    if missing.lack is Lack.MEMBERSHIP:
        fix = "add me to the group first" if place.chat.kind is ChatKind.GROUP else "add me to it first"
    else:
        fix = _FIX[missing.lack]
    return f"I can't post in {place.shown}: {fix}, then try again."


def _cannot_post_here(missing: Missing) -> str:
    if missing.lack is Lack.PERMISSION:
        return f"I can't post here: I need the {missing.permission} permission."
    return f"I can't post here: {_FIX.get(missing.lack, 'add me here first')}, then try again."


def named(place: Place, reply: Reply) -> Reply:
    """The answer about another chat, with that chat's name in front: its words say "this chat"."""
    if not reply.messages:
        return reply
    first = reply.messages[0]
    label = (Span(f"{place.shown}:", bold=True), Span(" "))
    if first.blocks and isinstance(first.blocks[0], Paragraph):
        blocks = (Paragraph((*label, *first.blocks[0].spans)), *first.blocks[1:])
    else:
        blocks = (Paragraph(label[:1]), *first.blocks)
    return Reply((replace(first, blocks=blocks), *reply.messages[1:]))
