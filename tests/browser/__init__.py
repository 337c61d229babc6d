"""Browser tests of the newsroom page: Playwright driving Debian's Chromium."""
