"""Discord's markdown, as the Discord renderer writes it, shown as Discord
shows it, in HTML for the newsroom's preview.

Only what `adapters.discord.render` emits is understood: backslash escapes,
**bold**, *italic*, `code`, fenced code blocks and [text](url) links. Every
character of text is HTML-escaped, and only <strong>, <em>, <code>, <pre>
and <a> (http and https addresses only) are produced, so nothing a story
holds becomes markup in the page. A marker without its closing half is
shown as typed, as Discord shows it.
"""

from __future__ import annotations

import html

_ESCAPABLE = set("\\*_~`|>#-[]()<:.!+={}")


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.at = 0

    def starts(self, token: str) -> bool:
        return self.source.startswith(token, self.at)

    def run(self, stop: str | None = None) -> tuple[str, bool]:
        """HTML up to `stop` (consumed), and whether `stop` was found."""
        out: list[str] = []
        source = self.source
        while self.at < len(source):
            if stop is not None and self.starts(stop):
                self.at += len(stop)
                return "".join(out), True
            char = source[self.at]
            if char == "\\" and self.at + 1 < len(source) and source[self.at + 1] in _ESCAPABLE:
                out.append(_escape(source[self.at + 1]))
                self.at += 2
            elif self.starts("```"):
                out.append(self._fenced())
            elif char == "`":
                out.append(self._code())
            elif self.starts("***"):
                out.append(self._wrapped("***", "strong", "em"))
            elif self.starts("**"):
                out.append(self._wrapped("**", "strong"))
            elif char == "*":
                out.append(self._wrapped("*", "em"))
            elif char == "[":
                out.append(self._link())
            else:
                out.append(_escape(char))
                self.at += 1
        return "".join(out), False

    def _wrapped(self, marker: str, *tags: str) -> str:
        start = self.at
        self.at += len(marker)
        inner, closed = self.run(marker)
        if closed and inner:
            opened = "".join(f"<{tag}>" for tag in tags)
            return opened + inner + "".join(f"</{tag}>" for tag in reversed(tags))
        self.at = start + len(marker)  # no closing half: the marker is text
        return _escape(marker)

    def _code(self) -> str:
        end = self.source.find("`", self.at + 1)
        if end < 0:
            self.at += 1
            return "`"
        text = self.source[self.at + 1 : end]
        self.at = end + 1
        return f"<code>{_escape(text)}</code>"

    def _fenced(self) -> str:
        end = self.source.find("```", self.at + 3)
        if end < 0:
            self.at += 3
            return _escape("```")
        text = self.source[self.at + 3 : end].removeprefix("\n").removesuffix("\n")
        self.at = end + 3
        return f"<pre><code>{_escape(text)}</code></pre>"

    def _link(self) -> str:
        start = self.at
        self.at += 1
        label, closed = self.run("]")
        if closed and self.starts("("):
            end = self.source.find(")", self.at)
            url = self.source[self.at + 1 : end] if end >= 0 else ""
            if end >= 0 and url.lower().startswith(("http://", "https://")) and not any(c.isspace() for c in url):
                self.at = end + 1
                return f'<a href="{_escape(url)}" rel="noopener noreferrer" target="_blank">{label}</a>'
        if closed:
            return f"[{label}]"
        self.at = start + 1
        return "["


def discord_markdown_html(text: str) -> str:
    return _Reader(text).run()[0]
