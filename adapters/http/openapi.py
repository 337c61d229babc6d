"""The OpenAPI 3 description of what the HTTP server does, served on
`GET /api/openapi.json`. The limits are those of `content.stories.drafts` (a test
compares them with its validation model, and schemathesis checks the running
server against this document)."""

from __future__ import annotations

from typing import Any

from adapters.http.api import DEFAULT_LIMIT, MAX_BODY, MAX_LIMIT
from content.delivery.health import PlatformState
from content.delivery.status import UNDELIVERED, DeliveryStatus
from content.keys import SLUG_MAX, SLUG_PATTERN
from content.stories.drafts import SUMMARY_MAX_WORDS
from content.stories.writer import SaveOutcome

JSON = "application/json"
URL_PATTERN = r"^https?://[^\s<>\"]+$"
HAS_TEXT = r"\S"  # not blank: text is trimmed before the length is checked
HAS_ALNUM = r"[^\W_]"  # at least one letter or digit (tags and terms are matched by them)
NO_NUL = " Text must not contain NUL characters."


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


def _counts() -> dict[str, Any]:
    return _object({status: {"type": "integer", "minimum": 0} for status in DeliveryStatus})


STORY_IN = _object(
    {
        "slug": {
            "type": "string",
            "nullable": True,
            "minLength": 1,
            "maxLength": SLUG_MAX,
            "pattern": SLUG_PATTERN,
            "description": "Lowercase letters, digits and single hyphens. Default: derived from the title. "
            "A slug that exists updates that story (and pushes nothing).",
        },
        "title": _text(200, "The headline; at most 200 characters once trimmed."),
        "summary": _text(
            1000,
            f"The 30-second explainer shown in lists and pushes: at most {SUMMARY_MAX_WORDS} words "
            "(and 1000 characters).",
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
            "deliveries_queued": {"type": "integer", "minimum": 0, "description": "Pushes queued: 0 unless created."},
        }
    ),
    "Story": STORY,
    "StoryDetail": STORY_DETAIL,
    "StoryList": _object({"stories": {"type": "array", "items": _ref("Story")}}),
    "Deliveries": _object(
        {
            "slug": {"type": "string"},
            "total": {"type": "integer", "minimum": 0},
            "by_status": _counts(),
            "by_platform": {"type": "object", "additionalProperties": _counts()},
            "failures": {
                "type": "array",
                "maxItems": 100,
                "description": "Pushes that will not be sent (failed after retries, or skipped: the chat refused the bot); "
                "the oldest 100.",
                "items": _object(
                    {
                        "platform": {"type": "string"},
                        "chat_id": {"type": "string"},
                        "status": {"type": "string", "enum": [status.value for status in UNDELIVERED]},
                        "attempts": {"type": "integer", "minimum": 0},
                        "error": {"type": "string", "nullable": True},
                    }
                ),
            },
        }
    ),
    "Error": _object({"error": {"type": "string"}}),
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


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "explainer-bot",
            "version": "1",
            "description": "The newsroom bot's HTTP API: publish stories (pushed to the chats following their tags), "
            "read them back, follow their deliveries; health and metrics.",
        },
        "paths": {
            "/api/stories": {
                "post": {
                    "operationId": "publishStory",
                    "summary": "Publish a story; when it is new, push it to every chat following one of its tags",
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
                            "The slug existed: the story was updated or unchanged; nothing is pushed.",
                        ),
                        "400": _json(_ref("Error"), "Malformed JSON."),
                        "401": _json(_ref("Error"), "No bearer token, or the wrong one.", UNAUTHORIZED_HEADERS),
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
                        "503": DATABASE_AWAY,
                    },
                }
            },
            "/api/stories/{slug}/deliveries": {
                "get": {
                    "operationId": "getDeliveries",
                    "summary": "How a story's pushes are going: counts by status and platform, and the undelivered",
                    "parameters": [SLUG_PARAMETER],
                    "responses": {
                        "200": _json(_ref("Deliveries"), "The story's delivery rows, counted."),
                        "404": UNKNOWN_STORY,
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
                            "description": "explainer_commands_total, explainer_deliveries_total, "
                            "explainer_delivery_latency_seconds, explainer_delivery_queue_depth.",
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
