"""Stories: drafts and their validation, the writer, the catalog (reads), search, Markdown, views."""
