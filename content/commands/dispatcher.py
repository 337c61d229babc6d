"""What each command answers. Every adapter calls this; none decides it."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from content.chats.follows import Follows
from content.chats.lifecycle import Chats
from content.chats.ref import ChatKind
from content.commands.caller import Caller
from content.commands.flood import FloodGuard, Verdict
from content.keys import clean_input, hashtag, is_slug, key_of
from content.messages import Button, Message, Reply, Span
from content.replies.glossary import term_entry
from content.replies.help import help_message
from content.replies.stories import search_results, story_card, story_detail, story_list
from content.replies.tags import tag_list
from content.replies.text import notice, paragraph_lines, shorten, suggestion_spans
from content.stories.catalog import Catalog, KeyIndex
from content.stories.search import Search
from content.stories.views import TagView

MAX_ARGUMENT = 200
MAX_TAGS_AT_ONCE = 20
LATEST_DEFAULT, LATEST_MAX = 5, 10
_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]{1,64})?$")
_INTEGER = re.compile(r"[+-]?\d{1,9}")


@dataclass(frozen=True, slots=True)
class InlineResult:
    """One answer offered while a user types the bot's name in any chat."""

    id: str  # stable across queries, at most 64 bytes
    title: str
    description: str
    message: Message


def _quote(value: str) -> str:
    return "“" + shorten(value, 60) + "”"


def _one(message: Message) -> Reply:
    return Reply((message,))


def _refuse(*spans: Span | str) -> Reply:
    return _one(notice(*spans))


def _tag_names(tags: list[TagView] | tuple[TagView, ...]) -> str:
    return ", ".join(hashtag(t.name) for t in tags)


class Commands:
    def __init__(
        self,
        catalog: Catalog,
        search: Search,
        chats: Chats,
        follows: Follows,
        flood: FloodGuard | None = None,
        on_command: Callable[[str, str], None] | None = None,
    ) -> None:
        self._catalog = catalog
        self._search = search
        self._chats = chats
        self._follows = follows
        self._flood = flood
        self._on_command = on_command  # (platform, command): for metrics
        self._handlers = {
            "start": self.start,
            "help": self.help,
            "latest": self.latest,
            "story": self.story,
            "explain": self.explain,
            "search": self.search,
            "tags": self.tags,
            "subscribe": self.subscribe,
            "unsubscribe": self.unsubscribe,
            "subscriptions": self.subscriptions,
        }

    # ----- entry points ---------------------------------------------------
    async def handle_text(self, caller: Caller, raw: str) -> Reply:
        """A line as the user typed it: `/command@bot args`, or plain words to explain."""
        line = clean_input(raw)
        if not line:
            return Reply()
        held = await self._admit(caller)
        if held is not None:
            return held
        if not line.startswith("/"):
            return await self.run(caller, "explain", line)
        head, _, args = line.partition(" ")
        match = _COMMAND.fullmatch(head)
        if match is None:
            return _refuse("That isn't a command I know. Send ", Span("/help", code=True), " for the list.")
        return await self.run(caller, match.group(1).lower(), args)

    async def command(self, caller: Caller, name: str, args: str = "") -> Reply:
        """A command already parsed by the platform (a slash command with options)."""
        held = await self._admit(caller)
        return held if held is not None else await self.run(caller, name, args)

    async def _admit(self, caller: Caller) -> Reply | None:
        """None to go on; otherwise the answer (maybe empty) to a flooding user.

        Using the bot is also what brings back a chat that had blocked it.
        """
        if self._flood is not None and caller.metered:
            who = f"{caller.chat.platform}:{caller.user_id}"
            verdict = self._flood.check(who)
            if verdict is Verdict.DROP:
                return Reply()
            if verdict is Verdict.WARN:
                wait = self._flood.retry_in(who)
                return _refuse(f"Slow down: that's more than {self._flood.limit} commands in {self._flood.window:g} seconds. Try again in {wait} s.")
        await self._chats.reactivate(caller.chat)
        return None

    async def run(self, caller: Caller, name: str, args: str = "") -> Reply:
        handler = self._handlers.get(name.lower())
        if self._on_command is not None:
            self._on_command(caller.chat.platform, name.lower() if handler is not None else "unknown")
        if handler is None:
            return _refuse(f"There's no /{name[:32]} command. Send ", Span("/help", code=True), " for the list.")
        args = clean_input(args)
        if len(args) > MAX_ARGUMENT:
            return _refuse(f"That's too long for me: keep it under {MAX_ARGUMENT} characters.")
        return await handler(caller, args)

    async def press(self, caller: Caller, action: str, argument: str) -> Reply:
        """A button from an earlier answer; stale or forged ones get a polite answer."""
        held = await self._admit(caller)
        if held is not None:
            return held
        if action == "story" and is_slug(argument or ""):
            detail = await self._catalog.story(argument)
            if detail is not None:
                return _one(story_detail(detail))
        if action == "more":
            offset, _, tag_key = (argument or "").partition(":")
            if offset.isdigit() and int(offset) <= 1000 and (not tag_key or tag_key.isalnum()):
                tag = (await self._catalog.keys()).tags.get(tag_key) if tag_key else None
                if tag is not None or not tag_key:
                    page = await self._latest_page(LATEST_DEFAULT, int(offset), tag, None)
                    return Reply(tuple(replace(m, replaces_pressed=True) for m in page.messages))
        return _refuse("That button has expired. Send ", Span("/latest", code=True), " for fresh stories.")

    async def inline(self, query: str, limit: int = 10) -> list[InlineResult]:
        """Terms and stories for a query typed inline (not metered: it runs per keystroke)."""
        typed = clean_input(query)[:MAX_ARGUMENT]
        key = key_of(typed)
        results: list[InlineResult] = []
        if not key:
            stories = await self._catalog.latest(limit)
        else:
            index = await self._catalog.keys()
            term_ids: list[int] = []
            exact = index.terms.get(key) or self._closest_term(index, key)
            if exact is not None:
                term_ids.append(exact[0])
            for term_id, _name in self._similar_terms(index, key):
                if term_id not in term_ids:
                    term_ids.append(term_id)
            for term_id in term_ids[: max(1, limit // 2)]:
                term = await self._catalog.term(term_id)
                if term is not None:
                    results.append(InlineResult(f"t{term.id}", term.name, shorten(term.definition, 120), term_entry(term, buttons=False)))
            stories = await self._catalog.stories_by_id(await self._search.story_ids(typed, limit=limit - len(results)))
        for story in stories:
            results.append(
                InlineResult(f"s{story.id}", story.title, shorten(story.summary, 120), Message((story_card(story),), link_preview=True))
            )
        return results[:limit]

    async def complete(self, kind: str, typed: str, limit: int = 25) -> list[tuple[str, str]]:
        """(label, value) choices for a partly typed tag, term or story slug.

        Prefix matches come first, then typo-tolerant ones; labels fit the
        100 characters platforms allow.
        """
        typed = clean_input(typed)[:MAX_ARGUMENT]
        key = key_of(typed)
        index = await self._catalog.keys()
        if kind == "tag":
            ranked = sorted(index.tags.values(), key=lambda t: (-t.story_count, t.name))
            chosen = self._rank(key, {t.key: t for t in ranked}, limit)
            return [(shorten(f"{hashtag(t.name)} · {t.name} ({t.story_count})", 100), t.name) for t in chosen]
        if kind == "term":
            names = {k: name for k, (_id, name) in sorted(index.terms.items(), key=lambda kv: kv[1][1].casefold())}
            return [(shorten(n, 100), n[:100]) for n in self._rank(key, names, limit)]
        if kind == "story":
            if not typed:
                found = {s.slug: s.title for s in await self._catalog.latest(limit)}
            else:
                slug_prefix = "-".join(typed.lower().split())
                found = dict(await self._catalog.titles_by_slug_prefix(slug_prefix, limit)) if is_slug(slug_prefix) else {}
                if len(found) < limit:  # words of the title, stemmed, when the slug does not match
                    for story in await self._catalog.stories_by_id(await self._search.story_ids(typed, limit=limit)):
                        found.setdefault(story.slug, story.title)
            return [(shorten(title, 100), slug) for slug, title in list(found.items())[:limit]]
        return []

    @staticmethod
    def _rank(key: str, choices: dict, limit: int) -> list:  # noqa: ANN001
        if not key:
            return list(choices.values())[:limit]
        picked = [value for k, value in choices.items() if k.startswith(key)][:limit]
        if len(picked) < limit:
            for match, _score, _ in process.extract(key, list(choices), scorer=fuzz.WRatio, limit=limit, score_cutoff=60):
                if choices[match] not in picked:
                    picked.append(choices[match])
        return picked[:limit]

    # ----- commands -----------------------------------------------------
    async def start(self, caller: Caller, args: str) -> Reply:
        return _one(help_message(intro=True))

    async def help(self, caller: Caller, args: str) -> Reply:
        return _one(help_message(intro=False))

    async def latest(self, caller: Caller, args: str) -> Reply:
        tokens = args.split()
        count, note = LATEST_DEFAULT, None
        if tokens and _INTEGER.fullmatch(tokens[0]):
            count = int(tokens.pop(0))
        elif tokens and _INTEGER.fullmatch(tokens[-1]):
            count = int(tokens.pop())
        if not 1 <= count <= LATEST_MAX:
            count = min(max(count, 1), LATEST_MAX)
            note = f"Showing {count}: I send between 1 and {LATEST_MAX} at a time."
        tag = None
        if tokens:
            index = await self._catalog.keys()
            typed = " ".join(tokens)
            tag = index.tags.get(key_of(typed))
            if tag is None:
                return _refuse(*self._no_tag(index, typed), " ", Span("/tags", code=True), " lists them all.")
        return await self._latest_page(count, 0, tag, note)

    async def _latest_page(self, count: int, offset: int, tag: TagView | None, note: str | None) -> Reply:
        stories = await self._catalog.latest(count + 1, offset, tag.id if tag else None)
        more = None
        if len(stories) > count:
            stories = stories[:count]
            more = Button("More", "more", f"{offset + count}:{tag.key if tag else ''}")
        where = f" on {hashtag(tag.name)}" if tag else ""
        if not stories:
            text = f"No more stories{where}." if offset else f"No stories{where} yet."
            return _one(notice(text, private=False))
        title = f"Latest{where}" if not offset else f"More{where}"
        return _one(story_list(title, stories, more, note))

    async def story(self, caller: Caller, args: str) -> Reply:
        wanted = args.strip().rstrip("/").rsplit("/", 1)[-1].lower()  # a pasted link works too
        if not wanted:
            return _refuse("Which story? Give its slug, e.g. ", Span("/story SLUG", code=True), "; ", Span("/latest", code=True), " shows them.")
        detail = await self._catalog.story(wanted) if is_slug(wanted) else None
        if detail is not None:
            return _one(story_detail(detail))
        found = await self._catalog.stories_by_id(await self._search.story_ids(wanted.replace("-", " "), limit=3))
        if found:
            return _one(search_results(f"No story {_quote(wanted)}. Did you mean one of these?", found))
        return _refuse(f"No story {_quote(wanted)}. ", Span("/latest", code=True), " lists the newest with their slugs.")

    async def explain(self, caller: Caller, args: str) -> Reply:
        typed = args.strip()
        key = key_of(typed)
        if not key:
            return _refuse("Which term? For example ", Span("/explain distillation", code=True), ".")
        index = await self._catalog.keys()
        hit = index.terms.get(key)
        corrected = None
        if hit is None:
            hit = self._closest_term(index, key)
            corrected = typed if hit is not None else None
        if hit is not None:
            term = await self._catalog.term(hit[0])
            if term is not None:
                return _one(term_entry(term, corrected))
        found = await self._catalog.stories_by_id(await self._search.story_ids(typed, limit=5))
        if found:
            return _one(search_results(f"No glossary entry for {_quote(typed)} yet, but these stories mention it", found))
        suggestions = [name for _id, name in self._similar_terms(index, key)]
        return _refuse(f"No explainer for {_quote(typed)} yet.", *suggestion_spans(" Did you mean ", suggestions))

    async def search(self, caller: Caller, args: str) -> Reply:
        if not args.strip():
            return _refuse("What should I look for? For example ", Span("/search distillation", code=True), ".")
        found = await self._catalog.stories_by_id(await self._search.story_ids(args, limit=5))
        if not found:
            return _refuse(f"Nothing found for {_quote(args)}. Try other words, or ", Span("/tags", code=True), ".")
        return _one(search_results(f"Results for {_quote(args)}", found))

    async def tags(self, caller: Caller, args: str) -> Reply:
        followed = {t.id for t in await self._catalog.followed(caller.chat)}
        tags = [t for t in await self._catalog.tags() if t.story_count or t.id in followed]
        return _one(tag_list(tags, followed))

    async def subscriptions(self, caller: Caller, args: str) -> Reply:
        followed = await self._catalog.followed(caller.chat)
        if not followed:
            return _one(notice("This chat follows no tags yet. Try ", Span("/subscribe xAI", code=True), "; ", Span("/tags", code=True), " lists them all.", private=False))
        return _one(notice(f"This chat follows {_tag_names(followed)}.", private=False))

    async def subscribe(self, caller: Caller, args: str) -> Reply:
        refusal = await self._may_change(caller, args, "subscribe", "xAI")
        if refusal:
            return refusal
        found, unknown = await self._resolve_tags(args)
        if found is None:
            return _refuse(f"That's more than {MAX_TAGS_AT_ONCE} tags at once.")
        lines: list[tuple[Span, ...]] = []
        if found:
            change = await self._follows.follow(caller.chat, [t.id for t in found])
            by_id = {t.id: t for t in found}
            if change.changed:
                added = _tag_names([by_id[i] for i in change.changed])
                lines.append((Span(f"Subscribed to {added}. New stories tagged {added} will arrive here."),))
            if change.unchanged:
                lines.append((Span(f"Already following {_tag_names([by_id[i] for i in change.unchanged])}; nothing to do."),))
        lines.extend(unknown)
        return _one(Message(paragraph_lines(*lines), private=not found))

    async def unsubscribe(self, caller: Caller, args: str) -> Reply:
        refusal = await self._may_change(caller, args, "unsubscribe", "xAI")
        if refusal:
            return refusal
        if key_of(args) == "all":
            before = await self._catalog.followed(caller.chat)
            await self._follows.unfollow(caller.chat, None)
            if not before:
                return _one(notice("This chat didn't follow any tag.", private=False))
            return _one(notice(f"Unsubscribed from everything ({_tag_names(before)}).", private=False))
        found, unknown = await self._resolve_tags(args)
        if found is None:
            return _refuse(f"That's more than {MAX_TAGS_AT_ONCE} tags at once.")
        lines: list[tuple[Span, ...]] = []
        if found:
            change = await self._follows.unfollow(caller.chat, [t.id for t in found])
            by_id = {t.id: t for t in found}
            if change.changed:
                lines.append((Span(f"Unsubscribed from {_tag_names([by_id[i] for i in change.changed])}."),))
            if change.unchanged:
                lines.append((Span(f"This chat wasn't following {_tag_names([by_id[i] for i in change.unchanged])}."),))
        lines.extend(unknown)
        return _one(Message(paragraph_lines(*lines), private=not found))

    # ----- helpers ------------------------------------------------------
    async def _may_change(self, caller: Caller, args: str, verb: str, example: str) -> Reply | None:
        if not await caller.may_manage():
            where = "channel" if caller.chat.kind is ChatKind.CHANNEL else "group"
            return _refuse(f"Only admins of this {where} can change what it follows.")
        if not key_of(args):
            return _refuse("Which tag? For example ", Span(f"/{verb} {example}", code=True), "; ", Span("/tags", code=True), " lists them.")
        return None

    async def _resolve_tags(self, args: str) -> tuple[list[TagView] | None, list[tuple[Span, ...]]]:
        """Known tags and, for each unknown one, a line with suggestions.

        Commas separate tags; without them `Elon Musk` is one tag, and `xai
        openai` is two when the words are not one tag together.
        """
        parts = [p.strip() for p in args.split(",") if key_of(p)]
        if len(parts) > MAX_TAGS_AT_ONCE:
            return None, []
        index = await self._catalog.keys()
        found: dict[int, TagView] = {}
        unknown: list[tuple[Span, ...]] = []
        for part in parts:
            whole = index.tags.get(key_of(part))
            if whole is not None:
                found.setdefault(whole.id, whole)
                continue
            words = [w for w in part.split() if key_of(w)]
            each = [index.tags.get(key_of(w)) for w in words]
            if len(words) > 1 and all(each):
                for tag in each:
                    found.setdefault(tag.id, tag)  # type: ignore[union-attr]
                continue
            unknown.append((*self._no_tag(index, part), Span(" /tags lists them all.")))
        return list(found.values()), unknown

    @staticmethod
    def _no_tag(index: KeyIndex, typed: str) -> tuple[Span, ...]:
        key = key_of(typed)
        names = []
        if key:
            for match, _score, _ in process.extract(key, list(index.tags), scorer=fuzz.WRatio, limit=3, score_cutoff=70):
                names.append(hashtag(index.tags[match].name))
        return (Span(f"There's no tag {_quote(typed)}."), *suggestion_spans(" Did you mean ", names))

    @staticmethod
    def _closest_term(index: KeyIndex, key: str) -> tuple[int, str] | None:
        # Typos get more room in longer words; short ones must be exact.
        allowed = 0 if len(key) < 4 else 1 if len(key) <= 6 else 2
        if not allowed:
            return None
        match = process.extractOne(key, index.terms.keys(), scorer=Levenshtein.distance, score_cutoff=allowed)
        return index.terms[match[0]] if match else None

    @staticmethod
    def _similar_terms(index: KeyIndex, key: str) -> list[tuple[int, str]]:
        # Keys hold no spaces, so a substring test ("typed part of it") plus a
        # plain ratio (near misses) does what WRatio would at a tenth of the cost.
        inside = sorted((k for k in index.terms if key in k), key=len)[:8]
        close = [m for m, _score, _ in process.extract(key, index.terms.keys(), scorer=fuzz.ratio, limit=8, score_cutoff=65)]
        names: dict[int, str] = {}
        for match in inside + close:
            term_id, name = index.terms[match]
            names.setdefault(term_id, name)
            if len(names) == 3:
                break
        return list(names.items())
