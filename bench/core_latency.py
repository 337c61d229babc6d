#!/usr/bin/env python
"""How fast the core answers read commands on a newsroom-sized catalog.

    python bench/core_latency.py [--database sqlite|postgres|both] [--stories 100000]
        [--tags 500] [--terms 5000] [--repeat 200] [--postgres-url URL] [--seed N] [--vacuum]

For each database this builds a throw-away database, migrates it the way the
app does, fills it with generated stories, tags and glossary terms through
SQLAlchemy Core bulk inserts, then times `Commands.handle_text` for the
commands people actually send. It prints p50/p99 per operation and writes
`bench/results-<database>.json`. The budget is a p99 under 10 ms.

Nothing outside the scratch database is touched: SQLite lives in a temporary
folder, and the PostgreSQL database is dropped at the end, even on error.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import math
import platform
import random
import string
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path

# Run as a plain script from anywhere: the project is not installed as a package.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from scratch import DEFAULT_POSTGRES_URL, scratch_for, server_version, settle
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from content import db
from content.chats.follows import Follows
from content.chats.lifecycle import Chats
from content.chats.ref import ChatRef
from content.chats.settings import ChatSettings
from content.commands.caller import Caller
from content.commands.dispatcher import Commands
from content.keys import key_of, slugify
from content.models import Story, StoryTag, StoryTerm, Tag, Term, TermAlias
from content.publishing.digests import rescheduled_in
from content.stories.catalog import Catalog
from content.stories.search import Search

RESULTS_DIR = Path(__file__).resolve().parent
TARGET_P99_MS = 10.0
WARMUP_CALLS = 5
BATCH_ROWS = 4000
SITE_URL = "https://explainers.example.com"
CATEGORIES = ("AI", "Chips", "Policy", "Business", "Science")
CALLER = Caller(chat=ChatRef("bench", "1", "private"), user_id="1")

# Real words mixed into the generated text, so that searches for newsroom
# vocabulary ("/search distillation") hit something, as they would live.
REAL_WORDS = (
    "model",
    "models",
    "distillation",
    "chips",
    "training",
    "inference",
    "nvidia",
    "gpu",
    "data",
    "open",
    "weights",
    "benchmark",
    "agent",
    "safety",
    "regulation",
    "tokens",
    "compute",
    "energy",
    "lawsuit",
    "startup",
    "cloud",
    "robot",
    "privacy",
    "deepfake",
    "chatbot",
    "memory",
    "language",
    "research",
    "policy",
    "testimony",
    "quantization",
)
REAL_TAGS = (
    "xAI",
    "OpenAI",
    "Anthropic",
    "Google",
    "Nvidia",
    "Meta",
    "Microsoft",
    "Elon Musk",
    "Chips",
    "Policy",
    "EU AI Act",
    "Open Source",
    "Safety",
    "Data Centres",
    "Robotics",
)

# Pseudo-words are built only from these letters, so a word with any of the
# other consonants (q, x, z, j, w, y, h, c) is no story word; misses are still
# checked against the catalog before use.
CONSONANTS = "bdfgklmnprstv"
VOWELS = "aeiou"
MISS_LETTERS = "qxzjwyhc"


# ----- generated vocabulary and text -----------------------------------------


class Vocabulary:
    """Pseudo-words plus real words, drawn with a Zipf-like frequency.

    Real prose is Zipfian: a few words appear in nearly every story and most
    in few. A uniform draw would make every search term equally common and
    hide the cost of ranking many matches.
    """

    def __init__(self, rng: random.Random, size: int = 3000) -> None:
        pseudo: set[str] = set()
        while len(pseudo) < size:
            syllables = rng.randint(2, 4)
            pseudo.add("".join(rng.choice(CONSONANTS) + rng.choice(VOWELS) for _ in range(syllables)))
        words = sorted(pseudo)
        rng.shuffle(words)
        # Real words rank among the common tenth, as topic words do in a newsroom.
        for word in REAL_WORDS:
            words.insert(rng.randrange(len(words) // 10), word)
        self.words = words
        self._cumulative = list(accumulate(1.0 / (rank + 1) for rank in range(len(words))))
        self._rng = rng

    def draw(self, count: int) -> list[str]:
        return self._rng.choices(self.words, cum_weights=self._cumulative, k=count)

    def sentence(self, count: int) -> str:
        first, *rest = self.draw(count)
        return " ".join([first.capitalize(), *rest]) + "."

    def prose(self, count: int) -> str:
        """About `count` words as sentences of 8 to 16 words."""
        sentences, left = [], count
        while left > 0:
            length = min(left, self._rng.randint(8, 16))
            sentences.append(self.sentence(length))
            left -= length
        return " ".join(sentences)


def zipf_picker(rng: random.Random, items: list, exponent: float = 1.0):
    """A function drawing one of `items`, the first ones most often."""
    cumulative = list(accumulate(1.0 / (rank + 1) ** exponent for rank in range(len(items))))
    top = cumulative[-1]
    return lambda: items[bisect.bisect_right(cumulative, rng.random() * top)]


def unique_names(make, count: int, taken: set[str]) -> list[tuple[str, str]]:
    """`count` (name, key) pairs whose keys are new to `taken` (which grows)."""
    found: list[tuple[str, str]] = []
    while len(found) < count:
        name = make()
        key = key_of(name)
        # An all-digit name would read as a count in "/latest 5"; tags.name holds 64 characters.
        if key and not key.isdigit() and len(name) <= 64 and key not in taken:
            taken.add(key)
            found.append((name, key))
    return found


# ----- the generated catalog -------------------------------------------------


@dataclass
class GeneratedCatalog:
    """What was generated, kept to pick benchmark inputs from."""

    tag_names: list[str]
    term_names: list[str]
    alias_names: list[str]
    vocabulary: list[str]
    rows: Counter = field(default_factory=Counter)


async def insert_batches(connection: AsyncConnection, table, rows: Iterable[dict]) -> int:
    """Executemany in slices: one round trip per slice, bounded memory."""
    statement = insert(table)
    batch: list[dict] = []
    count = 0
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH_ROWS:
            await connection.execute(statement, batch)
            count += len(batch)
            batch = []
    if batch:
        await connection.execute(statement, batch)
        count += len(batch)
    return count


def story_rows(rng: random.Random, vocab: Vocabulary, count: int, dates: list[datetime]) -> Iterator[dict]:
    """Stories with explicit ids 1..count, so links need no read-back."""
    now = datetime.now(UTC).replace(microsecond=0)
    span = int(timedelta(days=3 * 365).total_seconds())
    for story_id in range(1, count + 1):
        published = now - timedelta(seconds=rng.randrange(span))
        dates.append(published)
        title = " ".join(vocab.draw(rng.randint(5, 10))).capitalize()
        sections = [
            f"## {' '.join(vocab.draw(rng.randint(2, 4))).capitalize()}\n\n{vocab.prose(rng.randint(55, 75))}"
            for _ in range(3)
        ]
        yield {
            "id": story_id,
            # The id suffix makes slugs unique whatever the titles are.
            "slug": f"{slugify(title)[:48].rstrip('-')}-{story_id}",
            "title": title,
            "summary": vocab.prose(rng.randint(60, 90)),
            "category": rng.choice(CATEGORIES),
            "published_at": published,
            "url": None,
            "body": vocab.prose(rng.randint(20, 30)) + "\n\n" + "\n\n".join(sections),
            "content_hash": uuid.UUID(int=rng.getrandbits(128)).hex * 2,
            "created_at": published,
            "updated_at": published,
        }


def make_tag_names(rng: random.Random, vocab: Vocabulary, count: int) -> list[str]:
    """The newsroom's real tags first (they get the most stories), then invented ones."""

    def invent() -> str:
        return " ".join(w.capitalize() for w in rng.sample(vocab.words, rng.choice((1, 1, 2))))

    real = list(REAL_TAGS[:count])
    taken = {key_of(name) for name in real}
    return real + [name for name, _ in unique_names(invent, count - len(real), taken)]


def make_terms(rng: random.Random, vocab: Vocabulary, count: int) -> tuple[list[str], list[list[str]]]:
    """Term names (about a third multi-word) and 0-2 aliases each, one on average.

    Alias keys are unique and never a term key: the writer guarantees the same.
    """

    def invent_term() -> str:
        return " ".join(rng.sample(vocab.words, rng.choice((1, 1, 2, 2, 3))))

    def invent_alias() -> str:
        words = rng.sample(vocab.words, rng.choice((1, 2)))
        # Some aliases are acronyms with a word, as "RLHF training" would be.
        prefix = "".join(rng.choice(string.ascii_uppercase) for _ in range(rng.randint(2, 4)))
        return f"{prefix} {words[0]}" if rng.random() < 0.3 else " ".join(words)

    taken: set[str] = set()
    terms = [name for name, _ in unique_names(invent_term, count, taken)]
    alias_counts = [rng.choice((0, 1, 1, 1, 2)) for _ in terms]
    aliases = iter(name for name, _ in unique_names(invent_alias, sum(alias_counts), taken))
    return terms, [[next(aliases) for _ in range(n)] for n in alias_counts]


async def fill(engine: AsyncEngine, args: argparse.Namespace) -> GeneratedCatalog:
    rng = random.Random(args.seed)
    vocab = Vocabulary(rng)
    tag_names = make_tag_names(rng, vocab, args.tags)
    term_names, term_aliases = make_terms(rng, vocab, args.terms)
    dates: list[datetime] = []
    rows: Counter = Counter()

    # One transaction: a half-filled catalog is worthless, and committing once is faster.
    async with engine.begin() as connection:
        rows["stories"] = await insert_batches(connection, Story.__table__, story_rows(rng, vocab, args.stories, dates))

        # Popular tags carry most stories, as #AI would; this also exercises
        # /latest TAG on tags with tens of thousands of stories.
        pick_tag = zipf_picker(rng, list(range(1, len(tag_names) + 1)), exponent=0.9)
        links: list[tuple[int, int]] = []
        for story_id in range(1, args.stories + 1):
            chosen: set[int] = set()
            wanted = rng.randint(1, min(3, len(tag_names)))
            while len(chosen) < wanted:
                chosen.add(pick_tag())
            links.extend((story_id, tag_id) for tag_id in chosen)
        counts = Counter(tag_id for _, tag_id in links)
        rows["tags"] = await insert_batches(
            connection,
            Tag.__table__,
            (
                {"id": i, "key": key_of(name), "name": name, "story_count": counts[i]}
                for i, name in enumerate(tag_names, 1)
            ),
        )
        rows["story_tags"] = await insert_batches(
            connection,
            StoryTag.__table__,
            ({"story_id": s, "tag_id": t, "published_at": dates[s - 1]} for s, t in links),
        )

        rows["terms"] = await insert_batches(
            connection,
            Term.__table__,
            (
                {"id": i, "key": key_of(name), "name": name, "definition": vocab.sentence(rng.randint(15, 35))}
                for i, name in enumerate(term_names, 1)
            ),
        )
        rows["term_aliases"] = await insert_batches(
            connection,
            TermAlias.__table__,
            (
                {"term_id": term_id, "key": key_of(alias), "name": alias}
                for term_id, aliases in enumerate(term_aliases, 1)
                for alias in aliases
            ),
        )
        rows["story_terms"] = await insert_batches(
            connection,
            StoryTerm.__table__,
            (
                {"story_id": story_id, "term_id": term_id}
                for term_id in range(1, len(term_names) + 1)
                for story_id in rng.sample(range(1, args.stories + 1), rng.randint(1, min(5, args.stories)))
            ),
        )
        # Readers reload their key index only when this moves.
        await connection.execute(text("UPDATE catalog_state SET version = version + 1"))
        if connection.dialect.name == "postgresql":
            await advance_sequences(connection)

    await settle(engine, vacuum=args.vacuum)

    return GeneratedCatalog(
        tag_names=tag_names,
        term_names=term_names,
        alias_names=[a for aliases in term_aliases for a in aliases],
        vocabulary=vocab.words,
        rows=rows,
    )


async def advance_sequences(connection: AsyncConnection) -> None:
    """Explicit ids leave the serial sequences at 1; a later app insert would collide."""
    for table in ("stories", "tags", "terms", "term_aliases"):
        await connection.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        )


# ----- measuring -------------------------------------------------------------


def typo_of(rng: random.Random, name: str) -> str:
    """The name with one letter replaced or dropped."""
    positions = [i for i, ch in enumerate(name) if ch.isalpha()]
    i = rng.choice(positions)
    if rng.random() < 0.5:
        return name[:i] + name[i + 1 :]
    return name[:i] + rng.choice([c for c in string.ascii_lowercase if c != name[i].lower()]) + name[i + 1 :]


async def benchmark_inputs(
    rng: random.Random, generated: GeneratedCatalog, search: Search, count: int
) -> dict[str, list[str]]:
    """`count` command lines per operation, each checked to take the path it is named after."""
    all_keys = {key_of(n) for n in generated.term_names + generated.alias_names}
    long_names = [n for n in generated.term_names if len(key_of(n)) >= 8]
    if not long_names or not generated.alias_names:
        raise SystemExit("the catalog is too small to have long term names and aliases; raise --terms")

    typos: list[str] = []
    while len(typos) < count:
        typo = typo_of(rng, rng.choice(long_names))
        if key_of(typo) not in all_keys:  # else it would be an exact hit on another term
            typos.append(typo)

    misses: list[str] = []
    while len(misses) < count:
        word = "".join(rng.choice(MISS_LETTERS + VOWELS) for _ in range(rng.randint(7, 12)))
        near = process.extractOne(word, all_keys, scorer=Levenshtein.distance, score_cutoff=2)
        if near is None and not await search.story_ids(word):
            misses.append(word)

    def pick(items: list[str]) -> list[str]:
        return [rng.choice(items) for _ in range(count)]

    return {
        "latest": ["/latest"] * count,
        "latest_tag": [f"/latest {t}" for t in pick(generated.tag_names)],
        "explain_exact": [f"/explain {t}" for t in pick(generated.term_names)],
        "explain_alias": [f"/explain {a}" for a in pick(generated.alias_names)],
        "explain_typo": [f"/explain {t}" for t in typos],
        "explain_miss": [f"/explain {m}" for m in misses],
        "search": ["/search " + " ".join(rng.sample(generated.vocabulary, rng.randint(1, 2))) for _ in range(count)],
    }


def percentile(sorted_values: list[float], share: float) -> float:
    """Nearest rank: with 200 samples, p99 is the second-worst call."""
    return sorted_values[max(0, math.ceil(share * len(sorted_values)) - 1)]


async def measure(commands: Commands, lines: list[str], warmup: int) -> dict:
    # Warm-up fills the key index, the connection pool and the statement caches,
    # which a running bot has long done.
    for line in lines[:warmup]:
        await commands.handle_text(CALLER, line)
    timings: list[float] = []
    for line in lines[warmup:]:
        started = time.perf_counter_ns()
        reply = await commands.handle_text(CALLER, line)
        timings.append((time.perf_counter_ns() - started) / 1e6)
        if not reply.messages:
            raise RuntimeError(f"empty reply to {line!r}")
    timings.sort()
    return {
        "calls": len(timings),
        "p50_ms": round(percentile(timings, 0.50), 3),
        "p99_ms": round(percentile(timings, 0.99), 3),
        "mean_ms": round(sum(timings) / len(timings), 3),
        "max_ms": round(timings[-1], 3),
    }


# ----- one database, end to end ----------------------------------------------


async def run_on(database: str, args: argparse.Namespace) -> dict:
    scratch = scratch_for(database, args.postgres_url, args.keep)
    async with scratch as url:
        engine = db.create_engine(url)
        try:
            started = time.perf_counter()
            await db.migrate(engine)
            migrated = time.perf_counter()
            generated = await fill(engine, args)
            loaded = time.perf_counter()
            print(
                f"[{database}] migrated in {migrated - started:.1f} s, loaded in {loaded - migrated:.1f} s: "
                + ", ".join(f"{n:,} {table}" for table, n in generated.rows.items()),
                flush=True,
            )

            sessions = db.session_factory(engine)
            search = Search(sessions)
            commands = Commands(
                Catalog(sessions, SITE_URL),
                search,
                Chats(sessions),
                Follows(sessions),
                ChatSettings(sessions, rescheduled_in),
            )
            inputs = await benchmark_inputs(random.Random(args.seed + 1), generated, search, WARMUP_CALLS + args.repeat)
            operations = {}
            for name, lines in inputs.items():
                stats = operations[name] = await measure(commands, lines, WARMUP_CALLS)
                print(
                    f"[{database}] {name:<14} p50 {stats['p50_ms']:7.2f} ms  p99 {stats['p99_ms']:7.2f} ms", flush=True
                )
            version = await server_version(engine)
        finally:
            await engine.dispose()

    return {
        "database": database,
        "server_version": version,
        "python": platform.python_version(),
        "sizes": {"stories": args.stories, "tags": args.tags, "terms": args.terms},
        "repeat": args.repeat,
        "seed": args.seed,
        "vacuum": args.vacuum if database == "postgres" else None,
        "rows": dict(generated.rows),
        "migrate_seconds": round(migrated - started, 2),
        "load_seconds": round(loaded - migrated, 2),
        "target_p99_ms": TARGET_P99_MS,
        "operations": operations,
    }


def print_table(results: list[dict]) -> None:
    print()
    print(f"{'operation':<15}{'database':<10}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}  p99 < {TARGET_P99_MS:g} ms")
    for result in results:
        for name, stats in result["operations"].items():
            verdict = "ok" if stats["p99_ms"] < TARGET_P99_MS else "OVER"
            print(
                f"{name:<15}{result['database']:<10}{stats['p50_ms']:>9.2f}{stats['p99_ms']:>9.2f}"
                f"{stats['max_ms']:>9.2f}  {verdict}"
            )
    for result in results:
        print(
            f"loading {result['database']}: {result['load_seconds']:.1f} s"
            f" (migration {result['migrate_seconds']:.1f} s)"
        )


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--tags", type=int, default=500)
    parser.add_argument("--terms", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=200, help="timed calls per operation")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help="server to create the scratch database on")
    parser.add_argument("--keep", action="store_true", help="leave the PostgreSQL database behind, to inspect it")
    parser.add_argument("--seed", type=int, default=20260317, help="same seed, same data and inputs")
    parser.add_argument(
        "--vacuum", action="store_true", help="PostgreSQL: VACUUM ANALYZE after loading, not just ANALYZE"
    )
    args = parser.parse_args(argv)
    if args.stories < 1 or args.tags < 1 or args.terms < 1 or args.repeat < 1:
        parser.error("sizes and --repeat must be positive")
    return args


async def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    databases = ("sqlite", "postgres") if args.database == "both" else (args.database,)
    results = []
    for database in databases:
        result = await run_on(database, args)
        (RESULTS_DIR / f"results-{database}.json").write_text(json.dumps(result, indent=2) + "\n")
        results.append(result)
    print_table(results)


if __name__ == "__main__":
    asyncio.run(main())
