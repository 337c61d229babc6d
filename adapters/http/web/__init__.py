"""The newsroom page: server-rendered, on the bot's own HTTP server."""
