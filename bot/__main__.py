"""`explainer-bot` / `python -m bot`: run, console, import, publish, retract, migrate, feeds, users."""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import sys
from pathlib import Path

from bot.composition import Core, build_core
from bot.roles import ALL_ROLES, Role
from bot.settings import SettingsError, load_settings, retired_settings
from content.errors import ConfigurationError, StoryFileError
from content.stories.drafts import RETRACTION_REASON_MAX, retraction_reason
from content.stories.writer import SaveOutcome


def _reason(text: str) -> str | None:
    # Checked before anything starts, by the core's rule: arguments that are
    # not UTF-8 reach Python as lone surrogates, which it refuses.
    try:
        return retraction_reason(text, "--reason")
    except StoryFileError as error:
        raise argparse.ArgumentTypeError(error.problem) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="explainer-bot", description="The newsroom's explainer bot.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    runner = commands.add_parser(
        "run", help="start everything configured: HTTP API, Telegram, Discord, delivery (default)"
    )
    runner.add_argument(
        "--role",
        action="append",
        choices=[role.value for role in Role],
        help="run only this part (repeatable); several processes can share one PostgreSQL database",
    )
    commands.add_parser("console", help="chat with the bot in this terminal (or pipe commands in, one a line)")
    importer = commands.add_parser("import", help="load story files or folders of them")
    importer.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    publisher = commands.add_parser(
        "publish", help="publish story files: save them and push new ones to their tags' followers"
    )
    publisher.add_argument("paths", nargs="+", type=Path, metavar="FILE")
    retracter = commands.add_parser(
        "retract", help="withdraw a story: cancel its pushes not yet sent and take down those already out"
    )
    retracter.add_argument("slug", metavar="SLUG")
    retracter.add_argument(
        "--reason", type=_reason, help=f"why, told to readers (at most {RETRACTION_REASON_MAX} characters)"
    )
    commands.add_parser("migrate", help="bring the database schema up to date")
    feeds = commands.add_parser("feeds", help="the newsroom's RSS and Atom feeds, whose items become stories")
    verbs = feeds.add_subparsers(dest="verb", metavar="VERB", required=True)
    adding = verbs.add_parser("add", help="add a feed: its items now are imported without pushes, new ones pushed")
    adding.add_argument("url", metavar="URL")
    adding.add_argument("--tag", action="append", default=[], help="a tag for every item (repeatable)")
    adding.add_argument("--category", help="the stories' category (default: the item's first, else News)")
    verbs.add_parser("list", help="the feeds with their last fetch, error, items and next poll")
    removing = verbs.add_parser("remove", help="stop polling a feed (its stories stay)")
    removing.add_argument("id", type=int, metavar="ID")
    polling = verbs.add_parser("poll", help="poll now every feed due, or this one (which resumes a paused one)")
    polling.add_argument("id", type=int, nargs="?", metavar="ID")
    users = commands.add_parser("users", help="the editors' accounts of the newsroom page (/newsroom)")
    people = users.add_subparsers(dest="verb", metavar="VERB", required=True)
    add_user = people.add_parser("add", help="add an account; asks for the password (or reads one line from stdin)")
    add_user.add_argument("email", metavar="EMAIL")
    add_user.add_argument("--role", choices=["editor", "viewer"], default="editor", help="viewers only read")
    people.add_parser("list", help="the accounts, with their roles")
    remove_user = people.add_parser("remove", help="remove an account and sign it out everywhere")
    remove_user.add_argument("email", metavar="EMAIL")
    return parser


def _password() -> str | None:
    """The new account's password: asked twice at a terminal, else one line of stdin."""
    import getpass

    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        print("explainer-bot: the passwords differ; nothing was written", file=sys.stderr)
        return None
    return first


async def _users(core: Core, args: argparse.Namespace) -> int:
    from content.newsroom.accounts import AccountError, Accounts, EditorRole

    await core.prepare(seed=False)
    accounts = Accounts(core.sessions)
    if args.verb == "add":
        password = _password()
        if password is None:
            return 2
        try:
            account = await accounts.add(args.email, password, EditorRole(args.role))
        except AccountError as error:
            print(f"explainer-bot: {error}; nothing was written", file=sys.stderr)
            return 2
        print(f"added {account.email} ({account.role.value})")
        return 0
    if args.verb == "list":
        found = await accounts.all()
        for account in found:
            print(f"{account.email}\t{account.role.value}\tsince {account.created_at:%Y-%m-%d}")
        if not found:
            print("no accounts: add one with `explainer-bot users add EMAIL`")
        return 0
    if not await accounts.remove(args.email):
        print(f"explainer-bot: no account for {args.email}", file=sys.stderr)
        return 1
    print(f"removed {args.email.strip().lower()}")
    return 0


async def _feeds(core: Core, args: argparse.Namespace) -> int:
    from adapters.feeds.fetch import FeedFetchError
    from adapters.feeds.poller import FeedExists
    from bot.composition import build_feed_poller
    from content.stories.ingest import FeedError

    await core.prepare(seed=False)
    poller = build_feed_poller(core)
    try:
        if args.verb == "add":
            try:
                feed, ingested = await poller.add(args.url, args.tag, args.category)
            except (FeedFetchError, FeedError, FeedExists) as error:
                problem = error.problem if isinstance(error, FeedFetchError) else str(error)
                if isinstance(error, FeedExists):
                    problem = "a feed with this URL exists"
                print(f"explainer-bot: {args.url}: {problem}", file=sys.stderr)
                return 1
            print(f"feed {feed.id} added: {feed.url}; {ingested.created} items imported without pushes")
            if feed.last_error:
                print(f"  noted: {feed.last_error}")
            return 0
        if args.verb == "list":
            for feed in await core.feeds.all():
                state = "paused" if feed.paused else f"next poll {feed.next_poll_at:%Y-%m-%d %H:%M} UTC"
                last = f"{feed.last_fetch_at:%Y-%m-%d %H:%M} UTC" if feed.last_fetch_at else "never"
                print(f"{feed.id:4} {feed.url}  items {feed.item_count}, last fetch {last}, {state}")
                if feed.last_error:
                    print(f"     error: {feed.last_error}")
            return 0
        if args.verb == "remove":
            if not await core.feeds.remove(args.id):
                print(f"explainer-bot: no feed {args.id}", file=sys.stderr)
                return 1
            print(f"feed {args.id} removed; its stories stay")
            return 0
        if args.id is not None and not await core.feeds.due_now(args.id):
            print(f"explainer-bot: no feed {args.id}", file=sys.stderr)
            return 1
        results = await poller.poll_once(args.id)
        for result in results:
            if result.problem:
                print(f"feed {result.feed_id}: {result.problem}")
            else:
                done = result.ingested
                what = f"{done.created} new, {done.updated} updated" if result.changed else "unchanged"
                print(f"feed {result.feed_id}: {what}, {done.pushes_queued} pushes queued")
        if not results:
            print("no feed is due")
        return 1 if any(r.problem for r in results) else 0
    finally:
        await poller.fetcher.close()


async def _import(core: Core, paths: list[Path], publish: bool = False) -> int:
    """Story files into the database: imported (`import`), or published with
    their pushes queued (`publish`); the same checks for both."""
    await core.prepare(seed=False)
    missing = [p for p in paths if not p.exists()]
    for path in missing:
        print(f"explainer-bot: {path}: no such file or folder", file=sys.stderr)
    save = functools.partial(core.publisher.publish, by="command line") if publish else None
    report = await core.importer.import_paths([p for p in paths if p.exists()], save=save)
    for saved in report.saved:
        queued = f": {saved.deliveries_queued} deliveries queued" if publish else ""
        if publish and saved.outcome is SaveOutcome.UPDATED:
            queued += f", {saved.corrections_queued} pushes to correct"
        print(f"{saved.outcome:9} {saved.slug}{queued}")
    for error in report.errors:
        print(f"refused   {error}", file=sys.stderr)
    if not publish:
        print(report.summary())
    return 1 if report.errors or missing else 0


async def _retract(core: Core, slug: str, reason: str | None) -> int:
    await core.prepare(seed=False)
    retracted = await core.publisher.retract(slug, reason, by="command line")
    if retracted is None:
        print(f"explainer-bot: no story with slug {slug!r}", file=sys.stderr)
        return 1
    counts = f"{retracted.retractions_queued} pushes to take down, {retracted.cancelled} not yet sent cancelled"
    print(f"{slug} was already withdrawn: {counts}" if retracted.already else f"retracted {slug}: {counts}")
    return 0


async def _main(command: str, args: argparse.Namespace) -> int:
    from bot.runtime import console_with_pushes, serve

    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # httpx logs every request's URL, and Telegram's URLs hold the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for name, why in retired_settings().items():
        logging.getLogger("explainer_bot").warning("%s is ignored: %s", name, why)
    core = build_core(settings)
    try:
        if command == "migrate":
            await core.prepare(seed=False)
            print("database schema is up to date")
            return 0
        if command == "import":
            return await _import(core, args.paths)
        if command == "publish":
            return await _import(core, args.paths, publish=True)
        if command == "retract":
            return await _retract(core, args.slug, args.reason)
        if command == "feeds":
            return await _feeds(core, args)
        if command == "users":
            return await _users(core, args)
        if command == "console":
            await console_with_pushes(core)
            return 0
        roles = tuple(Role(role) for role in getattr(args, "role", None) or ALL_ROLES)
        await serve(core, roles=roles)
        return 0
    finally:
        await core.close()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(_main(args.command or "run", args))
    except (SettingsError, ConfigurationError) as error:
        print(f"explainer-bot: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
