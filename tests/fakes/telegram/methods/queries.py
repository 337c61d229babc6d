"""Answers to callback and inline queries: answerCallbackQuery and answerInlineQuery,
each accepted once and only while the query is fresh, and the checks on inline query
results (unique ids, message texts and keyboards Telegram would send)."""

from __future__ import annotations

from typing import Any

from ..constants import MAX_CALLBACK_ANSWER, MAX_INLINE_RESULTS
from ..errors import bad_request
from ..html import parse_text
from ..keyboards import check_reply_markup


class QueryMethodsMixin:
    """FakeTelegram's answerCallbackQuery and answerInlineQuery."""

    # ----- methods: queries --------------------------------------------------------------------------
    async def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        text = params.get("text")
        if isinstance(text, str) and len(text) > MAX_CALLBACK_ANSWER:
            raise bad_request("MESSAGE_TOO_LONG")
        query_id = str(params.get("callback_query_id", ""))
        self._close_query(query_id)
        self.answered_callbacks[query_id] = params
        return True

    async def _answer_inline_query(self, params: dict[str, Any]) -> bool:
        results = params.get("results")
        if not isinstance(results, list):
            raise bad_request("can't parse inline query results JSON object")
        if len(results) > MAX_INLINE_RESULTS:
            raise bad_request("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            _check_inline_result(result, seen)
        query_id = str(params.get("inline_query_id", ""))
        self._close_query(query_id)
        self.inline_answers[query_id] = params
        return True


def _check_inline_result(result: Any, seen: set[str]) -> None:
    """One answerInlineQuery result: a unique id, and a message Telegram would send."""
    if not isinstance(result, dict) or not isinstance(result.get("type"), str):
        raise bad_request("can't parse inline query result JSON object")
    result_id = result.get("id")
    if not isinstance(result_id, str) or not 1 <= len(result_id.encode("utf-8")) <= 64:
        raise bad_request("RESULT_ID_INVALID")
    if result_id in seen:
        raise bad_request("RESULT_ID_DUPLICATE")
    seen.add(result_id)
    content = result.get("input_message_content")
    if isinstance(content, dict) and "message_text" in content:
        parse_text(content["message_text"], content.get("parse_mode"), content.get("entities"))
    check_reply_markup(result.get("reply_markup"), inline_only=True)
