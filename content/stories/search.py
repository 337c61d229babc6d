"""Full-text search over headline, summary and body, best match first.

SQLite uses the FTS5 index (bm25, the headline weighted most); PostgreSQL the
weighted tsvector with a GIN index. What the user typed never reaches either
query language as syntax: it is cut into words first, and only words go in.
"""

from __future__ import annotations

import re

from sqlalchemy import text

from content.db import SessionFactory
from content.dialect import is_postgres

MAX_WORDS = 8
_WORD = re.compile(r"\w+", re.UNICODE)

# Ranking costs time for every matching story (bm25 on SQLite; on PostgreSQL
# reading each tsvector back), and a common word ("model") matches most of
# the archive: the best match is picked among the RANK_WINDOW most recently
# added matches, which for a news archive is also what a reader wants. The
# window is a literal, not a parameter, so PostgreSQL plans for the real limit.
RANK_WINDOW = 100

_SQLITE = text(
    "SELECT rowid FROM ("
    " SELECT rowid, bm25(story_search, 10.0, 4.0, 1.0) AS score FROM story_search"
    f" WHERE story_search MATCH :query ORDER BY rowid DESC LIMIT {RANK_WINDOW}"
    ") ORDER BY score, rowid DESC LIMIT :limit"
)
# The window is chosen without touching a vector; only its rows are joined
# back to their vectors and ranked. `story_id + 0` keeps the planner from
# walking the primary key backwards and testing every row's vector, which it
# would otherwise pick for a word it cannot estimate (a miss: 100k rows read);
# with sequential scans off for the query, the GIN index answers it.
_POSTGRES = text(
    "SELECT recent.story_id FROM ("
    " SELECT story_id FROM story_search WHERE search_vector @@ to_tsquery('english', :query)"
    f" ORDER BY story_id + 0 DESC LIMIT {RANK_WINDOW}"
    ") AS recent JOIN story_search AS s ON s.story_id = recent.story_id "
    "ORDER BY ts_rank_cd(s.search_vector, to_tsquery('english', :query)) DESC, recent.story_id DESC "
    "LIMIT :limit"
)


def words(query: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(query)][:MAX_WORDS]


class Search:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def story_ids(self, query: str, limit: int = 5) -> list[int]:
        """Stories holding every word; failing that, any of them."""
        found = words(query)
        if not found:
            return []
        async with self._sessions() as session:
            postgres = is_postgres(session)
            statement = _POSTGRES if postgres else _SQLITE
            joins = (" & ", " | ") if postgres else (" AND ", " OR ")
            quote = (lambda w: w) if postgres else (lambda w: f'"{w}"')
            if postgres:
                # The search table is small, so the planner would rather scan it
                # than use the GIN index, not knowing that testing a row means
                # reading its vector out of line.
                await session.execute(text("SET LOCAL enable_seqscan = off"))
            for joiner in joins[: 2 if len(found) > 1 else 1]:
                expression = joiner.join(quote(w) for w in found)
                ids = list((await session.execute(statement, {"query": expression, "limit": limit})).scalars())
                if ids:
                    return ids
        return []
