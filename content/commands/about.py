"""/about: who publishes the stories, what they are, and where to read more."""

from __future__ import annotations

from urllib.parse import urlsplit

from content.commands.spec import Request, Services
from content.keys import hashtag
from content.messages import Card, Message, Reply, Span, para
from content.replies.text import answer, day


async def about(services: Services, request: Request) -> Reply:
    newsroom = services.newsroom
    blocks = [para(newsroom.about)]
    newest = await services.catalog.latest(1)
    tags = [tag for tag in (await services.catalog.keys()).tags.values() if tag.story_count]
    if newest:
        story = newest[0]
        blocks.append(
            para(
                "Newest: ",
                Span(story.title, bold=True),
                f" ({day(story.published_at)}) ",
                Span(f"/story {story.slug}", code=True),
            )
        )
    if tags:
        busiest = sorted(tags, key=lambda tag: (-tag.story_count, tag.name))[:3]
        blocks.append(
            para(
                f"{len(tags)} tags to follow, the busiest {', '.join(hashtag(t.name) for t in busiest)}: ",
                Span("/tags", code=True),
                " lists them.",
            )
        )
    site = urlsplit(newsroom.site_url).hostname or newsroom.site_url
    blocks.append(para("Everything in full at ", Span(site, url=newsroom.site_url), "."))
    return answer(Message((Card(title=newsroom.name, url=newsroom.site_url, blocks=tuple(blocks), accent="newsroom"),)))
