"""The OpenAPI 3 description of what the HTTP server does, served on
`GET /api/openapi.json`. The limits are those of `content.stories.drafts` (a test
compares them with its validation model, and schemathesis checks the running
server against this document)."""

from __future__ import annotations

from typing import Any

from adapters.http.api import DEFAULT_LIMIT, MAX_BODY, MAX_LIMIT, WITHDRAWN
from content.delivery.health import PlatformState
from content.delivery.status import NOT_SENT, DeliveryStatus, JobKind
from content.keys import SLUG_MAX, SLUG_PATTERN
from content.stories.drafts import CORRECTION_MAX, PUSH_MAX_WORDS, RETRACTION_REASON_MAX, SUMMARY_MAX_WORDS
from content.stories.writer import SaveOutcome

JSON = "application/json"
URL_PATTERN = r"^https?://[^\s<>\"]+$"
HAS_TEXT = r"\S"  # not blank: text is trimmed before the length is checked
HAS_ALNUM = r"[^\W_]"  # at least one letter or digit (tags and terms are matched by them)
NO_NUL = " Text must not contain NUL characters."
STORABLE = r"^[^\x00]*$"  # a reason holding a NUL is refused


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {JSON: {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def _object(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False, **extra}
    schema["required"] = list(properties) if required is None else required
    if not schema["required"]:
        del schema["required"]
    return schema


def _text(max_length: int, description: str, pattern: str = HAS_TEXT, **extra: Any) -> dict[str, Any]:
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": max_length,
        "pattern": pattern,
        "description": description,
        **extra,
    }


def _counts(description: str | None = None) -> dict[str, Any]:
    counts = _object({status.value: {"type": "integer", "minimum": 0} for status in DeliveryStatus})
    if description:
        counts["description"] = description
    return counts


def _moment(description: str) -> dict[str, Any]:
    return {"type": "string", "format": "date-time", "nullable": True, "description": description}


STORY_IN = _object(
    {
        "slug": {
            "type": "string",
            "nullable": True,
            "minLength": 1,
            "maxLength": SLUG_MAX,
            "pattern": SLUG_PATTERN,
            "description": "Lowercase letters, digits and single hyphens. Default: derived from the title. "
            "A slug that exists updates that story: when what a push shows changes (title, summary, "
            "category, url, tags, correction, the first glossary term's definition), the pushes already out "
            "are edited to show it.",
        },
        "title": _text(200, "The headline; at most 200 characters once trimmed."),
        "summary": _text(
            1000,
            f"The 30-second explainer shown in lists and pushes: at most {SUMMARY_MAX_WORDS} words "
            f"(and 1000 characters), and at most {PUSH_MAX_WORDS} with the first glossary term and its "
            "definition, which a push shows under it.",
        ),
        "category": _text(40, "E.g. AI, Tech."),
        "published_at": {
            "type": "string",
            "format": "date-time",
            "description": "ISO 8601 date and time; without an offset it is taken as UTC.",
        },
        "tags": {
            "type": "array",
            "minItems": 1,
            "maxItems": 10,
            "items": _text(40, "A tag as shown (e.g. Elon Musk, xAI); `#xAI`, `xai` and `XAI` are one tag.", HAS_ALNUM),
        },
        "url": {
            "type": "string",
            "nullable": True,
            "maxLength": 500,
            "pattern": URL_PATTERN,
            "description": "The full article. Default: SITE_URL/stories/<slug>.",
        },
        "terms": {
            "type": "array",
            "maxItems": 20,
            "description": "Glossary entries the story explains.",
            "items": _object(
                {
                    "term": _text(80, "The term, e.g. distillation.", HAS_ALNUM),
                    "definition": _text(400, "One sentence."),
                    "aliases": {
                        "type": "array",
                        "maxItems": 10,
                        "items": {"type": "string", "maxLength": 80, "pattern": HAS_ALNUM},
                    },
                },
                required=["term", "definition"],
            ),
        },
        "body": {
            "type": "string",
            "maxLength": 50_000,
            "description": "The full explainer in Markdown: a lead paragraph, then `##` sections.",
        },
        "correction": {
            **_text(
                CORRECTION_MAX,
                f"The newsroom's note to readers on a correction (at most {CORRECTION_MAX} characters), "
                "shown with the story in the chats and in the pushes edited to carry it.",
            ),
            "nullable": True,
        },
    },
    required=["title", "summary", "category", "published_at", "tags"],
    description="A story, as in a story file's front matter plus its Markdown `body`." + NO_NUL,
    example={
        "title": 'Musk says xAI "partly" used distillation of OpenAI models',
        "summary": "Testifying in his lawsuit against OpenAI, Elon Musk said xAI partly distilled OpenAI models to train Grok.",
        "category": "AI",
        "published_at": "2026-04-30T17:30:00Z",
        "tags": ["Elon Musk", "xAI", "OpenAI"],
        "terms": [
            {
                "term": "distillation",
                "definition": "Querying a model many times to copy its behaviour into another model.",
                "aliases": ["model distillation"],
            }
        ],
        "body": "Lead paragraph.\n\n## A section\n\nMore.",
    },
)

STORY = _object(
    {
        "slug": {"type": "string"},
        "title": {"type": "string"},
        "summary": {"type": "string"},
        "category": {"type": "string"},
        "published_at": {"type": "string", "format": "date-time"},
        "url": {"type": "string", "description": "The story's own url, or SITE_URL/stories/<slug>."},
        "tags": {"type": "array", "items": {"type": "string"}},
        "correction": {
            "type": "string",
            "nullable": True,
            "description": "The newsroom's note on its latest correction; null if none.",
        },
        "corrected_at": {
            "type": "string",
            "format": "date-time",
            "nullable": True,
            "description": "When what its pushes show last changed; null if never.",
        },
    }
)

STORY_DETAIL = _object(
    {
        **STORY["properties"],
        "body": {"type": "string"},
        "glossary": {
            "type": "array",
            "items": _object({"term": {"type": "string"}, "definition": {"type": "string"}}),
        },
    }
)

SCHEMAS: dict[str, Any] = {
    "StoryIn": STORY_IN,
    "Published": _object(
        {
            "slug": {"type": "string"},
            "outcome": {"type": "string", "enum": [outcome.value for outcome in SaveOutcome]},
            "deliveries_queued": {
                "type": "integer",
                "minimum": 0,
                "description": "Pushes queued: to every follower when created; on an update, to the followers "
                "of a tag it added while the story is young (DELIVERY_CORRECTION_PUSH_HOURS).",
            },
            "corrections_queued": {
                "type": "integer",
                "minimum": 0,
                "description": "Edits queued of pushes already out (sent, or on their way), when the update "
                "changed what a push shows; 0 when created or unchanged.",
            },
        }
    ),
    "RetractionIn": _object(
        {
            "reason": {
                "type": "string",
                "nullable": True,
                "maxLength": RETRACTION_REASON_MAX,
                "pattern": STORABLE,
                "description": f"Why, told to readers (at most {RETRACTION_REASON_MAX} characters once trimmed). "
                "Default: none.",
            }
        },
        required=[],
        description="What a retraction may say. The body may be left out altogether.",
    ),
    "Retracted": _object(
        {
            "slug": {"type": "string"},
            "outcome": {"type": "string", "enum": ["retracted"]},
            "retractions_queued": {
                "type": "integer",
                "minimum": 0,
                "description": "Deletes queued of pushes already out (where a platform keeps a message, it is "
                "edited into the withdrawal notice); 0 when the story was already withdrawn.",
            },
        }
    ),
    "Withdrawn": _object(
        {
            "error": {"type": "string", "enum": [WITHDRAWN]},
            "slug": {"type": "string"},
            "reason": {"type": "string", "nullable": True, "description": "Why, when the newsroom said."},
        }
    ),
    "Story": STORY,
    "StoryDetail": STORY_DETAIL,
    "StoryList": _object({"stories": {"type": "array", "items": _ref("Story")}}),
    "Deliveries": _object(
        {
            "slug": {"type": "string"},
            "total": {"type": "integer", "minimum": 0, "description": "The story's sends."},
            "by_status": _counts("The sends by status (cancelled: withdrawn before they went out)."),
            "by_platform": {"type": "object", "additionalProperties": _counts()},
            "failures": {
                "type": "array",
                "maxItems": 100,
                "description": "Sends, edits and deletes that will not be done (failed after retries, or skipped: "
                "the chat refused the bot, or the reader had deleted the message); the oldest 100.",
                "items": _object(
                    {
                        "platform": {"type": "string"},
                        "chat_id": {"type": "string"},
                        "status": {"type": "string", "enum": [status.value for status in NOT_SENT]},
                        "attempts": {"type": "integer", "minimum": 0},
                        "error": {"type": "string", "nullable": True},
                        "kind": {"type": "string", "enum": [kind.value for kind in JobKind]},
                        "thread_id": {
                            "type": "string",
                            "nullable": True,
                            "description": "The topic or thread within the chat; null for the chat itself. "
                            "A topic or thread that was deleted or closed stops getting pushes alone.",
                        },
                    }
                ),
            },
            "notes": {
                "type": "array",
                "maxItems": 100,
                "description": "Pushes that went out with something otherwise than asked, not failures "
                "(an announcement not republished past Discord's hourly limit); the oldest 100.",
                "items": _object(
                    {
                        "platform": {"type": "string"},
                        "chat_id": {"type": "string"},
                        "thread_id": {"type": "string", "nullable": True},
                        "note": {"type": "string"},
                    }
                ),
            },
            "corrections": _counts("The edits the story's corrections queued, by status."),
            "retractions": _counts("The deletes its retraction queued, by status."),
            "corrected_at": _moment("When what its pushes show last changed; null if never."),
            "retracted_at": _moment("When the newsroom withdrew it; null while it stands."),
        }
    ),
    "Error": _object({"error": {"type": "string"}}),
    "FeedIn": _object(
        {
            "url": {"type": "string", "maxLength": 2000, "description": "An http or https URL of an RSS or Atom feed."},
            "tags": {
                "type": "array",
                "maxItems": 10,
                "items": {"type": "string", "minLength": 1, "maxLength": 64},
                "description": "Tags for every item, besides its own categories.",
            },
            "category": {"type": "string", "minLength": 1, "maxLength": 40},
        },
        required=["url"],
    ),
    "Feed": _object(
        {
            "id": {"type": "integer"},
            "url": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "category": {"type": "string", "nullable": True},
            "last_fetch_at": {"type": "string", "format": "date-time", "nullable": True},
            "last_error": {"type": "string", "nullable": True},
            "failures": {"type": "integer", "minimum": 0},
            "paused": {"type": "boolean"},
            "next_poll_at": {"type": "string", "format": "date-time"},
            "item_count": {"type": "integer", "minimum": 0},
            "items_imported": {"type": "integer", "minimum": 0},
            "polled": {"type": "boolean"},
            "changed": {"type": "boolean"},
            "created": {"type": "integer"},
            "updated": {"type": "integer"},
            "pushes_queued": {"type": "integer"},
            "problem": {"type": "string", "nullable": True},
        },
        required=[
            "id",
            "url",
            "tags",
            "category",
            "last_fetch_at",
            "last_error",
            "failures",
            "paused",
            "next_poll_at",
            "item_count",
        ],
    ),
    "Feeds": _object({"feeds": {"type": "array", "items": _ref("Feed")}}),
    "InvalidField": _object(
        {
            "error": {"type": "string"},
            "field": {
                "type": "string",
                "description": "e.g. title, tags[2], terms[0].definition, limit; `story` for the whole body",
            },
            "problem": {"type": "string"},
        }
    ),
    "UnknownTag": _object({"error": {"type": "string"}, "tag": {"type": "string"}}),
    "UnknownStory": _object({"error": {"type": "string"}, "slug": {"type": "string"}}),
    "Health": _object(
        {
            "status": {"type": "string", "enum": ["ok", "unavailable"]},
            "database": {"type": "string", "enum": ["ok", "down"]},
            "adapters": {
                "type": "object",
                "additionalProperties": {"type": "string", "enum": [state.value for state in PlatformState]},
                "description": "Each chat platform: ok; degraded (it stopped answering and pushes wait for it); "
                "connecting (not connected yet, or again). Present when the runtime reports adapters.",
            },
            "degraded": {
                "type": "object",
                "additionalProperties": _object(
                    {
                        "since": {"type": ["string", "null"], "format": "date-time"},
                        "last_error": {"type": ["string", "null"]},
                    }
                ),
                "description": "For each degraded platform: since when, and the last error.",
            },
        },
        required=["status", "database"],
    ),
}

DATABASE_AWAY = _json(
    _ref("Error"),
    "The database is unavailable for a moment: nothing was written; the same request succeeds once it is back.",
    {"Retry-After": {"schema": {"type": "string"}, "required": True}},
)

SLUG_PARAMETER = {
    "name": "slug",
    "in": "path",
    "required": True,
    "example": "musk-xai-distillation-testimony",
    "schema": {"type": "string", "maxLength": SLUG_MAX, "pattern": SLUG_PATTERN},
    "description": "A story's slug; anything else is answered 404 like an unknown slug.",
}
UNKNOWN_STORY = _json(_ref("UnknownStory"), "No story has this slug.")
UNAUTHORIZED_HEADERS = {
    "WWW-Authenticate": {"description": 'Bearer realm="explainer-bot"', "required": True, "schema": {"type": "string"}}
}
UNAUTHORIZED = _json(_ref("Error"), "No bearer token, or the wrong one.", UNAUTHORIZED_HEADERS)
NO_TOKEN_SET = _json(_ref("Error"), "Refused: API_TOKEN is not set on the server.")
TOKEN_ROUTES = (
    "POST /api/stories, DELETE /api/stories/{slug}, GET /api/stories/{slug}/deliveries, "
    "POST /api/feeds, GET /api/feeds, DELETE /api/feeds/{id} and POST /api/feeds/{id}/poll"
)
FEED_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
NO_FEED = _json(_ref("Error"), "No feed has this id.")


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "explainer-bot",
            "version": "1",
            "description": "The newsroom bot's HTTP API: publish stories (pushed to the chats following their tags), "
            "correct them (the pushes already out are edited) and retract them (the pushes are taken down), read "
            "them back, follow their deliveries; health and metrics. "
            f"The newsroom's routes need the bearer token API_TOKEN: {TOKEN_ROUTES} (a delivery report's "
            "failures name the chats, by their platform's chat id, that the story went to). The other routes "
            "are open: the stories as readers see them, this document, /healthz, and /metrics, whose series "
            "count by platform, kind and outcome and hold no chat ids.",
        },
        "paths": {
            "/api/stories": {
                "post": {
                    "operationId": "publishStory",
                    "summary": "Publish a story; when it is new, push it to every chat following one of its tags; "
                    "when it corrects one, edit the pushes already out",
                    "security": [{"bearer": []}],
                    "requestBody": {
                        "required": True,
                        "description": f"At most {MAX_BODY} bytes (1 MiB).",
                        "content": {JSON: {"schema": _ref("StoryIn")}},
                    },
                    "responses": {
                        "201": _json(
                            _ref("Published"),
                            "Created; its pushes are queued.",
                            {"Location": {"schema": {"type": "string"}, "required": True}},
                        ),
                        "200": _json(
                            _ref("Published"),
                            "The slug existed: the story was updated (the pushes already out are queued for an edit "
                            "when what a push shows changed) or unchanged (nothing queued).",
                        ),
                        "400": _json(_ref("Error"), "Malformed JSON."),
                        "401": UNAUTHORIZED,
                        "403": _json(_ref("Error"), "Publishing is disabled: API_TOKEN is not set on the server."),
                        "413": _json(_ref("Error"), "The body is larger than 1 MiB."),
                        "422": _json(_ref("InvalidField"), "The JSON breaks the story schema; `field` names where."),
                        "503": DATABASE_AWAY,
                    },
                },
                "get": {
                    "operationId": "listStories",
                    "summary": "The newest stories, optionally on one tag",
                    "parameters": [
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
                        },
                        {
                            "name": "tag",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string"},
                            "description": "A tag in any spelling: `xAI`, `#xai`, `Elon Musk`, `ElonMusk`.",
                        },
                    ],
                    "responses": {
                        "200": _json(_ref("StoryList"), "Newest first."),
                        "404": _json(_ref("UnknownTag"), "No such tag."),
                        "422": _json(_ref("InvalidField"), "A bad `limit`."),
                        "503": DATABASE_AWAY,
                    },
                },
            },
            "/api/stories/{slug}": {
                "get": {
                    "operationId": "getStory",
                    "summary": "One story with its body, tags and glossary",
                    "parameters": [SLUG_PARAMETER],
                    "responses": {
                        "200": _json(_ref("StoryDetail"), "The story."),
                        "404": UNKNOWN_STORY,
                        "410": _json(
                            _ref("Withdrawn"), "The newsroom withdrew the story; `reason` says why, if it said."
                        ),
                        "503": DATABASE_AWAY,
                    },
                },
                "delete": {
                    "operationId": "retractStory",
                    "summary": "Retract a story: withdraw it from every read, cancel its pushes not yet sent, "
                    "and take down those already out",
                    "security": [{"bearer": []}],
                    "parameters": [SLUG_PARAMETER],
                    "requestBody": {
                        "required": False,
                        "description": "Optional: the reason, told to readers where a push cannot be deleted.",
                        "content": {JSON: {"schema": _ref("RetractionIn")}},
                    },
                    "responses": {
                        "200": _json(
                            _ref("Retracted"),
                            "Withdrawn, its deletes queued; a story already withdrawn answers the same with 0.",
                        ),
                        "400": _json(_ref("Error"), "Malformed JSON."),
                        "401": UNAUTHORIZED,
                        "403": NO_TOKEN_SET,
                        "404": UNKNOWN_STORY,
                        "413": _json(_ref("Error"), "The body is larger than 1 MiB."),
                        "422": _json(_ref("InvalidField"), "A bad `reason`, or an unknown key; `field` names it."),
                        "503": DATABASE_AWAY,
                    },
                },
            },
            "/api/stories/{slug}/deliveries": {
                "get": {
                    "operationId": "getDeliveries",
                    "summary": "How a story's pushes are going: counts by status and platform, its corrections' "
                    "edits and its retraction's deletes, and the undelivered",
                    "description": "Needs the token: the undelivered are listed by chat id. A withdrawn story "
                    "still has its report.",
                    "security": [{"bearer": []}],
                    "parameters": [SLUG_PARAMETER],
                    "responses": {
                        "200": _json(_ref("Deliveries"), "The story's delivery rows, counted."),
                        "401": UNAUTHORIZED,
                        "403": NO_TOKEN_SET,
                        "404": UNKNOWN_STORY,
                        "503": DATABASE_AWAY,
                    },
                }
            },
            "/api/feeds": {
                "post": {
                    "operationId": "addFeed",
                    "summary": "Add an RSS or Atom feed: fetched once to prove it is one, its items imported "
                    "without pushes; new items later are published and pushed",
                    "security": [{"bearer": []}],
                    "requestBody": {"required": True, "content": {JSON: {"schema": _ref("FeedIn")}}},
                    "responses": {
                        "201": _json(
                            _ref("Feed"),
                            "Kept; `items_imported` stories came with it.",
                            {"Location": {"schema": {"type": "string"}, "required": True}},
                        ),
                        "400": _json(_ref("Error"), "Malformed JSON."),
                        "401": UNAUTHORIZED,
                        "403": NO_TOKEN_SET,
                        "409": _json({"type": "object"}, "A feed with this URL is kept already."),
                        "413": _json(_ref("Error"), "Body too large."),
                        "422": _json(
                            _ref("InvalidField"),
                            "A bad field; for `url`, also: not reachable, not a feed, too large, a private address.",
                        ),
                        "503": DATABASE_AWAY,
                    },
                },
                "get": {
                    "operationId": "listFeeds",
                    "summary": "The feeds, each with its last fetch, last error, item count and next poll",
                    "security": [{"bearer": []}],
                    "responses": {
                        "200": _json(_ref("Feeds"), "The feeds, oldest first."),
                        "401": UNAUTHORIZED,
                        "403": NO_TOKEN_SET,
                        "503": DATABASE_AWAY,
                    },
                },
            },
            "/api/feeds/{id}": {
                "delete": {
                    "operationId": "removeFeed",
                    "summary": "Stop polling a feed; the stories it brought stay",
                    "security": [{"bearer": []}],
                    "parameters": [FEED_ID],
                    "responses": {
                        "200": _json({"type": "object"}, "Removed."),
                        "401": UNAUTHORIZED,
                        "403": NO_TOKEN_SET,
                        "404": NO_FEED,
                        "503": DATABASE_AWAY,
                    },
                }
            },
            "/api/feeds/{id}/poll": {
                "post": {
                    "operationId": "pollFeed",
                    "summary": "Poll a feed now (a paused one resumes)",
                    "security": [{"bearer": []}],
                    "parameters": [FEED_ID],
                    "responses": {
                        "200": _json(_ref("Feed"), "Polled: what changed, or the problem."),
                        "401": UNAUTHORIZED,
                        "403": NO_TOKEN_SET,
                        "404": NO_FEED,
                        "503": DATABASE_AWAY,
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {"200": _json({"type": "object"}, "OpenAPI 3.")},
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "summary": "Database reachable and chat platforms connected",
                    "responses": {
                        "200": _json(_ref("Health"), "All up."),
                        "503": _json(_ref("Health"), "The database or an adapter is down."),
                    },
                }
            },
            "/metrics": {
                "get": {
                    "operationId": "metrics",
                    "summary": "Prometheus metrics (text format; OpenMetrics when the Accept header asks for it)",
                    "responses": {
                        "200": {
                            "description": "explainer_commands_total, explainer_deliveries_total (pushes sent), "
                            "explainer_delivery_changes_total (their edits and deletes), "
                            "explainer_delivery_latency_seconds, explainer_delivery_queue_depth, "
                            "explainer_platform_breaker_open, explainer_platform_last_sent_timestamp_seconds: "
                            "by platform and outcome, never by chat.",
                            "content": {
                                "text/plain": {"schema": {"type": "string"}},
                                "application/openmetrics-text": {"schema": {"type": "string"}},
                            },
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "API_TOKEN, as `Authorization: Bearer <API_TOKEN>`.",
                }
            },
        },
    }
