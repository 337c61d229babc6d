"""Feed ingestion: fetching RSS/Atom over HTTP (the entries go on to `content.stories.ingest`)."""

from adapters.feeds.fetch import FeedFetcher, FeedFetchError, Fetched

__all__ = ["FeedFetchError", "FeedFetcher", "Fetched"]
